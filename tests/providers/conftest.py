"""Fixtures of the provider tests: a client of the test Redis, and an HTTP session to the fakes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from redis.asyncio import Redis

from testing.app_stack import Services


@pytest.fixture
async def redis(services: Services) -> AsyncIterator[Redis]:
    async with Redis.from_url(services.redis_url) as client:
        yield client


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client
