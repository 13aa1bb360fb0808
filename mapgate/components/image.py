"""Container images built from a directory of the project and pushed to a private ECR repository."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ecr
from pulumi_awsx import ecr as awsx_ecr

from mapgate import aws_facts, naming
from mapgate.components.base import Component

KEEP_IMAGES = 10


def lifecycle_policy(keep: int = KEEP_IMAGES) -> str:
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"keep the last {keep} images",
                    "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": keep},
                    "action": {"type": "expire"},
                }
            ]
        }
    )


@dataclass(frozen=True)
class ImageRepositoryArgs:
    context: str
    """The build directory, relative to the project (it holds the Dockerfile)."""
    architecture: str
    """`arm64` or `x86_64`: the image is built for this CPU (`aws_facts.DOCKER_PLATFORM`)."""
    tags: Mapping[str, str]
    dockerfile: str | None = None
    """Another Dockerfile than `<context>/Dockerfile`, relative to the project."""
    target: str | None = None
    """The build stage to build, instead of the last one."""
    args: Mapping[str, str] = field(default_factory=dict)
    """Build arguments (`--build-arg`)."""


class ImageRepository(Component):
    """An image built by `pulumi up` for one architecture (Docker, with a builder for that platform, needed on
    the deploying machine).

    Creates: an `ecr.Repository` (scan on push, deleted with its images on destroy), an `ecr.LifecyclePolicy`
    that keeps the last 10 images, and an `awsx.ecr.Image` that builds `context` (with its `dockerfile`, `target`
    and `args` when given) for the architecture and pushes it. `image_uri` is pinned by digest, so a new build
    rolls the tasks and an unchanged one does not.
    """

    image_uri: pulumi.Output[str]

    def __init__(self, name: str, args: ImageRepositoryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, opts)
        repository = ecr.Repository(
            naming.child(name, "repo"),
            image_scanning_configuration=ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            force_delete=True,
            tags=dict(args.tags),
            opts=self.child_opts,
        )
        ecr.LifecyclePolicy(
            naming.child(name, "lifecycle"),
            repository=repository.name,
            policy=lifecycle_policy(),
            opts=self.child_opts,
        )
        image = awsx_ecr.Image(
            naming.child(name, "image"),
            repository_url=repository.repository_url,
            context=args.context,
            platform=aws_facts.DOCKER_PLATFORM[args.architecture],
            dockerfile=args.dockerfile,
            target=args.target,
            args=dict(args.args) or None,
            opts=self.child_opts,
        )
        self.image_uri = image.image_uri
        self.register_outputs({"imageUri": self.image_uri})
