"""The cache in a small Redis with the eviction policy the README asks for (volatile-lru): writing far
more than fits never fails, old cache entries are what goes, and keys without an expiry (the pool's
provider state) stay. With `noeviction` instead, a full Redis refuses writes, and the app runs without
caching: answers are still scored and stored, nothing is cached. A real redis-server, its maxmemory set
small so the test fills it quickly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import OutOfMemoryError

from core.infra import signals, store
from core.infra.connections import connections
from core.interview import service, worker
from core.interview.question_bank import interview_question
from core.interview.shared_results import evaluation_key
from core.models import EvaluateJob, InterviewSetup, TurnRecord
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


async def fill_refused() -> None:
    """On its own event loop: as in fill(), far more than fits; a refused write raises nothing."""
    try:
        for start in range(0, ENTRIES, WRITERS):
            await asyncio.gather(*(cache.store(job(n), PAYLOAD) for n in range(start, start + WRITERS)))
    finally:
        await connections().close()


async def score_twice() -> tuple[list[str | None], bool]:
    """On its own event loop, with the full Redis: the same answer in two interviews, each evaluated by
    the queue worker. The sources their feedback came from, and whether the evaluation was cached."""
    try:
        sources: list[str | None] = []
        cached = False
        for _ in range(2):
            created = await service.create(
                InterviewSetup(role="backend", level="mid", kind="mixed", questions=3)
            )
            current = await store.load_interview(created.id)
            assert current is not None
            record = current.record
            turn = TurnRecord(
                turn=1, question_id=record.question_ids[0], answer=GOOD_ANSWER, answered_at=datetime.now(UTC)
            )
            await store.add_turn(current, record.model_copy(update={"answered": 1}), turn)
            await worker.evaluate(EvaluateJob(interview_id=created.id, turn=1))
            loaded = await store.load_turn(created.id, 1)
            assert loaded is not None and loaded[0].feedback is not None
            sources.append(loaded[0].source)
            question = interview_question(record, turn.question_id)
            cached = cached or await coalescing.find(evaluation_key(question, GOOD_ANSWER)) is not None
        return sources, cached
    finally:
        await signals.stop_listening()
        await connections().close()


async def test_a_full_redis_with_noeviction_refuses_writes_and_the_app_runs_without_caching(
    services: Services, small_redis: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Redis.from_url(small_redis.url) as direct:
        await direct.flushall()
        await direct.config_resetstat()  # the server is the module's: start from no evictions
        await direct.config_set("maxmemory", MAX_MEMORY)
        await direct.config_set("maxmemory-policy", "noeviction")
        monkeypatch.setattr(get_settings(), "redis_url", small_redis.url)

        await asyncio.to_thread(asyncio.run, fill_refused())
        stored = await direct.exists(*(job(n).key for n in range(ENTRIES)))
        assert 0 < stored < ENTRIES, stored  # part of it fits, the rest was refused, none failed a caller
        # Full to the brim, as the app leaves it: the next write is refused, and nothing was evicted.
        for n in range(10_000):
            try:
                await direct.set(f"filler-{n}", PAYLOAD)
            except OutOfMemoryError:
                break
        else:
            pytest.fail("a Redis with noeviction took 10,000 writes past its maxmemory")
        assert int((await direct.info("stats"))["evicted_keys"]) == 0

        sources, cached = await asyncio.to_thread(asyncio.run, score_twice())
        # Both answers scored, the second computed again rather than served: nothing could be cached.
        assert sources == ["provider", "provider"]
        assert not cached
