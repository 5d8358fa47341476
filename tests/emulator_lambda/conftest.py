"""Fixtures for the Lambda executor's tests against the session's emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.emulator_lambda.functions import deploy, restore_lambda_config, set_lambda_config


@pytest.fixture
def lambda_client(emulator_session):
    return emulator_session.client("lambda")


@pytest.fixture
def deploy_function(emulator_session) -> Iterator[Callable[..., str]]:
    """``deploy_function(source, **config) -> name``; the functions are deleted afterwards."""
    names: list[str] = []

    def _deploy(source: str, **config: Any) -> str:
        names.append(deploy(emulator_session, source, **config))
        return names[-1]

    yield _deploy
    client = emulator_session.client("lambda")
    for name in names:
        client.delete_function(FunctionName=name)


@pytest.fixture
def lambda_config(emulator) -> Iterator[Callable[..., None]]:
    """``lambda_config(max_concurrency=2)`` for one test, through ``/moto-api/config``."""
    saved: list[dict[str, Any]] = []

    def _set(**settings: Any) -> None:
        previous = set_lambda_config(emulator.endpoint_url, **settings)
        if not saved:
            saved.append(previous)

    yield _set
    if saved:
        restore_lambda_config(emulator.endpoint_url, saved[0])
