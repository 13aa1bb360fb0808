"""ImageRepository: `{build: dir}` images are built per architecture, pushed to a scanned, pruned ECR repo."""

from __future__ import annotations

import json

from mapgate import resource_types as types
from mapgate.config import ImageBuild
from tests.harness import ROOT, StackRun, changed, containers, run_stack, with_prefix

REPO = types.ECR_REPOSITORY
IMAGE = types.IMAGE


def test_services_sharing_a_build_share_one_image(dev_run: StackRun) -> None:
    (image,) = dev_run.of_type(IMAGE)
    assert image.name == "image-app-arm64-image"
    assert image.inputs["context"] == "app"
    assert image.inputs["platform"] == "linux/arm64"
    assert image.inputs["repositoryUrl"].endswith("/image-app-arm64-repo")


def test_repository_scans_on_push_and_keeps_the_last_ten(dev_run: StackRun) -> None:
    (repo,) = dev_run.of_type(REPO)
    assert repo.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repo.inputs["forceDelete"] is True
    (policy,) = dev_run.of_type(types.ECR_LIFECYCLE_POLICY)
    (rule,) = json.loads(policy.inputs["policy"])["rules"]
    assert rule["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 10}
    assert rule["action"] == {"type": "expire"}


def test_tasks_run_the_pushed_image_by_digest(dev_run: StackRun) -> None:
    for name in ("app", "worker"):
        (container,) = containers(dev_run, name)
        assert container["image"].endswith("/image-app-arm64-repo@sha256:" + "0" * 64)


def test_each_architecture_gets_its_own_build() -> None:
    run = run_stack(with_prefix(changed("dev", ["services", "worker", "architecture"], "x86_64")))
    assert sorted((i.name, i.inputs["platform"]) for i in run.of_type(IMAGE)) == [
        ("image-app-arm64-image", "linux/arm64"),
        ("image-app-x86_64-image", "linux/amd64"),
    ]


def test_an_image_reference_builds_nothing() -> None:
    config = changed("dev", ["services", "app", "image"], "public.ecr.aws/nginx/nginx:1.27")
    config["services"]["worker"]["image"] = "public.ecr.aws/nginx/nginx:1.27"
    run = run_stack(with_prefix(config))
    assert run.of_type(IMAGE) == []
    assert run.of_type(REPO) == []
    (container,) = containers(run, "app")
    assert container["image"] == "public.ecr.aws/nginx/nginx:1.27"


def test_build_directories_with_the_same_slug_get_distinct_images() -> None:
    from mapgate.config import parse_config
    from mapgate.offline import as_engine_config
    from mapgate.stack import image_names

    config = changed("dev", ["services", "worker", "image"], {"build": "app"})
    cfg = parse_config(as_engine_config(config), stack="dev", project_dir=ROOT)
    assert image_names(cfg) == {("app", "arm64"): "image-app-arm64"}
    twins = cfg.model_copy(
        update={
            "services": {
                "one": cfg.services["app"].model_copy(update={"image": ImageBuild.model_construct(build="a/b")}),
                "two": cfg.services["app"].model_copy(update={"image": ImageBuild.model_construct(build="a-b")}),
            }
        }
    )
    names = image_names(twins)
    assert len(set(names.values())) == 2
    assert names[("a-b", "arm64")] == "image-a-b-arm64"


def test_a_build_with_its_own_dockerfile_target_and_args_is_an_image_of_its_own() -> None:
    build = {"build": "app", "dockerfile": "app/Dockerfile", "target": "runtime", "args": {"WORKERS": 4}}
    run = run_stack(with_prefix(changed("dev", ["services", "worker", "image"], build)))
    images = {i.name: i.inputs for i in run.of_type(IMAGE)}
    assert len(images) == 2
    (other,) = [inputs for name, inputs in images.items() if name != "image-app-arm64-image"]
    assert (other["context"], other["dockerfile"], other["target"], other["args"]) == (
        "app",
        "app/Dockerfile",
        "runtime",
        {"WORKERS": "4"},
    )
    assert not {"dockerfile", "target", "args"} & set(images["image-app-arm64-image"])  # the plain build is as before


def test_a_named_dockerfile_must_exist_inside_the_project() -> None:
    import pytest

    from mapgate.config import ConfigError, parse_config
    from mapgate.offline import as_engine_config

    for dockerfile, says in (("app/Dockerfile.nope", "no Dockerfile at"), ("../Dockerfile", "inside the project")):
        config = changed("dev", ["services", "worker", "image"], {"build": "app", "dockerfile": dockerfile})
        with pytest.raises(ConfigError, match=says):
            parse_config(as_engine_config(config), stack="dev", project_dir=ROOT)
