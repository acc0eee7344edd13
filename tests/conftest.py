"""The real stack for the tests: embedded Redis (or REDIS_URL), Azurite, and the devhost running
function_app.app in its own process. Tests talk to it over HTTP, and to Redis and the queues directly
only to look at what the app did or to play the parts of other clients (ops, a redelivering queue)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
from hypothesis import settings

from core.infra import signals
from core.infra.connections import connections
from core.settings import get_settings
from devhost.stack import start_azurite, start_devhost, start_redis
from testing.app_stack import FUNCTION_KEY, MASTER_KEY, NO_CLIENT_LIMITS, OPS_KEY, ROOT, Services, Stack

# `make mutate` runs the tests once per mutant: with the same examples each time, a mutant is killed by
# what it breaks, not by a new random example (HYPOTHESIS_PROFILE=derandomized).
settings.register_profile("derandomized", derandomize=True, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# The tests read counters right after what they count: every count is written at once here (and in the
# hosts they start, which inherit the environment; settings are read on first use, after this line).
# The batched writes have their own test, tests/infra/test_usage.py.
os.environ.setdefault("USAGE_FLUSH_SECONDS", "0")


@pytest.fixture(scope="session")
async def services(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Services]:
    workdir = tmp_path_factory.mktemp("services")
    # Put back at the end: a second session in this process (mutmut runs several) starts its own servers
    # rather than reaching for the stopped ones.
    before = {name: os.environ.get(name) for name in ("REDIS_URL", "AzureWebJobsStorage")}
    redis = None if os.environ.get("REDIS_URL") else start_redis(workdir / "redis")
    try:
        with start_azurite(workdir / "azurite", in_memory=True) as azurite:
            found = Services(redis_url=os.environ.get("REDIS_URL") or redis.url, storage=azurite.url)
            # The test process reads and writes the same Redis and storage through core's own clients.
            os.environ.update({"REDIS_URL": found.redis_url, "AzureWebJobsStorage": found.storage})
            get_settings.cache_clear()
            yield found
            # Closed before the servers stop, so the ready-signal listener does not keep reconnecting.
            await signals.stop_listening()
            await connections().close()
    finally:
        if redis is not None:
            redis.stop()
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


@pytest.fixture(scope="session")
def stack(services: Services) -> Iterator[Stack]:
    env = {
        "REDIS_URL": services.redis_url,
        "AzureWebJobsStorage": services.storage,
        "DEVHOST_MASTER_KEY": MASTER_KEY,
        "DEVHOST_FUNCTION_KEY": FUNCTION_KEY,
        "OPS_KEY": OPS_KEY,
        **NO_CLIENT_LIMITS,
        # Every kind of job through the queue, so the tests cover the queue path; with no provider keys
        # the worker's provider is the local evaluator. tests/e2e/test_saving_layers.py runs the default policy.
        "REMOTE_JOBS": "evaluate,questions,report",
    }
    with start_devhost(ROOT, env) as host:
        yield Stack(base_url=host.url, redis_url=services.redis_url, storage=services.storage)


@pytest.fixture(scope="session")
async def http(stack: Stack) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=stack.base_url) as session:
        yield session


# Fixtures that start or reach a service: a test that uses any of them is left out of `make test-fast`.
SERVICE_FIXTURES = frozenset({"services", "stack", "http", "sample_stack", "browser", "page", "context"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVICE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.service)
