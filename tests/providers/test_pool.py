"""The pool against local servers that speak each provider's real wire format, over real Redis:
failover, cool-downs, exhaustion, breakers, shared quotas, and the local fallback."""

from __future__ import annotations

import asyncio
import dataclasses
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
from core.providers.adapters.bounded_json import MAX_BODY_BYTES, MAX_JSON_DEPTH
from core.providers.answerer import LocalAnswerer, PooledAnswerer
from core.providers.catalogue import ProviderEntry, Slot
from core.providers.pool import MAX_ATTEMPTS, Pool
from core.providers.prompts import LlmEvaluation, evaluation_request
from core.providers.quota import (
    BreakerTimings,
    Quota,
    breaker_key,
    local_date,
    next_reset_ms,
    now_ms,
    slot_key,
    stats_key,
)
from testing.app_stack import Services
from testing.fakes import FakeProvider, Wire

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


# --- bounded calls: attempts per job, invalid content, oversized replies ------------------------------


async def test_a_job_makes_at_most_three_provider_calls_even_with_ten_failing_providers(
    redis: Redis, session: aiohttp.ClientSession
) -> None:
    fakes = [FakeProvider("openai", failure_rates={"server": 1.0}) for _ in range(10)]
    async with running(*fakes) as urls:
        slots = [slot_for(fake, url) for fake, url in zip(fakes, urls, strict=True)]
        the_pool = pool(slots, redis, session)
        assert await the_pool.ask_counted(REQUEST, LlmEvaluation) == (None, MAX_ATTEMPTS)
        assert sum(len(fake.requests) for fake in fakes) == MAX_ATTEMPTS == 3
        # The job then falls to the built-in evaluator, still in three calls.
        evaluation = await PooledAnswerer(the_pool, LocalAnswerer()).evaluate(QUESTION, ANSWER)
    assert evaluation.scored_by == "local"
    assert sum(len(fake.requests) for fake in fakes) == 2 * MAX_ATTEMPTS


async def test_a_job_asked_for_fewer_attempts_makes_no_more(
    redis: Redis, session: aiohttp.ClientSession
) -> None:
    fakes = [FakeProvider("gemini", failure_rates={"down": 1.0}) for _ in range(4)]
    async with running(*fakes) as urls:
        slots = [slot_for(fake, url) for fake, url in zip(fakes, urls, strict=True)]
        assert await pool(slots, redis, session).ask(REQUEST, LlmEvaluation, attempts=2) is None
        assert await pool(slots, redis, session).ask(REQUEST, LlmEvaluation, attempts=99) is None
    assert sum(len(fake.requests) for fake in fakes) == 2 + MAX_ATTEMPTS


def invalid_then_valid(invalid: int, content: str) -> Any:
    """A model that answers `content` to its first `invalid` prompts, and a valid evaluation after."""
    calls = 0

    def reply(_: dict[str, Any]) -> str:
        nonlocal calls
        calls += 1
        return content if calls <= invalid else VALID_REPLY

    return reply


@pytest.mark.parametrize(
    "content",
    [
        "Sure! Here is the evaluation you asked for.",  # not JSON
        json.dumps({"relevance": {"score": 9, "reason": "x"}}),  # JSON that breaks the schema
        "[" * 5000 + "]" * 5000,  # JSON nested far too deep: refused before it is parsed
    ],
)
async def test_invalid_content_neither_opens_the_breaker_nor_skips_the_provider_for_the_next_job(
    content: str, redis: Redis, session: aiohttp.ClientSession
) -> None:
    model = FakeProvider("openai", reply=invalid_then_valid(8, content))
    async with running(model) as urls:
        slots = [slot_for(model, urls[0])]
        the_pool = pool(slots, redis, session, threshold=3, base_open_ms=60_000)
        # Each job tries the provider once (the same model would likely answer its prompt alike) and
        # falls back; the next job tries it again: eight jobs, eight calls, past a breaker of three.
        for _ in range(8):
            assert await the_pool.ask_counted(REQUEST, LlmEvaluation) == (None, 1)
        asked = await the_pool.ask(REQUEST, LlmEvaluation)
    assert asked is not None and asked[1] is slots[0]
    assert len(model.requests) == 9
    assert await redis.exists(breaker_key(slots[0].entry.name)) == 0
    stats = await redis.hgetall(stats_key(slots[0], local_date(slots[0], now_ms())))
    assert (int(stats[b"calls"]), int(stats[b"errors"]), int(stats[b"invalid_content"])) == (9, 8, 8)


async def test_envelope_garbage_still_counts_toward_the_breaker(
    redis: Redis, session: aiohttp.ClientSession
) -> None:
    garbage = FakeProvider("openai", failure_rates={"garbage": 1.0}, reply=VALID_REPLY)
    async with running(garbage) as urls:
        slots = [slot_for(garbage, urls[0])]
        the_pool = pool(slots, redis, session, threshold=3, base_open_ms=60_000)
        for _ in range(8):
            assert await the_pool.ask(REQUEST, LlmEvaluation) is None
    assert len(garbage.requests) == 3
    stats = await redis.hgetall(stats_key(slots[0], local_date(slots[0], now_ms())))
    assert int(stats[b"errors"]) == 3 and b"invalid_content" not in stats


def nested(depth: int) -> dict[str, Any]:
    found: dict[str, Any] = {"leaf": True}
    for _ in range(depth - 1):
        found = {"next": found}
    return found


@pytest.mark.parametrize(
    ("wire", "reply", "outcome"),
    [
        # A body over 256 KB: the provider's envelope is refused, unread past the limit.
        ("openai", json.dumps({"improvement": "x" * 300_000}), "bad_reply"),
        ("gemini", "y" * (MAX_BODY_BYTES + 1), "bad_reply"),
        # Cloudflare's JSON mode nests the model's object in its envelope: 100 levels is the envelope's.
        ("cloudflare", nested(100), "bad_reply"),
        # Within the envelope's limits but deeper than a model's reply may be: the content's fault.
        ("cloudflare", nested(MAX_JSON_DEPTH + 2), "invalid_content"),
        ("gemini", "[" * 900 + "]" * 900, "invalid_content"),
    ],
)
async def test_an_oversized_or_too_deep_reply_is_refused_without_a_crash(
    wire: Wire, reply: Any, outcome: str, redis: Redis, session: aiohttp.ClientSession
) -> None:
    big = FakeProvider(wire, reply=reply)
    good = FakeProvider("openai", reply=VALID_REPLY)
    async with running(big, good) as urls:
        slots = [slot_for(big, urls[0]), slot_for(good, urls[1])]
        # Room for the whole reply: the fakes cut a reply at the request's max_tokens, as providers do.
        request = dataclasses.replace(REQUEST, max_tokens=200_000)
        assert await pool([slots[0]], redis, session).ask(request, LlmEvaluation) is None
        # With a working provider beside it, the job fails over and is answered.
        for seed in range(3):
            asked = await pool(slots, redis, session, seed).ask(request, LlmEvaluation)
            assert asked is not None and asked[1] is slots[1]
    stats = await redis.hgetall(stats_key(slots[0], local_date(slots[0], now_ms())))
    breaker = await redis.hget(breaker_key(slots[0].entry.name), "failures")
    if outcome == "bad_reply":
        assert int(breaker) >= 1 and b"invalid_content" not in stats
    else:
        assert breaker is None and int(stats[b"invalid_content"]) >= 1
