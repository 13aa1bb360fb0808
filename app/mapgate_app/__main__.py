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


def _elector(me: identity.Identity) -> Elector | None:
    service_id = os.environ.get("MAPGATE_CLOUDMAP_SERVICE_ID")
    if not service_id:
        return None
    import boto3  # only tasks that elect need the AWS SDK

    client = boto3.client("servicediscovery", region_name=os.environ.get("AWS_REGION") or me.region)
    return Elector(
        client,
        namespace=os.environ["MAPGATE_NAMESPACE"],
        service_name=os.environ["MAPGATE_SERVICE"],
        service_id=service_id,
        instance_id=me.task_id,
        attribute=os.environ.get("MAPGATE_ELECTION_ATTRIBUTE", "leader"),
        interval=float(os.environ.get("MAPGATE_ELECTION_INTERVAL", "10")),
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    me = identity.discover()
    elector = _elector(me)
    state = AppState(
        identity=me,
        service=os.environ.get("MAPGATE_SERVICE", "local"),
        role=(lambda: elector.role) if elector else (lambda: "unknown"),
        upstream_url=os.environ.get("UPSTREAM_URL") or None,
    )
    port = int(os.environ.get("MAPGATE_PORT", "8080"))
    server = serve(state, os.environ.get("MAPGATE_HOST", "0.0.0.0"), port)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        def shut_down() -> None:
            if elector is not None:
                elector.stop()
            drain(
                state,
                server,
                step_down=elector.step_down if elector else None,
                delay=float(os.environ.get("MAPGATE_DRAIN_SECONDS", "5")),
                wait=time.sleep,
            )

        # The handler runs on the main thread, which is inside serve_forever(); shutdown() must come from another.
        threading.Thread(target=shut_down, name="drain").start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if elector is not None:
        elector.start()
    logging.getLogger("mapgate").info("serving %s on port %s as task %s", state.service, port, me.task_id)
    server.serve_forever()
    server.server_close()  # waits for in-flight requests


if __name__ == "__main__":
    main()
