"""The real stack for the tests: embedded Redis (or REDIS_URL), Azurite, and the devhost running
function_app.app in its own process. Tests talk to it over HTTP, and to Redis and the queues directly
only to look at what the app did or to play the parts of other clients (ops, a redelivering queue)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from devhost.stack import Service, start_azurite, start_devhost, start_redis
from tests.app_stack import FUNCTION_KEY, MASTER_KEY, ROOT, Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("stack")
    started: list[Service] = []
    try:
        redis_url = os.environ.get("REDIS_URL")
        if not redis_url:
            started.append(start_redis(workdir / "redis"))
            redis_url = started[-1].url
        started.append(start_azurite(workdir / "azurite", in_memory=True))
        storage = started[-1].url
        env = {
            "REDIS_URL": redis_url,
            "AzureWebJobsStorage": storage,
            "DEVHOST_MASTER_KEY": MASTER_KEY,
            "DEVHOST_FUNCTION_KEY": FUNCTION_KEY,
        }
        # The test process reads and writes the same Redis and storage through core's own clients.
        os.environ.update(env)
        started.append(start_devhost(ROOT, env))
        yield Stack(base_url=started[-1].url, redis_url=redis_url, storage=storage)
    finally:
        for service in reversed(started):
            service.stop()


@pytest.fixture(scope="session")
async def http(stack: Stack) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=stack.base_url) as session:
        yield session
