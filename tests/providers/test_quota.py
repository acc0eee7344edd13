"""Quota, cool-downs and breakers over real Redis: every decision atomic, shared by every instance."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from core.infra.redis_failover import FailoverRedis
from core.providers.catalogue import ProviderEntry, Slot
from core.providers.quota import BreakerTimings, Quota, next_reset_ms, slot_key
from testing.app_stack import Services

START = 1_764_000_000_000  # a fixed instant, so minutes and days do not roll over mid-test


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> int:
        return self.now


def make_slot(
    rpd: int = 100, rpm: int = 100, zone: str = "UTC", key_index: int = 0, name: str | None = None
) -> Slot:
    entry = ProviderEntry(
        name=name or f"t{uuid.uuid4().hex[:10]}", adapter="openai", rpm=rpm, rpd=rpd, reset_timezone=zone
    )
    return Slot(entry=entry, key_index=key_index, api_key="k", account_id=None)


@pytest.fixture
async def redis(services: Services) -> AsyncIterator[Redis]:
    async with Redis.from_url(services.redis_url) as client:
        yield client


def quota(redis: Redis, clock: Clock, seed: int = 1, **breaker: int) -> Quota:
    return Quota(FailoverRedis(redis), random.Random(seed), BreakerTimings(**breaker), clock)


async def test_a_daily_quota_is_never_overrun(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot(rpd=3)
    pool_quota = quota(redis, clock)
    taken = [await pool_quota.reserve([slot]) for _ in range(5)]
    assert taken == [slot, slot, slot, None, None]


async def test_the_per_minute_limit_holds_until_the_next_minute(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot(rpd=100, rpm=2)
    pool_quota = quota(redis, clock)
    assert [await pool_quota.reserve([slot]) for _ in range(3)] == [slot, slot, None]
    clock.now += 60_000
    assert await pool_quota.reserve([slot]) == slot


async def test_two_instances_never_overspend_one_shared_quota(services: Services) -> None:
    clock = Clock()
    slots = [make_slot(rpd=25), make_slot(rpd=15)]
    async with Redis.from_url(services.redis_url) as first, Redis.from_url(services.redis_url) as second:
        instances = [quota(first, clock, seed=1), quota(second, clock, seed=2)]
        taken = await asyncio.gather(*(instances[i % 2].reserve(slots) for i in range(120)))
    assert sum(slot is slots[0] for slot in taken) == 25
    assert sum(slot is slots[1] for slot in taken) == 15
    assert taken.count(None) == 80


async def test_choice_is_weighted_by_remaining_quota(redis: Redis) -> None:
    clock = Clock()
    big, small = make_slot(rpd=10_000, rpm=10_000), make_slot(rpd=1_000, rpm=10_000)
    pool_quota = quota(redis, clock, seed=7)
    taken = [await pool_quota.reserve([big, small]) for _ in range(600)]
    share = taken.count(big) / len(taken)
    assert 0.85 < share < 0.96  # 10,000 / 11,000 = 0.91


async def test_a_minute_limit_cools_the_key_down_and_a_later_shorter_one_does_not_shorten_it(
    redis: Redis,
) -> None:
    clock = Clock()
    slot = make_slot()
    other_key = make_slot(name=slot.entry.name, key_index=1)
    pool_quota = quota(redis, clock)
    assert await pool_quota.record_outcome(slot, "minute_limit", 10, retry_after=120) == "cooling"
    assert await pool_quota.record_outcome(slot, "minute_limit", 10, retry_after=5) == "cooling"
    assert int(await redis.hget(slot_key(slot), "cool_until")) == START + 120_000
    assert await pool_quota.reserve([slot]) is None
    assert await pool_quota.reserve([slot, other_key]) is other_key  # the provider's other key is fine
    clock.now += 119_000
    assert await pool_quota.reserve([slot]) is None
    clock.now += 2_000
    assert await pool_quota.reserve([slot]) is slot


async def test_a_daily_limit_exhausts_the_key_until_the_providers_own_midnight(redis: Redis) -> None:
    clock = Clock()
    pacific = make_slot(zone="America/Los_Angeles")
    pool_quota = quota(redis, clock)
    assert await pool_quota.record_outcome(pacific, "day_limit", 10, retry_after=30) == "exhausted"
    reset = int(await redis.hget(slot_key(pacific), "exhausted_until"))
    assert reset == next_reset_ms(pacific, START)
    clock.now = reset - 1
    assert await pool_quota.reserve([pacific]) is None
    clock.now = reset
    assert await pool_quota.reserve([pacific]) is pacific
    assert await pool_quota.clear_passed([pacific]) == 1


async def test_the_breaker_opens_half_opens_for_one_probe_and_closes_on_success(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot()
    pool_quota = quota(redis, clock, threshold=3, base_open_ms=1_000, max_open_ms=8_000, probe_ms=5_000)
    outcomes = [await pool_quota.record_outcome(slot, "server", 10) for _ in range(3)]
    assert outcomes == ["failed", "failed", "open"]
    assert await pool_quota.reserve([slot]) is None
    clock.now += 1_000
    assert await pool_quota.reserve([slot]) is slot  # the half-open probe
    assert await pool_quota.reserve([slot]) is None  # only one probe at a time
    assert (
        await pool_quota.record_outcome(slot, "timeout", 10) == "open"
    )  # the probe failed: open again, longer
    clock.now += 1_999
    assert await pool_quota.reserve([slot]) is None
    clock.now += 1
    assert await pool_quota.reserve([slot]) is slot
    assert await pool_quota.record_outcome(slot, "ok", 10) == "ok"
    assert [await pool_quota.reserve([slot]) for _ in range(3)] == [slot, slot, slot]  # closed
