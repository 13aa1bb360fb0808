"""`python -m mapgate_app`: serve on MAPGATE_PORT; run leader election when the stack asked for it."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from mapgate_app import identity
from mapgate_app.election import Elector, Member, Timing
from mapgate_app.lease import LeaseStore
from mapgate_app.peers import Peers
from mapgate_app.server import AppState, drain, serve
from mapgate_app.settings import Settings

STOP_STEP_SECONDS = 0.5
EXIT_BY = 25.0
"""Seconds from SIGTERM to exit, whatever AWS does: ECS sends SIGKILL at 30 s (its default stopTimeout)."""
# Every AWS call of the election ends within about 5 s (`Timing.call_limit`): 2 attempts of 1 s connect + 1 s read,
# plus the SDK's backoff. DynamoDB and Cloud Map answer in milliseconds when they answer at all.
SDK_CONNECT_TIMEOUT = 1
SDK_READ_TIMEOUT = 1
SDK_MAX_ATTEMPTS = 2


def _elector(settings: Settings, me: identity.Identity) -> Elector | None:
    if settings.election is None:
        return None
    import boto3  # only tasks that elect need the AWS SDK
    from botocore.config import Config

    region = os.environ.get("AWS_REGION") or me.region
    # Standard retry mode: throttled calls retry with exponential backoff and jitter inside the SDK too. Short
    # timeouts and one retry bound every call, so that the stop fits its budget (`Timing.call_limit`).
    config = Config(
        retries={"mode": "standard", "max_attempts": SDK_MAX_ATTEMPTS},
        connect_timeout=SDK_CONNECT_TIMEOUT,
        read_timeout=SDK_READ_TIMEOUT,
    )
    election = settings.election
    return Elector(
        boto3.client("servicediscovery", region_name=region, config=config),
        LeaseStore(
            boto3.client("dynamodb", region_name=region, config=config),
            table=election.lease_table,
            name=settings.service,
        ),
        namespace_id=election.namespace_id,
        service_name=settings.service,
        roles_service_id=election.roles_service_id,
        roles_service_name=election.roles_service_name,
        me=Member(task_id=me.task_id, ip=me.private_ip, port=settings.port, started=time.time()),
        attribute=election.attribute,
        timing=Timing(interval=election.interval, lease_ttl=election.lease_ttl),
    )


def stop_electing(elector: Elector, sleep: Callable[[float], object] = time.sleep) -> None:
    """Mark this task stopping, hand over or release the lease and remove its instances, by the stop deadline
    (counted from SIGTERM, when `request_stop()` ran). Every wait here is bounded by that deadline."""
    elector.request_stop()  # idempotent: the signal handler called it already
    elector.stop_loop()
    while not elector.shutdown_step():
        sleep(min(STOP_STEP_SECONDS, max(0.0, elector.stop_deadline - elector.clock())))


def exit_now() -> None:
    """The backstop: whatever is still running EXIT_BY seconds after SIGTERM, the process ends before SIGKILL."""
    logging.getLogger("mapgate").warning("stop took %s s; exiting now", EXIT_BY)
    logging.shutdown()
    os._exit(0)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_environ(os.environ)
    me = identity.discover()
    elector = _elector(settings, me)
    peers = Peers(settings)
    state = AppState(
        identity=me,
        service=settings.service,
        role=(lambda: elector.role) if elector else (lambda: "unknown"),
        upstream_url=settings.upstream_url,
        expose_task_info=settings.expose_task_info,
        election=elector.view if elector else None,
        extras=peers.describe if peers else None,
    )
    server = serve(state, settings.host, settings.port)

    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stopping.is_set():
            return
        stopping.set()
        if elector is not None:
            elector.request_stop()  # lock-free: no longer leader after the hand-over grace, whatever the loop does
        watchdog = threading.Timer(EXIT_BY, exit_now)
        watchdog.daemon = True
        watchdog.start()

        def shut_down() -> None:
            drain(
                state,
                server,
                step_down=(lambda: stop_electing(elector)) if elector else None,
                # An elector's stop already keeps serving until its instances are gone and settled.
                delay=0.0 if elector else settings.drain_seconds,
                wait=time.sleep,
            )

        # The handler runs on the main thread, which is inside serve_forever(); shutdown() must come from another.
        threading.Thread(target=shut_down, name="drain", daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if elector is not None:
        elector.start()
    logging.getLogger("mapgate").info("serving %s on port %s as task %s", state.service, settings.port, me.task_id)
    server.serve_forever()
    server.server_close()  # waits for in-flight requests
    peers.close()


if __name__ == "__main__":
    main()
