"""The package's shape, as rules that can fail: one home per fact, components that stand alone, pinned deploys."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import inspect
import pkgutil
import subprocess
import tomllib
from collections.abc import Iterator

import pytest
from packaging.requirements import Requirement

import mapgate
import mapgate.components
import mapgate_policies
from mapgate import aws_facts, naming
from mapgate import resource_types as types
from mapgate.components.base import Component
from mapgate.components.domain import ApiDomain
from tests.harness import ROOT, StackRun, changed, run_stack, with_prefix


def modules(package: object) -> Iterator[str]:
    path = package.__path__  # type: ignore[attr-defined]
    for info in pkgutil.walk_packages(path, prefix=f"{package.__name__}."):  # type: ignore[attr-defined]
        yield info.name


def components() -> list[type[Component]]:
    for name in modules(mapgate.components):
        importlib.import_module(name)
    found: list[type[Component]] = []
    stack = list(Component.__subclasses__())
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return sorted(found, key=lambda c: c.type_token)


def test_type_tokens_match_the_modules_the_components_live_in() -> None:
    tokens = {}
    for cls in components():
        module = cls.__module__.removeprefix("mapgate.components.").split(".")[0]
        assert cls.type_token == f"mapgate:{module}:{cls.__name__}"
        tokens[cls.type_token] = cls
    assert len(tokens) == 10


def _our_types(run: StackRun) -> set[str]:
    return {r.typ for r in run.registrations if r.typ.startswith(f"{mapgate.PROJECT}:")}


def test_every_component_a_run_registers_is_one_of_ours(any_run: StackRun) -> None:
    assert _our_types(any_run) <= {cls.type_token for cls in components()}


def test_every_component_is_built_by_a_shipped_stack_or_the_custom_domain_example(
    dev_run: StackRun, prod_run: StackRun
) -> None:
    # Neither shipped stack has a custom domain (it needs a zone or certificate of the user's own).
    domain = changed("prod", ["api", "domain"], {"name": "api.example.com", "hostedZoneId": "Z0123456789ABC"})
    domain_run = run_stack(with_prefix(domain), "prod")
    assert _our_types(dev_run) == _our_types(prod_run) == _our_types(domain_run) - {ApiDomain.type_token}
    assert _our_types(domain_run) == {cls.type_token for cls in components()}


def test_every_component_documents_what_it_creates() -> None:
    for cls in components():
        assert "Creates" in (cls.__doc__ or ""), f"{cls.__name__} has no 'Creates:' in its docstring"
        init = inspect.signature(cls.__init__)
        assert list(init.parameters)[:3] == ["self", "name", "args"], cls.__name__


def test_components_never_see_the_config_model() -> None:
    """Components take their own args; only build() translates config into them."""
    for name in modules(mapgate.components):
        source = inspect.getsource(importlib.import_module(name))
        imported = {
            node.module
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.ImportFrom) and node.module is not None
        }
        assert not {m for m in imported if m.startswith("mapgate.config")}, f"{name} imports the config model"


def test_resource_type_tokens_are_the_sdk_classes_own() -> None:
    from pulumi.type_token import get_type_token
    from pulumi_aws import ecs

    assert types.ECS_SERVICE == get_type_token(ecs.Service) == "aws:ecs/service:Service"
    assert all(":" in value for name, value in vars(types).items() if name.isupper())


def test_the_policy_pack_names_types_as_the_package_does() -> None:
    """The pack deploys alone, so it keeps its own constants; they must be the package's."""
    tokens = {
        name: value
        for name, value in vars(mapgate_policies).items()
        if name.isupper() and isinstance(value, str) and value.count(":") == 2
    }
    assert len(tokens) >= 10
    for name, token in tokens.items():
        assert getattr(types, name, None) == token, name
    assert mapgate_policies.ENVIRONMENT_TAG == naming.ENVIRONMENT_TAG
    assert mapgate_policies.API_ONLY_SERVICE_TYPE == aws_facts.API_ONLY_SERVICE_TYPE


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [path for path in listed.splitlines() if (ROOT / path).is_file()]


def test_nothing_outside_tests_points_outside_the_repository() -> None:
    outside = "../" + "shared"
    offenders = [
        path
        for path in tracked_files()
        if not path.startswith("tests/") and outside in (ROOT / path).read_text(errors="replace")
    ]
    assert offenders == []


def pins(path: str) -> dict[str, str]:
    found = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and "==" in line:
            name, version = line.split("==")
            found[name.strip().lower().replace("_", "-")] = version.strip()
    return found


def test_the_lock_satisfies_the_declared_ranges_and_installs_nothing_else() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deploy = pins("requirements.txt")
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = requirement.name.lower()
        assert name in deploy, f"{name} is not pinned in requirements.txt"
        assert requirement.specifier.contains(deploy[name]), f"{name}=={deploy[name]} is outside {requirement}"
    # The CLI's picture library and the test tools stay out of what `pulumi up` installs.
    kept_out = {"pillow", "pytest", "moto", "boto3", "ruff", "mypy", "pulumi-policy", "types-pyyaml"}
    extras = project["optional-dependencies"]
    assert kept_out <= {Requirement(spec).name.lower() for extra in ("cli", "dev") for spec in extras[extra]}
    assert kept_out.isdisjoint(deploy)


def test_the_dev_lock_keeps_every_deploy_pin() -> None:
    deploy, dev = pins("requirements.txt"), pins("requirements-dev.txt")
    assert {name: dev.get(name) for name in deploy} == deploy


@pytest.mark.parametrize("package", ["pulumi", "pulumi-aws", "pulumi-awsx", "pydantic", "protobuf", "grpcio"])
def test_the_tests_run_what_deploys(package: str) -> None:
    assert importlib.metadata.version(package) == pins("requirements.txt")[package]
