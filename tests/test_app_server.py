"""The sample service for real: HTTP on loopback, its health-check command, and a SIGTERM drain."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mapgate_app.election import View
from mapgate_app.identity import Identity, from_task_metadata
from mapgate_app.server import AppState, Server, serve
from tests.harness import ROOT, StackRun, containers, environment

WAIT = 10.0  # upper bound for anything to happen; tests never depend on how fast it does


def get(url: str, timeout: float = WAIT) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@contextmanager
def running(state: AppState) -> Iterator[Server]:
    server = serve(state, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(WAIT)


def base(server: Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


ME = Identity(
    task_id="0123456789abcdef0123456789abcdef", private_ip="10.0.0.5", availability_zone="us-east-1a", region=None
)


@pytest.mark.parametrize("path", ["/", "/leader", "/follower"])
def test_every_routed_path_says_who_answered(path: str) -> None:
    state = AppState(identity=ME, service="app", role=lambda: "leader")
    with running(state) as server:
        status, body = get(f"{base(server)}{path}?x=1")
    assert status == 200
    assert body["task"] == ME.task_id
    assert (body["role"], body["availabilityZone"], body["privateIp"], body["service"]) == (
        "leader",
        "us-east-1a",
        "10.0.0.5",
        "app",
    )
    assert body["request"]["method"] == "GET"
    assert body["request"]["path"] == f"{path}?x=1"
    assert body["request"]["headers"]["Host"].startswith("127.0.0.1:")


def test_with_task_info_off_the_answer_names_no_internals() -> None:
    state = AppState(identity=ME, service="app", role=lambda: "follower", expose_task_info=False)
    with running(state) as server:
        status, body = get(f"{base(server)}/follower")
    assert status == 200
    assert body == {"role": "follower", "service": "app", "request": {"method": "GET", "path": "/follower"}}


def test_the_prod_worker_hides_its_internals(prod_run: StackRun) -> None:
    """The app as the prod task definition configures it: no task id, IP, AZ or headers on a public API."""
    port = free_port()
    stack_env = environment(prod_run, "worker")
    assert stack_env["MAPGATE_EXPOSE_TASK_INFO"] == "false"
    env = {**os.environ, **stack_env, "PYTHONPATH": str(ROOT / "app"), "MAPGATE_PORT": str(port)}
    env |= {"MAPGATE_HOST": "127.0.0.1", "MAPGATE_DRAIN_SECONDS": "0"}
    env.pop("ECS_CONTAINER_METADATA_URI_V4", None)
    process = subprocess.Popen([sys.executable, "-m", "mapgate_app"], env=env, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: healthy(f"http://127.0.0.1:{port}"), "the worker to start")
        status, body = get(f"http://127.0.0.1:{port}/")
        assert status == 200
        assert set(body) == {"role", "service", "request"}
        assert "headers" not in body["request"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(WAIT) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(WAIT)


def test_healthz_turns_503_while_draining() -> None:
    state = AppState(identity=ME, service="app")
    with running(state) as server:
        assert get(f"{base(server)}/healthz") == (200, {"status": "ok"})
        state.draining.set()
        assert get(f"{base(server)}/healthz") == (503, {"status": "draining"})


def test_head_has_no_body() -> None:
    with running(AppState(identity=ME, service="app")) as server:
        request = urllib.request.Request(f"{base(server)}/", method="HEAD")
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            assert response.status == 200
            assert response.read() == b""


def answering(payload: bytes, before: Callable[[], object]) -> type[BaseHTTPRequestHandler]:
    """An upstream handler that runs `before` (to hold the request) and then answers `payload`."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            before()
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def upstream(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_requests_are_served_concurrently() -> None:
    """Each request to / waits in the upstream until all of them are there: only a concurrent server passes."""
    parties = 8
    barrier = threading.Barrier(parties, timeout=WAIT)
    with (
        upstream(answering(b'{"ok": true}', before=barrier.wait)) as url,
        running(AppState(identity=ME, service="app", upstream_url=url)) as server,
        ThreadPoolExecutor(parties) as pool,
    ):
        answers = list(pool.map(lambda _: get(f"{base(server)}/"), range(parties)))
    assert [status for status, _ in answers] == [200] * parties
    assert all(body["upstream"] == {"url": url, "status": 200, "body": {"ok": True}} for _, body in answers)


def test_upstream_failure_is_reported_not_raised() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/"  # bound, never listening: connection refused
        with running(AppState(identity=ME, service="app", upstream_url=dead)) as server:
            status, body = get(f"{base(server)}/")
    assert status == 200
    assert body["upstream"]["url"] == dead
    assert "error" in body["upstream"]


def test_identity_comes_from_task_metadata_v4() -> None:
    task = {
        "TaskARN": "arn:aws:ecs:us-east-1:123456789012:task/mapgate-dev/0123456789abcdef0123456789abcdef",
        "AvailabilityZone": "us-east-1b",
        "Containers": [{"Networks": [{"NetworkMode": "awsvpc", "IPv4Addresses": ["10.0.64.12"]}]}],
    }
    assert from_task_metadata(task) == Identity(
        task_id="0123456789abcdef0123456789abcdef",
        private_ip="10.0.64.12",
        availability_zone="us-east-1b",
        region="us-east-1",
    )


# --- the health check, exactly as the dev stack's task definition runs it -------------------------------


def dev_health_command(dev_run: StackRun) -> list[str]:
    (container,) = containers(dev_run, "app")
    command = container["healthCheck"]["command"]
    assert command[0] == "CMD"
    return [sys.executable if command[1] == "python" else command[1], *command[2:]]


def run_health_check(command: list[str], port: int) -> int:
    env = {**os.environ, "MAPGATE_PORT": str(port), "PYTHONPATH": str(ROOT / "app")}
    return subprocess.run(command, env=env, timeout=WAIT, capture_output=True).returncode


def test_health_check_command_passes_on_a_healthy_server(dev_run: StackRun) -> None:
    with running(AppState(identity=ME, service="app")) as server:
        assert run_health_check(dev_health_command(dev_run), server.server_address[1]) == 0


def test_health_check_command_fails_while_draining(dev_run: StackRun) -> None:
    state = AppState(identity=ME, service="app")
    with running(state) as server:
        state.draining.set()
        assert run_health_check(dev_health_command(dev_run), server.server_address[1]) == 1


def test_health_check_command_fails_when_nothing_listens(dev_run: StackRun) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        assert run_health_check(dev_health_command(dev_run), s.getsockname()[1]) == 1


def test_dockerfile_healthcheck_matches_the_task_definition(dev_run: StackRun) -> None:
    dockerfile = (ROOT / "app" / "Dockerfile").read_text()
    (line,) = [ln for ln in dockerfile.splitlines() if ln.startswith("HEALTHCHECK")]
    options = dict(re.findall(r"--([a-z-]+)=(\S+)", line))
    exec_form = json.loads(line.split(" CMD ", 1)[1])
    (container,) = containers(dev_run, "app")
    hc = container["healthCheck"]
    assert ["CMD", *exec_form] == hc["command"]
    assert options == {
        "interval": f"{hc['interval']}s",
        "timeout": f"{hc['timeout']}s",
        "start-period": f"{hc['startPeriod']}s",
        "retries": str(hc["retries"]),
    }


def test_dockerfile_runs_as_non_root_and_exposes_the_service_port(dev_run: StackRun) -> None:
    lines = (ROOT / "app" / "Dockerfile").read_text().splitlines()
    assert "USER 10001" in lines
    (container,) = containers(dev_run, "app")
    assert f"EXPOSE {container['portMappings'][0]['containerPort']}" in lines
    assert not any("curl" in line for line in lines)


# --- SIGTERM on the real process ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(app: str) -> bool:
    """The app at `app` answers its health check (and is up at all)."""
    try:
        return get(f"{app}/healthz", timeout=1)[0] == 200
    except OSError:
        return False


def wait_until(condition: Any, what: str) -> None:
    done = threading.Event()
    for _ in range(200):
        if condition():
            return
        done.wait(WAIT / 200)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigterm_drains_finishes_in_flight_requests_and_exits_cleanly() -> None:
    reached, release = threading.Event(), threading.Event()

    def hold() -> None:
        reached.set()
        release.wait(WAIT)

    port = free_port()
    with upstream(answering(b'{"slow": true}', before=hold)) as url:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT / "app"),
            "MAPGATE_PORT": str(port),
            "MAPGATE_HOST": "127.0.0.1",
            "MAPGATE_SERVICE": "app",
            "MAPGATE_DRAIN_SECONDS": "1",
            "UPSTREAM_URL": url,
        }
        env.pop("ECS_CONTAINER_METADATA_URI_V4", None)
        process = subprocess.Popen([sys.executable, "-m", "mapgate_app"], env=env, stderr=subprocess.PIPE)
        try:
            app = f"http://127.0.0.1:{port}"
            wait_until(lambda: healthy(app), "the service to start")
            with ThreadPoolExecutor(1) as pool:
                in_flight = pool.submit(get, f"{app}/")
                assert reached.wait(WAIT), "the request never reached the upstream"
                process.send_signal(signal.SIGTERM)
                wait_until(lambda: get(f"{app}/healthz", timeout=1)[0] == 503, "healthz to report draining")
                release.set()
                status, body = in_flight.result(WAIT)
            assert status == 200
            assert body["upstream"]["body"] == {"slow": True}
            assert process.wait(WAIT) == 0
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(WAIT)


# -- /leader and /follower follow the lease ------------------------------------------------------------------


def election_state(task: str, view: View) -> AppState:
    identity = Identity(task_id=task, private_ip="127.0.0.1", availability_zone="local", region=None)
    return AppState(identity=identity, service="app", election=lambda: view)


def test_the_holder_answers_leader_with_its_term() -> None:
    with running(election_state("holder", View(role="leader", term=7))) as server:
        status, body = get(f"{base(server)}/leader")
    assert status == 200
    assert (body["role"], body["term"], body["answeredBy"]) == ("leader", 7, "holder")


def test_a_follower_forwards_leader_to_the_holder_once() -> None:
    with running(election_state("holder", View(role="leader", term=7))) as holder:
        address = f"127.0.0.1:{holder.server_address[1]}"
        with running(election_state("other", View(role="follower", term=7, holder_address=address))) as other:
            status, body = get(f"{base(other)}/leader")
    assert status == 200
    assert (body["role"], body["answeredBy"], body["forwardedBy"]) == ("leader", "holder", "other")


def test_without_a_holder_leader_is_503_with_retry_after() -> None:
    with running(election_state("other", View(role="follower", term=3))) as server:
        request = urllib.request.Request(f"{base(server)}/leader")
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(request, timeout=WAIT)
    assert answer.value.code == 503
    assert answer.value.headers["Retry-After"] == "2"
    body = json.load(answer.value)
    assert (body["role"], body["answeredBy"]) == ("follower", "other")


def test_a_forwarded_request_is_never_forwarded_again() -> None:
    """Two tasks that each think the other leads must not bounce a request between them."""
    with running(election_state("b", View(role="follower", term=4, holder_address="127.0.0.1:9"))) as b:
        address = f"127.0.0.1:{b.server_address[1]}"
        with running(election_state("a", View(role="follower", term=4, holder_address=address))) as a:
            status, body = get(f"{base(a)}/leader")
    assert status == 503
    assert body["answeredBy"] == "a"


def test_the_holder_forwards_follower_to_a_follower() -> None:
    with running(election_state("f1", View(role="follower", term=2))) as follower:
        address = f"127.0.0.1:{follower.server_address[1]}"
        with running(election_state("holder", View(role="leader", term=2, followers=[address]))) as holder:
            status, body = get(f"{base(holder)}/follower")
    assert status == 200
    assert (body["role"], body["answeredBy"], body["forwardedBy"]) == ("follower", "f1", "holder")
