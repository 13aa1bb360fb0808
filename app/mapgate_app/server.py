"""The HTTP side: who answered, health, and a graceful drain on SIGTERM."""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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

    def describe(self, handler: BaseHTTPRequestHandler) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "role": self.role(),
            "service": self.service,
            "request": {"method": handler.command, "path": handler.path},
        }
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


def make_handler(state: AppState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "mapgate"

        def do_GET(self) -> None:
            self._answer(with_body=True)

        def do_HEAD(self) -> None:
            self._answer(with_body=False)

        def _answer(self, *, with_body: bool) -> None:
            path = self.path.split("?", 1)[0]
            body: dict[str, Any]
            if path == "/healthz":
                draining = state.draining.is_set()
                status, body = (503, {"status": "draining"}) if draining else (200, {"status": "ok"})
            else:
                status, body = 200, state.describe(self)
                if path == "/" and state.upstream_url:
                    body["upstream"] = fetch_upstream(state.upstream_url)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
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
