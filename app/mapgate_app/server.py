"""The HTTP side: who answered, health, `/leader` and `/follower` by the lease, and a graceful drain on SIGTERM."""

from __future__ import annotations

import json
import logging
import random
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from mapgate_app import routing
from mapgate_app.election import View
from mapgate_app.identity import Identity

log = logging.getLogger("mapgate.server")


@dataclass
class AppState:
    identity: Identity
    service: str
    role: Callable[[], str] = lambda: "unknown"
    upstream_url: str | None = None
    # Task id, private IP, AZ and request headers are handy in dev and none of the internet's business in prod.
    expose_task_info: bool = True
    draining: threading.Event = field(default_factory=threading.Event)
    election: Callable[[], View] | None = None
    """The elector's view, on tasks that elect: `/leader` and `/follower` then follow the lease."""
    forward_timeout: float = 3.0
    rng: random.Random = field(default_factory=random.Random)
    # More for `GET /`: what the peers answered (mapgate_app.peers), when the stack gave this task any.
    extras: Callable[[], dict[str, Any]] | None = None

    def describe(self, handler: BaseHTTPRequestHandler, view: View | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "role": view.role if view else self.role(),
            "service": self.service,
            "request": {"method": handler.command, "path": handler.path},
        }
        if view is not None:
            # Which task answered, as what, under which term: enough to see the lease at work, nothing internal.
            answer |= {"term": view.term, "answeredBy": self.identity.task_id}
        if self.expose_task_info:
            answer |= {
                "task": self.identity.task_id,
                "availabilityZone": self.identity.availability_zone,
                "privateIp": self.identity.private_ip,
            }
            answer["request"]["headers"] = dict(handler.headers.items())
        return answer


def fetch_upstream(url: str, timeout: float = 2.0) -> dict[str, Any]:
    """Call another service by its Cloud Map DNS name, to show service-to-service discovery."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return {"url": url, "status": response.status, "body": json.load(response)}
    except (urllib.error.URLError, OSError, ValueError) as error:
        return {"url": url, "error": str(error)}


def elected_answer(
    state: AppState, handler: BaseHTTPRequestHandler, path: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Serve the role, forward once to the task that holds it, or say 503 with when to retry."""
    assert state.election is not None
    view = state.election()
    forwarded_by = handler.headers.get(routing.FORWARDED_HEADER)
    decision = routing.decide(path, view, forwarded=forwarded_by is not None, rng=state.rng)
    if decision.kind == "serve":
        body = state.describe(handler, view)
        if forwarded_by:
            body["forwardedBy"] = forwarded_by
        return 200, body, {}
    if decision.kind == "forward" and decision.target:
        request = urllib.request.Request(
            f"http://{decision.target}{handler.path}", headers={routing.FORWARDED_HEADER: state.identity.task_id}
        )
        try:
            with urllib.request.urlopen(request, timeout=state.forward_timeout) as response:
                return response.status, json.load(response), {}
        except (urllib.error.URLError, OSError, ValueError) as error:  # HTTPError too: the target said no
            log.info("forwarding %s to %s failed: %s", path, decision.target, error)
    wanted = "leader" if path == routing.LEADER_PATH else "follower"
    body = state.describe(handler, view) | {"error": f"no {wanted} can answer right now; retry shortly"}
    return 503, body, {"Retry-After": "2"}


def make_handler(state: AppState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "mapgate"
        # Headers and body leave in two writes: with Nagle's algorithm on, a keep-alive client's delayed ACK holds
        # the body back about 40 ms (bench/election_latency.py measured p50 44 ms on loopback before this).
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._answer(with_body=True)

        def do_HEAD(self) -> None:
            self._answer(with_body=False)

        def _answer(self, *, with_body: bool) -> None:
            path = self.path.split("?", 1)[0]
            body: dict[str, Any]
            extra_headers: dict[str, str] = {}
            if path == "/healthz":
                draining = state.draining.is_set()
                status, body = (503, {"status": "draining"}) if draining else (200, {"status": "ok"})
            elif path in routing.ELECTED_PATHS and state.election is not None:
                status, body, headers = elected_answer(state, self, path)
                extra_headers.update(headers)
            else:
                status, body = 200, state.describe(self)
                if path == "/" and state.upstream_url:
                    body["upstream"] = fetch_upstream(state.upstream_url)
                if path == "/" and state.extras is not None:
                    body |= state.extras()
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in extra_headers.items():
                self.send_header(name, value)
            self.end_headers()
            if with_body:
                self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s %s", self.address_string(), format % args)

    return Handler


class Server(ThreadingHTTPServer):
    # Non-daemon request threads: server_close() waits for in-flight requests before the process exits.
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True


def serve(state: AppState, host: str, port: int) -> Server:
    return Server((host, port), make_handler(state))


def drain(
    state: AppState, server: Server, *, step_down: Callable[[], None] | None, delay: float, wait: Callable[[float], Any]
) -> None:
    """SIGTERM: report unhealthy, give up leadership, let in-flight requests finish, stop accepting."""
    state.draining.set()
    if step_down is not None:
        try:
            step_down()
        except Exception:
            log.exception("could not step down; ECS deregistration will remove this task instead")
    wait(delay)  # callers that already resolved us keep being served for a moment
    server.shutdown()
