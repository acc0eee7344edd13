"""The cache in a small Redis with the eviction policy the README asks for (volatile-lru): writing far
more than fits never fails, old cache entries are what goes, and keys without an expiry (the pool's
provider state) stay. A real redis-server, its maxmemory set small so the test fills it quickly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from core.infra.connections import connections
from core.saving import cache, coalescing
from core.saving.cache import ResultKey
from core.settings import get_settings
from devhost.stack import Service, start_redis
from testing.app_stack import Services
from testing.interview_client import GOOD_ANSWER

# Starts its own servers (redis-server, Azurite or the host): not in the fast tier.
pytestmark = pytest.mark.service

MAX_MEMORY = 3 * 1024 * 1024
ENTRIES = 3000  # about twice what fits
# A few writers at once, as a few instances would be; each connection's buffers count against maxmemory.
WRITERS = 8
PAYLOAD = (b'{"improvement": "Say what the cache cost you and what you would measure next time."}' * 8)[:700]


@pytest.fixture(scope="module")
def small_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    with start_redis(Path(tmp_path_factory.mktemp("small-redis"))) as server:
        yield server


def job(n: int) -> ResultKey:
    return ResultKey(
        "evaluate", "memory-test", f"question-{n % 40}", f"{GOOD_ANSWER} Attempt {n}.", ordered=True
    )


async def fill() -> bool:
    """On its own event loop, so that core's clients are made anew from the patched settings."""
    try:
        for start in range(0, ENTRIES, WRITERS):
            await asyncio.gather(*(cache.store(job(n), PAYLOAD) for n in range(start, start + WRITERS)))
        return await coalescing.find(job(ENTRIES - 1)) == (PAYLOAD, "cache")
    finally:
        await connections().close()


async def test_a_full_cache_evicts_old_entries_and_keeps_working(
    services: Services, small_redis: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Redis.from_url(small_redis.url) as direct:
        await direct.config_set("maxmemory", MAX_MEMORY)
        await direct.config_set("maxmemory-policy", "volatile-lru")
        await direct.hset("slot:groq#0", mapping={"cool_until": 0})  # provider state: no expiry
        monkeypatch.setattr(get_settings(), "redis_url", small_redis.url)

        assert await asyncio.to_thread(asyncio.run, fill())  # no write failed; the newest entry serves

        memory, stats = await direct.info("memory"), await direct.info("stats")
        assert int(stats["evicted_keys"]) > 0
        assert int(memory["used_memory"]) <= MAX_MEMORY * 1.05
        assert await direct.exists("slot:groq#0")
        # Redis's LRU is sampled, not exact: most of the oldest entries made room, the newest stayed.
        oldest = await direct.exists(*(job(n).key for n in range(300)))
        newest = await direct.exists(*(job(n).key for n in range(ENTRIES - 300, ENTRIES)))
        assert oldest < 150 and newest > 270, (oldest, newest)
