"""The pool against local servers that speak each provider's real wire format, over real Redis:
failover, cool-downs, exhaustion, breakers, shared quotas, and the local fallback."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from core.infra.redis_failover import FailoverRedis
from core.interview.question_bank import question_bank
from core.models import CRITERIA
from core.providers.answerer import LocalAnswerer, PooledAnswerer
from core.providers.catalogue import ProviderEntry, Slot
from core.providers.pool import Pool
from core.providers.prompts import LlmEvaluation, evaluation_request
from core.providers.quota import BreakerTimings, Quota, next_reset_ms, now_ms, slot_key
from testing.app_stack import Services
from testing.fakes import FakeProvider

QUESTION = question_bank().all_questions()[0]
ANSWER = "First we measured, then we cut latency by 40% with a cache, because reads dominated."
VALID_REPLY = json.dumps(
    {c: {"score": 4, "reason": "clear"} for c in CRITERIA}
    | {
        "evidence": ["we cut latency by 40%"],
        "improvement": "Name the trade-off.",
        "covered_points": [],
        "missed_points": [],
    }
)
REQUEST = evaluation_request(QUESTION, ANSWER)


@asynccontextmanager
async def running(*fakes: FakeProvider) -> AsyncIterator[list[str]]:
    async with AsyncExitStack() as stack:
        urls = [await fake.start() for fake in fakes]
        for fake in fakes:
            stack.push_async_callback(fake.stop)
        yield urls


def slot_for(
    fake: FakeProvider, base_url: str, rpd: int = 1000, rpm: int = 1000, timeout: float = 2.0
) -> Slot:
    entry = ProviderEntry(
        name=f"{fake.wire}-{uuid.uuid4().hex[:8]}",
        adapter=fake.wire,
        base_url=base_url,
        model="test-model",
        rpm=rpm,
        rpd=rpd,
        reset_timezone="America/Los_Angeles" if fake.wire == "gemini" else "UTC",
        timeout_seconds=timeout,
    )
    return Slot(entry=entry, key_index=0, api_key=fake.api_key, account_id="test-account")


def pool(
    slots: list[Slot], redis: Redis, session: aiohttp.ClientSession, seed: int = 0, **breaker: Any
) -> Pool:
    return Pool(
        slots,
        Quota(FailoverRedis(redis), random.Random(seed), BreakerTimings(**breaker)),
        session,
        deadline_seconds=10,
    )


async def test_a_failing_provider_is_failed_over_to_a_working_one(
    redis: Redis, session: aiohttp.ClientSession
) -> None:
    broken, working = (
        FakeProvider("openai", failure_rates={"server": 1.0}),
        FakeProvider("gemini", reply=VALID_REPLY),
    )
    async with running(broken, working) as urls:
        slots = [slot_for(broken, urls[0]), slot_for(working, urls[1])]
        for seed in range(6):
            asked = await pool(slots, redis, session, seed).ask(REQUEST, LlmEvaluation)
            assert asked is not None and asked[1] is slots[1]
    assert len(working.requests) == 6


async def test_a_per_minute_limit_cools_the_key_down_for_its_retry_after(
    redis: Redis, session: aiohttp.ClientSession
) -> None:
    limited, working = (
        FakeProvider("openai", script=["minute_limit"], reply=VALID_REPLY),
        FakeProvider("openai", reply=VALID_REPLY),
    )
    async with running(limited, working) as urls:
        slots = [slot_for(limited, urls[0]), slot_for(working, urls[1])]
        the_pool = pool(slots, redis, session)
        for _ in range(12):
            assert await the_pool.ask(REQUEST, LlmEvaluation) is not None
    # Once it said 429, it was not asked again while cooling down.
    assert len(limited.requests) == 1
    assert int(await redis.hget(slot_key(slots[0]), "cool_until")) > now_ms()


async def test_a_daily_limit_exhausts_the_key_until_its_reset(
    redis: Redis, session: aiohttp.ClientSession
) -> None:
    spent, working = (
        FakeProvider("gemini", script=["day_limit"]),
        FakeProvider("cloudflare", reply=VALID_REPLY),
    )
    async with running(spent, working) as urls:
        slots = [slot_for(spent, urls[0]), slot_for(working, urls[1])]
        the_pool = pool(slots, redis, session, seed=3)
        for _ in range(10):
            assert await the_pool.ask(REQUEST, LlmEvaluation) is not None
    assert len(spent.requests) == 1
    assert int(await redis.hget(slot_key(slots[0]), "exhausted_until")) == next_reset_ms(slots[0], now_ms())


@pytest.mark.parametrize("failure", ["garbage", "empty", "slow", "down", "auth"])
async def test_bad_replies_and_dead_providers_are_failed_over(
    failure: str, redis: Redis, session: aiohttp.ClientSession
) -> None:
    bad, good = (
        FakeProvider("openai", failure_rates={failure: 1.0}),
        FakeProvider("openai", reply=VALID_REPLY),
    )
    async with running(bad, good) as urls:
        slots = [slot_for(bad, urls[0], timeout=0.5), slot_for(good, urls[1])]
        for seed in range(4):
            asked = await pool(slots, redis, session, seed).ask(REQUEST, LlmEvaluation)
            assert asked is not None and asked[1] is slots[1]


async def test_a_reply_that_breaks_the_schema_is_failed_over(
    redis: Redis, session: aiohttp.ClientSession
) -> None:
    wrong = FakeProvider("openai", reply=json.dumps({"relevance": {"score": 9, "reason": "x"}}))
    good = FakeProvider("gemini", reply=VALID_REPLY)
    async with running(wrong, good) as urls:
        slots = [slot_for(wrong, urls[0]), slot_for(good, urls[1])]
        for seed in range(4):
            asked = await pool(slots, redis, session, seed).ask(REQUEST, LlmEvaluation)
            assert asked is not None and asked[1] is slots[1]


async def test_when_every_provider_fails_the_local_evaluator_answers(
    redis: Redis, session: aiohttp.ClientSession
) -> None:
    fakes = [
        FakeProvider("openai", failure_rates={"server": 1.0}),
        FakeProvider("gemini", failure_rates={"down": 1.0}),
    ]
    async with running(*fakes) as urls:
        slots = [slot_for(fake, url) for fake, url in zip(fakes, urls, strict=True)]
        provider = PooledAnswerer(pool(slots, redis, session), LocalAnswerer())
        evaluation = await provider.evaluate(QUESTION, ANSWER)
    assert evaluation.scored_by == "local"


async def test_the_breaker_stops_calls_to_a_provider_that_keeps_failing(
    redis: Redis, session: aiohttp.ClientSession
) -> None:
    failing = FakeProvider("openai", failure_rates={"server": 1.0})
    async with running(failing) as urls:
        slots = [slot_for(failing, urls[0])]
        the_pool = pool(slots, redis, session, threshold=3, base_open_ms=60_000)
        for _ in range(8):
            assert await the_pool.ask(REQUEST, LlmEvaluation) is None
    assert len(failing.requests) == 3


async def test_two_pools_never_overspend_one_shared_quota(services: Services) -> None:
    fakes = [FakeProvider("openai", reply=VALID_REPLY, latency=0.01) for _ in range(3)]
    async with running(*fakes) as urls, AsyncExitStack() as stack:
        slots = [slot_for(fake, url, rpd=10) for fake, url in zip(fakes, urls, strict=True)]
        pools = []
        for seed in (1, 2):
            redis = await stack.enter_async_context(Redis.from_url(services.redis_url))
            session = await stack.enter_async_context(aiohttp.ClientSession())
            pools.append(pool(slots, redis, session, seed))
        results = await asyncio.gather(*(pools[i % 2].ask(REQUEST, LlmEvaluation) for i in range(60)))
    assert sum(result is not None for result in results) == 30
    assert [len(fake.requests) for fake in fakes] == [10, 10, 10]
