"""`mapgate up` finds out before the engine starts whether this machine can build the images the stack needs."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from mapgate.cli.preflight import BuilderError, builder_platforms, check_image_builder, platforms_needed
from tests.harness import ROOT, changed, with_prefix

# What `docker buildx inspect --bootstrap` prints on an x86 machine without emulation (docker 28, buildx 0.2x).
X86_ONLY = """Name:          default
Driver:        docker

Nodes:
Name:             default
Endpoint:         default
Status:           running
BuildKit version: v0.21.1
Platforms:        linux/amd64, linux/amd64/v2, linux/amd64/v3, linux/386
Labels:
 org.mobyproject.buildkit.worker.moby.host-gateway-ip: 172.17.0.1
"""
WITH_QEMU = X86_ONLY.replace("linux/386", "linux/386, linux/arm64, linux/riscv64, linux/arm/v7")


class Docker:
    def __init__(self, stdout: str = "", returncode: int = 0, stderr: str = "", missing: bool = False):
        self.stdout, self.returncode, self.stderr, self.missing = stdout, returncode, stderr, missing
        self.commands: list[list[str]] = []

    def __call__(self, command: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.commands.append(list(command))
        if self.missing:
            raise FileNotFoundError(2, "No such file or directory", "docker")
        return subprocess.CompletedProcess(list(command), self.returncode, self.stdout, self.stderr)


def test_dev_builds_both_services_for_arm64() -> None:
    assert platforms_needed(ROOT, "dev") == {"linux/arm64": ["app", "worker"]}


def test_the_platforms_line_is_read_with_its_markers() -> None:
    assert builder_platforms("Platforms: linux/amd64*, linux/arm64\n") == {"linux/amd64", "linux/arm64"}
    assert "linux/arm64" not in builder_platforms(X86_ONLY)


def test_an_x86_builder_without_emulation_is_refused_with_the_fix() -> None:
    docker = Docker(X86_ONLY)
    with pytest.raises(BuilderError) as caught:
        check_image_builder(ROOT, "dev", docker)
    message = str(caught.value)
    assert "cannot build linux/arm64 for app, worker" in message
    assert "docker run --privileged --rm tonistiigi/binfmt --install arm64" in message
    assert docker.commands == [["docker", "buildx", "inspect", "--bootstrap"]]


def test_a_builder_with_emulation_passes() -> None:
    check_image_builder(ROOT, "dev", Docker(WITH_QEMU))


def test_no_docker_or_no_daemon_is_said_plainly() -> None:
    with pytest.raises(BuilderError, match="Docker is not installed"):
        check_image_builder(ROOT, "dev", Docker(missing=True))
    with pytest.raises(BuilderError, match="Cannot connect to the Docker daemon"):
        check_image_builder(ROOT, "dev", Docker(returncode=1, stderr="Cannot connect to the Docker daemon at unix://"))


def _project(tmp_path: Path, config: dict[str, object]) -> Path:
    shutil.copytree(ROOT / "app", tmp_path / "app")
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def test_a_stack_that_builds_nothing_needs_no_docker(tmp_path: Path) -> None:
    config = changed("dev", ["services", "app", "image"], "public.ecr.aws/nginx/nginx:1.27")
    config["services"]["worker"]["image"] = "public.ecr.aws/nginx/nginx:1.27"
    project = _project(tmp_path, with_prefix(config))
    docker = Docker(missing=True)
    check_image_builder(project, "dev", docker)
    assert docker.commands == []


def test_x86_services_need_an_amd64_builder(tmp_path: Path) -> None:
    config = changed("dev", ["services", "worker", "architecture"], "x86_64")
    project = _project(tmp_path, with_prefix(config))
    assert platforms_needed(project, "dev") == {"linux/arm64": ["app"], "linux/amd64": ["worker"]}
    with pytest.raises(BuilderError, match="linux/amd64 for worker"):
        check_image_builder(project, "dev", Docker("Platforms: linux/arm64\n"))


def test_a_missing_or_invalid_stack_file_is_left_to_the_engine(tmp_path: Path) -> None:
    assert platforms_needed(tmp_path, "nope") == {}
    project = _project(tmp_path, with_prefix(changed("dev", ["services", "app", "port"], 0)))
    assert platforms_needed(project, "dev") == {}
