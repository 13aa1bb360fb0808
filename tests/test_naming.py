"""Names: two resources never share a logical name, whatever the services are called, and readers find
resources by tags and ids, not by parsing names."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from mapgate import naming
from mapgate.config import ConfigError, SecretText
from tests.harness import StackRun, changed, run_stack, with_prefix

# Service names chosen to collide with every part mapgate appends: `<svc>-task` vs a service named `<svc>-task`,
# `firewall-<svc>` vs the VPC link's group, `discovery-<svc>` vs the namespace, route slugs vs fixed parts.
ADVERSARIAL = [
    "app",
    "app-task",
    "app-execution",
    "app-scale-on",
    "app-secret",
    "vpc",
    "vpc-link",
    "namespace",
    "private",
    "a-from-b",
]


def adversarial_config() -> dict[str, Any]:
    config = changed("dev", ["services", "worker", "autoscaling"], {"min": 1, "max": 3, "memoryTarget": 60})
    # Every service also gets a stored secret and an execution-role grant, children of their own.
    template = dict(config["services"]["worker"], secrets={"TOKEN": {"config": "token"}, "OTHER": "/shared/x"})
    config["token"] = SecretText("offline")
    config["services"] = {name: dict(template, allowFrom=[n for n in ADVERSARIAL if n != name][:2])
                          for name in ADVERSARIAL}  # fmt: skip
    config["services"]["app"] = changed("dev", ["x"], 1)["services"]["app"]
    config["api"]["routes"] |= {"GET /task": {"service": "app"}, "GET /app/task": {"service": "app"}}
    return config


@pytest.mark.slow
def test_no_two_resources_share_a_logical_name() -> None:
    run = run_stack(with_prefix(adversarial_config()))
    names = Counter(r.name for r in run.registrations if not r.typ.startswith("mapgate:"))
    assert [name for name, count in names.items() if count > 1] == []
    assert len(run.registrations) > 150


def test_every_child_is_named_after_its_component(any_run: StackRun) -> None:
    by_urn = {r.urn: r for r in any_run.registrations}
    for registration in any_run.registrations:
        parent = by_urn.get(registration.parent)
        if registration.typ.startswith("mapgate:"):
            assert parent is None, f"{registration.urn} is nested in another component"
            continue
        assert parent is not None, f"{registration.urn} has no component"
        assert parent.typ.startswith("mapgate:"), f"{registration.urn} is not inside a mapgate component"
        assert registration.name.startswith(f"{parent.name}-"), f"{registration.name} not named after {parent.name}"


@pytest.mark.parametrize("name", [*sorted(naming.RESERVED_SERVICE_NAMES), "image-app-arm64"])
def test_a_service_may_not_take_a_component_name(name: str) -> None:
    from mapgate.config import parse_config
    from mapgate.offline import as_engine_config
    from tests.harness import ROOT

    config = changed("dev", ["services", name], changed("dev", ["x"], 1)["services"]["worker"])
    with pytest.raises(ConfigError) as caught:
        parse_config(as_engine_config(config), stack="dev", project_dir=ROOT)
    assert any(p.startswith(f"services.{name}") and "reserved" in p for p in caught.value.problems)


def test_route_slugs_are_unique_and_stable() -> None:
    slugs = naming.route_slugs(["GET /a-b", "GET /a/b", "GET /", "$default", "ANY /files/{path+}"])
    assert slugs == {
        "$default": "default",
        "ANY /files/{path+}": "any-files-path",
        "GET /": "get-root",
        "GET /a-b": "get-a-b",
        "GET /a/b": "get-a-b-2",
    }


def test_the_readers_ignore_names(dev_run: StackRun) -> None:
    """Renaming every resource leaves what the CLI reads unchanged: it follows tags, ids and ARNs."""
    import dataclasses

    from mapgate.cli.inventory import Inventory

    renamed = dataclasses.replace(
        dev_run, resources=[dataclasses.replace(r, name=f"x{i}") for i, r in enumerate(dev_run.resources)]
    )
    assert Inventory.read(renamed) == Inventory.read(dev_run)
