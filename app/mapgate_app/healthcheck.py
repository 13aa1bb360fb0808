"""Container health check: exit 0 when GET /healthz answers 200 within the timeout, 1 otherwise.

Runs as `python -m mapgate_app.healthcheck` in the task definition and the Dockerfile alike, so the image
needs no curl.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

from mapgate_app.settings import Settings


def main() -> int:
    url = f"http://127.0.0.1:{Settings.from_environ(os.environ).port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
