"""Shared fixtures: the dev and prod stacks, each run once per session under mocks."""

from __future__ import annotations

import pytest

from tests.harness import StackRun, load_stack_file, run_stack


@pytest.fixture(scope="session")
def dev_run() -> StackRun:
    return run_stack(load_stack_file("dev"), stack="dev")


@pytest.fixture(scope="session")
def prod_run() -> StackRun:
    return run_stack(load_stack_file("prod"), stack="prod")


@pytest.fixture(params=["dev", "prod"])
def any_run(request: pytest.FixtureRequest, dev_run: StackRun, prod_run: StackRun) -> StackRun:
    return dev_run if request.param == "dev" else prod_run
