"""A real stack for the devhost tests: Redis and in-memory Azurite, and a devhost hosting sample_app/."""

import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
import redis
import requests

from devhost.stack import start_azurite, start_devhost, start_redis
from tests.devhost.sample_stack import FUNCTION_KEY, MASTER_KEY, SAMPLE_APP, SampleStack

T = TypeVar("T")


@pytest.fixture(scope="module")
def sample_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleStack]:
    workdir = tmp_path_factory.mktemp("devhost")
    with (
        start_redis(workdir / "redis") as redis_service,
        start_azurite(workdir / "azurite", in_memory=True) as azurite,
    ):
        env = {
            "REDIS_URL": redis_service.url,
            "AzureWebJobsStorage": azurite.url,
            "DEVHOST_FUNCTION_KEY": FUNCTION_KEY,
            "DEVHOST_MASTER_KEY": MASTER_KEY,
            # Also in the sample's local.settings.json.example: the process environment must win.
            "SAMPLE_PUNCTUATION": "!",
        }
        with start_devhost(SAMPLE_APP, env, log_path=workdir / "devhost.log") as devhost:
            yield SampleStack(devhost=devhost, redis_url=redis_service.url, storage=azurite.url)


@pytest.fixture(scope="module")
def store(sample_stack: SampleStack) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(sample_stack.redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="module")
def http(sample_stack: SampleStack) -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def eventually() -> Callable[..., Any]:
    """Poll `check` until it returns something truthy, failing after `timeout` seconds."""

    def wait(check: Callable[[], T | None], timeout: float = 10.0) -> T:
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                pytest.fail(f"condition not met within {timeout}s (last result: {result!r})")
            time.sleep(0.05)

    return wait
