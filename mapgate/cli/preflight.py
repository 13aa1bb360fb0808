"""Checks `mapgate up` and `preview` make on this machine before they start the engine.

`image: {build: …}` is built by `pulumi up` on the deploying machine, for the service's CPU. Building arm64 on
an x86 machine (or the reverse) needs QEMU emulation registered with Docker, or a builder of that architecture;
without one, the build fails deep inside the update with an exec format error. This finds out first.
"""

from __future__ import annotations

import subprocess
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from mapgate import aws_facts
from mapgate.config import ConfigError, ImageBuild, parse_config
from mapgate.config.errors import StackFileError
from mapgate.config.source import project_keys
from mapgate.offline import as_engine_config, load_stack_file

Runner = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]


class BuilderError(Exception):
    """This machine cannot build an image the stack needs; the message says how to fix it."""


def run_quietly(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), capture_output=True, text=True, timeout=60, check=False)


def platforms_needed(project_dir: Path, stack: str) -> dict[str, list[str]]:
    """Docker platform -> the services whose image the stack builds for it. Empty when nothing is built, and
    when the stack file is missing or invalid (the engine then reports that, in its own words)."""
    if not (project_dir / f"Pulumi.{stack}.yaml").is_file():
        return {}
    try:
        raw = as_engine_config(project_keys(load_stack_file(project_dir, stack)))
        cfg = parse_config(raw, stack=stack, project_dir=project_dir)
    except (ConfigError, StackFileError):
        return {}
    needed: dict[str, list[str]] = defaultdict(list)
    for name in sorted(cfg.services):
        svc = cfg.services[name]
        if isinstance(svc.image, ImageBuild):
            needed[aws_facts.DOCKER_PLATFORM[svc.architecture]].append(name)
    return dict(needed)


def builder_platforms(output: str) -> set[str]:
    """The platforms in `docker buildx inspect` output ("Platforms: linux/amd64*, linux/arm64, …")."""
    platforms: set[str] = set()
    for line in output.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Platforms":
            platforms |= {p.strip().rstrip("*") for p in value.split(",") if p.strip()}
    return platforms


def check_image_builder(project_dir: Path, stack: str, runner: Runner = run_quietly) -> None:
    """Raise BuilderError unless Docker runs here and its builder produces every platform the stack builds."""
    needed = platforms_needed(project_dir, stack)
    if not needed:
        return
    services = ", ".join(sorted({s for names in needed.values() for s in names}))
    try:
        inspected = runner(["docker", "buildx", "inspect", "--bootstrap"])
    except FileNotFoundError:
        raise BuilderError(
            f"Docker is not installed, and `pulumi up` builds the image of {services} on this machine. "
            "Install Docker (with buildx), or set `image` to a pushed image reference"
        ) from None
    if inspected.returncode != 0:
        raise BuilderError(
            f"Docker cannot build here ({inspected.stderr.strip() or 'docker buildx inspect failed'}). "
            f"Start the Docker daemon; `pulumi up` builds the image of {services}"
        )
    available = builder_platforms(inspected.stdout)
    missing = sorted(platform for platform in needed if platform not in available)
    if missing:
        wanted = "; ".join(f"{p} for {', '.join(needed[p])}" for p in missing)
        arch = missing[0].split("/")[1]
        raise BuilderError(
            f"the Docker builder cannot build {wanted} (it builds {', '.join(sorted(available)) or 'nothing'}). "
            f"Register QEMU emulation once with `docker run --privileged --rm tonistiigi/binfmt --install {arch}`, "
            "or point buildx at a builder of that architecture, or set the service's architecture to this "
            "machine's. See the README, Deploying"
        )
