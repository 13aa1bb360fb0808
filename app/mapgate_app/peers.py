"""What `GET /` adds from the peers the stack lets this task call: worker spread over gRPC, cache counter by SRV.

The sample treats every gRPC peer as a mapgate worker (`worker.proto`) and every SRV peer as a
Redis-protocol cache; the stack passes both lists (MAPGATE_GRPC_PEERS, MAPGATE_SRV_PEERS).
"""

from __future__ import annotations

from typing import Any

from mapgate_app.cache import Cache
from mapgate_app.grpc_client import WorkerClient
from mapgate_app.settings import Settings

# What `GET /` leaves out when task info is off: DNS names and private addresses inside the VPC.
INTERNAL = frozenset({"target", "srv", "at"})


class Peers:
    def __init__(self, settings: Settings):
        self._calls = settings.worker_calls
        self._expose = settings.expose_task_info
        self.workers = {
            name: WorkerClient(target, timing=settings.grpc, dns_server=settings.dns_server)
            for name, target in settings.grpc_peers.items()
        }
        self.caches = {name: Cache(srv, dns_server=settings.dns_server) for name, srv in settings.srv_peers.items()}

    def __bool__(self) -> bool:
        return bool(self.workers or self.caches)

    def describe(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            name: client.spread(self._calls, expose=self._expose) for name, client in self.workers.items()
        }
        answer |= {name: cache.describe() for name, cache in self.caches.items()}
        if not self._expose:  # with task info off (prod), no internal names or addresses either
            answer = {name: {k: v for k, v in peer.items() if k not in INTERNAL} for name, peer in answer.items()}
        return {"peers": answer}

    def close(self) -> None:
        for client in self.workers.values():
            client.close()
        for cache in self.caches.values():
            cache.close()
