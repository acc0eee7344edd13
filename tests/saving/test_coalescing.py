"""The cache and dedup layers over real Redis: exact and near-duplicate hits, never across questions,
and identical jobs in flight in two instances coalesced into one provider call."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.infra.connections import connections
from core.interview.question_bank import question_bank
from core.models import CRITERIA
from core.providers.catalogue import ProviderEntry, Slot
from core.providers.pool import Pool
from core.providers.prompts import LlmEvaluation, evaluation_request
from core.providers.quota import Quota
from core.saving import cache, coalescing
from core.saving.cache import ResultKey
from core.saving.coalescing import Computed
from core.settings import get_settings
from testing.app_stack import Services
from testing.fakes import FakeProvider

PASTED = (
    "In my last team our checkout API timed out under load during sales. I profiled the slow path, added "
    "idempotency keys so retries were safe, and put a Redis cache in front of the product lookups. As a "
    "result p95 latency fell from 900 ms to 180 ms and the timeouts stopped for the rest of the season."
)
REPLY = json.dumps(
    {c: {"score": 4, "reason": "clear"} for c in CRITERIA}
    | {"evidence": [], "improvement": "Name the trade-off.", "covered_points": [], "missed_points": []}
)


def job(text: str, scope: str) -> ResultKey:
    return ResultKey("evaluate", "test-class", scope, text, ordered=True)


def computing(payload: bytes, calls: list[str], *, delay: float = 0.0, shareable: bool = True) -> Any:
    async def compute() -> Computed:
        calls.append("called")
        await asyncio.sleep(delay)
        return payload, shareable

    return compute


@pytest.fixture
def scope(services: Services) -> str:
    return f"question-{uuid.uuid4().hex}"  # each test its own question, on the session's shared Redis


async def test_case_white_space_and_punctuation_map_to_one_key(scope: str) -> None:
    calls: list[str] = []
    assert await coalescing.once(job(PASTED, scope), computing(b"scored", calls)) == (b"scored", "computed")
    variant = "  " + PASTED.upper().replace(". ", ".\n\n").replace(",", " ,") + "  "
    assert job(variant, scope).key == job(PASTED, scope).key
    assert await coalescing.find(job(variant, scope)) == (b"scored", "cache")
    assert calls == ["called"]


async def test_a_lightly_edited_paste_is_a_near_duplicate_but_other_content_is_not(scope: str) -> None:
    await coalescing.once(job(PASTED, scope), computing(b"scored", []))
    edited = PASTED.replace("idempotency", "idempotancy").replace("season.", "season. Thanks!")
    assert job(edited, scope).key != job(PASTED, scope).key
    assert await coalescing.find(job(edited, scope)) == (b"scored", "near")

    other_result = PASTED.replace("180 ms", "450 ms")
    assert await coalescing.find(job(other_result, scope)) is None
    negated = PASTED.replace("the timeouts stopped", "the timeouts never stopped")
    assert await coalescing.find(job(negated, scope)) is None
    other_tool = PASTED.replace("a Redis cache", "a Memcached cache")
    assert await coalescing.find(job(other_tool, scope)) is None


async def test_never_matched_across_questions_or_model_classes(scope: str) -> None:
    await coalescing.once(job(PASTED, scope), computing(b"scored", []))
    assert await coalescing.find(job(PASTED, scope + "-other")) is None
    assert await coalescing.find(ResultKey("evaluate", "another-class", scope, PASTED, ordered=True)) is None


async def test_a_result_that_may_not_be_shared_is_returned_but_not_cached(scope: str) -> None:
    calls: list[str] = []
    result = await coalescing.once(job(PASTED, scope), computing(b"fallback", calls, shareable=False))
    assert result == (b"fallback", "computed")
    assert await coalescing.find(job(PASTED, scope)) is None
    assert await connections().redis().run(lambda redis: redis.exists(job(PASTED, scope).inflight_key)) == 0


async def test_values_are_compressed_and_expire(scope: str) -> None:
    payload = json.dumps({"improvement": "Say what the cache cost you. " * 20}).encode()
    await coalescing.once(job(PASTED, scope), computing(payload, []))
    redis = connections().redis()
    stored = await redis.run(lambda client: client.get(job(PASTED, scope).key))
    # Smaller than the result alone, though the answer's fingerprint is stored with it.
    assert len(stored) < len(payload) and cache.decode(stored)[0] == payload
    ttl = await redis.run(lambda client: client.ttl(job(PASTED, scope).key))
    assert 0 < ttl <= get_settings().cache_ttl_seconds["evaluate"]
    band_ttls = [
        await redis.run(lambda client, key=key: client.ttl(key)) for key in job(PASTED, scope).band_keys
    ]
    assert band_ttls and all(0 < ttl <= get_settings().cache_ttl_seconds["evaluate"] for ttl in band_ttls)


async def test_a_waiter_proceeds_itself_when_the_job_in_flight_never_finishes(
    scope: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "coalesce_wait_seconds", 0.5)
    holder = await cache.lookup(job(PASTED, scope), claim=True)  # claimed by an instance that then died
    assert holder.claimed
    calls: list[str] = []
    assert await coalescing.once(job(PASTED, scope), computing(b"mine", calls)) == (b"mine", "computed")
    assert calls == ["called"]


async def test_a_failed_job_in_flight_releases_its_waiters_at_once(scope: str) -> None:
    async def failing() -> Computed:
        await asyncio.sleep(0.3)
        raise RuntimeError("provider blew up")

    first = asyncio.create_task(coalescing.once(job(PASTED, scope), failing))
    await asyncio.sleep(0.1)
    calls: list[str] = []
    # The wait for the holder is 15 s; released, the waiter goes ahead long before that.
    second = await asyncio.wait_for(coalescing.once(job(PASTED, scope), computing(b"mine", calls)), timeout=5)
    assert second == (b"mine", "computed") and calls == ["called"]
    with pytest.raises(RuntimeError):
        await first


def _slot(fake: FakeProvider) -> Slot:
    entry = ProviderEntry(
        name=f"coalesce-{uuid.uuid4().hex[:8]}", adapter="openai", base_url=fake.base_url, model="m",
        rpm=1000, rpd=1000, timeout_seconds=5.0,
    )  # fmt: skip
    return Slot(entry=entry, key_index=0, api_key=fake.api_key, account_id="test-account")


async def _ask_once(slot: Slot, text: str, scope: str) -> tuple[bytes | None, coalescing.Found]:
    """One instance's worker: its own Redis connections, its own pool, the same shared quota."""
    pool = Pool([slot], Quota(connections().redis(), random.Random()), connections().http())
    question = question_bank().all_questions()[0]

    async def compute() -> Computed:
        asked = await pool.ask(evaluation_request(question, text), LlmEvaluation)
        assert asked is not None
        return asked[0].model_dump_json().encode(), True

    try:
        return await coalescing.once(job(text, scope), compute)
    finally:
        await connections().close()


@pytest.fixture
async def slow_provider() -> AsyncIterator[FakeProvider]:
    fake = FakeProvider("openai", reply=REPLY, latency=0.8)
    await fake.start()
    yield fake
    await fake.stop()


async def test_identical_jobs_in_two_instances_make_one_provider_call(
    scope: str, slow_provider: FakeProvider
) -> None:
    slot = _slot(slow_provider)
    # The second instance runs on its own thread and event loop, so it shares nothing with the first
    # but Redis and the provider: as two Functions instances would.
    other_instance = asyncio.to_thread(asyncio.run, _ask_once(slot, PASTED, scope))
    results = await asyncio.gather(_ask_once(slot, PASTED, scope), other_instance)
    assert len(slow_provider.received) == 1
    assert sorted(found for _, found in results) == ["coalesced", "computed"]
    assert results[0][0] == results[1][0]


async def test_different_answers_in_flight_are_not_coalesced(scope: str, slow_provider: FakeProvider) -> None:
    slot = _slot(slow_provider)
    other = PASTED.replace("900 ms", "700 ms")
    other_instance = asyncio.to_thread(asyncio.run, _ask_once(slot, other, scope))
    results = await asyncio.gather(_ask_once(slot, PASTED, scope), other_instance)
    assert len(slow_provider.received) == 2
    assert [found for _, found in results] == ["computed", "computed"]
