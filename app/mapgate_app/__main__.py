"""`python -m mapgate_app`: serve on MAPGATE_PORT; run leader election when the stack asked for it."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from types import FrameType

from mapgate_app import identity
from mapgate_app.election import Elector
from mapgate_app.server import AppState, drain, serve
from mapgate_app.settings import Settings


def _elector(settings: Settings, me: identity.Identity) -> Elector | None:
    if settings.election is None:
        return None
    import boto3  # only tasks that elect need the AWS SDK

    client = boto3.client("servicediscovery", region_name=os.environ.get("AWS_REGION") or me.region)
    return Elector(
        client,
        namespace_id=settings.election.namespace_id,
        service_name=settings.service,
        service_id=settings.election.service_id,
        instance_id=me.task_id,
        attribute=settings.election.attribute,
        interval=settings.election.interval,
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_environ(os.environ)
    me = identity.discover()
    elector = _elector(settings, me)
    state = AppState(
        identity=me,
        service=settings.service,
        role=(lambda: elector.role) if elector else (lambda: "unknown"),
        upstream_url=settings.upstream_url,
        expose_task_info=settings.expose_task_info,
    )
    server = serve(state, settings.host, settings.port)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        def shut_down() -> None:
            if elector is not None:
                elector.stop()
            drain(
                state,
                server,
                step_down=elector.step_down if elector else None,
                delay=settings.drain_seconds,
                wait=time.sleep,
            )

        # The handler runs on the main thread, which is inside serve_forever(); shutdown() must come from another.
        threading.Thread(target=shut_down, name="drain").start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if elector is not None:
        elector.start()
    logging.getLogger("mapgate").info("serving %s on port %s as task %s", state.service, settings.port, me.task_id)
    server.serve_forever()
    server.server_close()  # waits for in-flight requests


if __name__ == "__main__":
    main()
