"""Generate the Python gRPC code for `mapgate_app/*.proto` next to the protos (`python generate_protos.py`).

The one build step for it: the Dockerfile's build stage, `.ci/run` (before mypy) and the tests' conftest run
this file, so the generated modules are never written by hand nor checked in (they are in .gitignore).
Needs grpcio-tools, which only the build stage and the dev environment install.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

HERE = Path(__file__).resolve().parent


def main() -> int:
    protos = sorted(str(path) for path in (HERE / "mapgate_app").glob("*.proto"))
    well_known = resources.files("grpc_tools") / "_proto"
    return protoc.main(
        [
            "protoc",
            f"-I{HERE}",
            f"-I{well_known}",
            f"--python_out={HERE}",
            f"--pyi_out={HERE}",
            f"--grpc_python_out={HERE}",
            *protos,
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
