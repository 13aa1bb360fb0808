"""The contracts between the stack and what runs in its tasks, tied at both ends.

The sample app ships in its own image without the `mapgate` package, so it repeats the environment names of
`mapgate.contract`; these tests fail when either side renames, drops or adds one without the other.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from mapgate import contract
from mapgate.components import election as election_component
from mapgate_app import lease as app_lease
from mapgate_app import settings as app_settings
from mapgate_app.election import Timing
from mapgate_app.settings import Settings
from tests.harness import StackRun, environment


class ReadLog(Mapping[str, str]):
    """An environment that remembers which variables were read."""

    def __init__(self, values: Mapping[str, str]):
        self._values = dict(values)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self._values[key]

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.read.add(key)
        return self._values.get(key, default)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.read.add(key)
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


def platform_variables(run: StackRun, service: str) -> dict[str, str]:
    return {k: v for k, v in environment(run, service).items() if k.startswith(contract.RESERVED_ENV_PREFIXES)}


@pytest.mark.parametrize("service", ["app", "worker"])  # the cache runs Redis, which reads none of them
def test_the_app_reads_every_variable_the_stack_sets(any_run: StackRun, service: str) -> None:
    variables = platform_variables(any_run, service)
    assert variables, "the stack sets no MAPGATE_ variables at all"
    env = ReadLog(environment(any_run, service))
    Settings.from_environ(env)
    unread = set(variables) - env.read
    assert not unread, f"the stack sets {sorted(unread)} but the app never reads them"


@pytest.mark.parametrize("service", ["app", "worker", "cache"])
def test_the_stack_sets_only_contract_variables(any_run: StackRun, service: str) -> None:
    assert set(platform_variables(any_run, service)) <= {*contract.ALWAYS, *contract.FOR_ELECTION, *contract.FOR_PEERS}


def test_the_app_understands_what_the_stack_says(dev_run: StackRun) -> None:
    variables = environment(dev_run, "app")
    read = Settings.from_environ(variables)
    assert (read.service, read.namespace, read.port) == ("app", variables[contract.ENV_NAMESPACE], 8080)
    assert read.election is not None
    assert read.election.roles_service_id == variables[contract.ENV_ROLES_SERVICE_ID]
    assert read.election.lease_table == variables[contract.ENV_LEASE_TABLE]
    assert read.election.attribute == contract.ELECTION_ATTRIBUTE
    assert read.election.interval == contract.ELECTION_INTERVAL_SECONDS
    assert read.election.lease_ttl == contract.LEASE_TTL_SECONDS
    assert Settings.from_environ(environment(dev_run, "worker")).election is None
    assert read.grpc_peers == {"worker": f"dns:///worker.{read.namespace}:8080"}
    assert read.srv_peers == {"cache": f"cache.{read.namespace}"}
    assert contract.peer_list(read.grpc_peers) == variables[contract.ENV_GRPC_PEERS]


def test_both_copies_of_the_names_are_equal() -> None:
    assert app_settings.FROM_THE_STACK == contract.ALWAYS
    assert app_settings.FROM_THE_STACK_FOR_ELECTION == contract.FOR_ELECTION
    assert app_settings.FROM_THE_STACK_FOR_PEERS == contract.FOR_PEERS
    app_side = {name: value for name, value in vars(app_settings).items() if name.startswith("ENV_")}
    stack_side = {name: value for name, value in vars(contract).items() if name.startswith("ENV_")}
    # Every name the stack knows, the app knows by the same constant; the app's extra ones are its own knobs.
    assert stack_side.items() <= app_side.items()
    for local in set(app_side) - set(stack_side):
        assert app_side[local] not in stack_side.values()


def test_a_renamed_variable_on_the_app_side_is_caught(dev_run: StackRun, monkeypatch: pytest.MonkeyPatch) -> None:
    """The failure this file exists for: the app reads a name the stack does not set."""
    monkeypatch.setattr(app_settings, "ENV_LEASE_TABLE", "MAPGATE_LEASE_TABLE_NAME")
    env = ReadLog(environment(dev_run, "app"))
    read = Settings.from_environ(env)
    assert read.election is None
    assert contract.ENV_LEASE_TABLE not in env.read


def test_the_app_times_its_election_as_the_stack_prices_it() -> None:
    """`mapgate plan` prices the election's calls from the contract; the app's defaults are the same numbers."""
    timing = Timing()
    assert timing.interval == contract.ELECTION_INTERVAL_SECONDS
    assert timing.lease_ttl == contract.LEASE_TTL_SECONDS
    assert timing.reconcile_every == contract.RECONCILE_EVERY_ROUNDS


def test_the_lease_item_has_the_same_attribute_names_in_the_app_and_the_stack() -> None:
    """`mapgate status` reads the item by the stack's names; the app writes it by its own."""
    assert app_lease.ITEM_ATTRIBUTES == contract.LEASE_ITEM_ATTRIBUTES
    assert app_lease.KEY == contract.LEASE_KEY == election_component.LEASE_KEY
