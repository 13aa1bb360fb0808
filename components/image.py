"""Container images built from a directory of the project and pushed to a private ECR repository."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_awsx as awsx

from components.config import Architecture

KEEP_IMAGES = 10

DOCKER_PLATFORM = {"arm64": "linux/arm64", "x86_64": "linux/amd64"}


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
    architecture: Architecture
    tags: Mapping[str, str]


class ImageRepository(pulumi.ComponentResource):
    """An image built by `pulumi up` (Docker needed on the deploying machine) for one architecture.

    Creates: an `aws.ecr.Repository` (scan on push, deleted with its images on destroy), an
    `aws.ecr.LifecyclePolicy` that keeps the last 10 images, and an `awsx.ecr.Image` that builds `context`
    for the service's CPU architecture and pushes it. `image_uri` is pinned by digest, so a new build rolls
    the tasks and an unchanged one does not.
    """

    image_uri: pulumi.Output[str]

    def __init__(self, name: str, args: ImageRepositoryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("mapgate:image:ImageRepository", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        repository = aws.ecr.Repository(
            f"{name}-repo",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            force_delete=True,
            tags=dict(args.tags),
            opts=child,
        )
        aws.ecr.LifecyclePolicy(f"{name}-lifecycle", repository=repository.name, policy=lifecycle_policy(), opts=child)
        image = awsx.ecr.Image(
            f"{name}-image",
            repository_url=repository.repository_url,
            context=args.context,
            platform=DOCKER_PLATFORM[args.architecture],
            opts=child,
        )
        self.image_uri = image.image_uri
        self.register_outputs({"imageUri": self.image_uri})
