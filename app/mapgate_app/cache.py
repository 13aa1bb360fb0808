"""The app's Redis-protocol cache, found the way the cache registers itself: a DNS SRV record.

`cache.<namespace>` SRV -> `<task id>.cache.<namespace>:<port>` (Cloud Map also creates the A record of that
target), then dial it. The counter lives in the cache task, not in the app tasks: every app task sees one count.
It lives only as long as that task does (see the README: the cache is ephemeral on Fargate).
"""

from __future__ import annotations

import random
import threading
from typing import Any

import dns.exception
import dns.resolver
import redis

TIMEOUT_SECONDS = 2.0
COUNTER_KEY = "mapgate:hits"


class CacheNotFound(LookupError):
    """The SRV lookup found no cache: no record, no answer, or no DNS server in time."""


def resolver(dns_server: str | None, timeout: float = TIMEOUT_SECONDS) -> dns.resolver.Resolver:
    """The system's resolver (the VPC's, on ECS), or one DNS server (`host:port`); never waits past `timeout`."""
    if dns_server is None:
        found = dns.resolver.Resolver()
    else:
        host, _, port = dns_server.rpartition(":")
        found = dns.resolver.Resolver(configure=False)
        found.nameservers = [host]
        found.port = int(port)
    found.lifetime = timeout
    return found


def locate(name: str, ask: dns.resolver.Resolver) -> tuple[str, int]:
    """The address and port of one cache task, from the SRV record `name` and its target's A record."""
    try:
        records = list(ask.resolve(name, "SRV"))
        best = min(record.priority for record in records)
        chosen = random.choice([record for record in records if record.priority == best])
        target = chosen.target.to_text()
        address = ask.resolve(target, "A")[0].to_text()
    except dns.resolver.NXDOMAIN as error:
        raise CacheNotFound(f"no SRV record {name}: is the cache service deployed and healthy?") from error
    except dns.resolver.NoAnswer as error:
        raise CacheNotFound(f"{name} has no SRV record (does the service register SRV?)") from error
    except dns.exception.Timeout as error:
        raise CacheNotFound(f"no DNS answer for {name} within {ask.lifetime:g} s") from error
    except dns.exception.DNSException as error:
        raise CacheNotFound(f"SRV lookup of {name} failed: {error}") from error
    return address, int(chosen.port)


class Cache:
    """INCR on the cache found by SRV; one connection pool per cache task it has found."""

    def __init__(self, name: str, *, dns_server: str | None = None, timeout: float = TIMEOUT_SECONDS):
        self.name = name
        self._ask = resolver(dns_server, timeout)
        self._timeout = timeout
        self._clients: dict[tuple[str, int], redis.Redis] = {}
        self._lock = threading.Lock()

    def _client(self, address: tuple[str, int]) -> redis.Redis:
        with self._lock:
            if address not in self._clients:
                self._clients[address] = redis.Redis(
                    host=address[0],
                    port=address[1],
                    socket_timeout=self._timeout,
                    socket_connect_timeout=self._timeout,
                )
            return self._clients[address]

    def incr(self) -> dict[str, Any]:
        """Count one more visit; found again on every call, so a replaced cache task is picked up at once."""
        address = locate(self.name, self._ask)
        value = self._client(address).incr(COUNTER_KEY)
        assert isinstance(value, int)  # the sync client: redis-py types it as sync-or-async
        return {"srv": self.name, "at": f"{address[0]}:{address[1]}", "counter": value}

    def describe(self) -> dict[str, Any]:
        """What `GET /` shows: the counter, or why there is none (never an exception)."""
        try:
            return self.incr()
        except CacheNotFound as error:
            return {"srv": self.name, "error": str(error)}
        except redis.RedisError as error:
            return {"srv": self.name, "error": f"cache did not answer: {error}"}

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
