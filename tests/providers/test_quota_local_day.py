"""A provider's day is its own: daily counters roll at midnight in the provider's reset time zone, not at
midnight UTC. For America/Los_Angeles in winter (UTC-8) that is 08:00 UTC, so 07:59 and 08:01 UTC are two
days there, and 23:59 and 00:01 UTC one."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

from redis.asyncio import Redis

from core.infra.redis_failover import FailoverRedis
from core.providers.catalogue import Budget, ProviderEntry, Slot
from core.providers.quota import CallSize, Quota, budget_key, day_key, local_date, local_month, next_reset_ms

PACIFIC = "America/Los_Angeles"
SMALL = CallSize(prompt_tokens=300, max_output_tokens=100)


def utc_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def pacific_slot(rpd: int | None = 1, budgets: list[Budget] | None = None) -> Slot:
    entry = ProviderEntry(
        name=f"t{uuid.uuid4().hex[:10]}",
        adapter="openai",
        rpm=100,
        rpd=rpd,
        reset_timezone=PACIFIC,
        budgets=budgets or [],
    )
    return Slot(entry=entry, key_index=0, api_key="k", account_id=None)


class Clock:
    def __init__(self, at: str) -> None:
        self.now = utc_ms(at)

    def set(self, at: str) -> None:
        self.now = utc_ms(at)

    def __call__(self) -> int:
        return self.now


def test_the_local_date_changes_at_the_providers_midnight() -> None:
    slot = pacific_slot()
    assert local_date(slot, utc_ms("2025-01-15T07:59:00")) == "2025-01-14"
    assert local_date(slot, utc_ms("2025-01-15T08:01:00")) == "2025-01-15"
    # UTC's midnight is the middle of the afternoon there: the same day on both sides of it.
    assert local_date(slot, utc_ms("2025-01-14T23:59:00")) == "2025-01-14"
    assert local_date(slot, utc_ms("2025-01-15T00:01:00")) == "2025-01-14"
    # Summer time (UTC-7): midnight is 07:00 UTC.
    assert local_date(slot, utc_ms("2025-07-15T06:59:00")) == "2025-07-14"
    assert local_date(slot, utc_ms("2025-07-15T07:01:00")) == "2025-07-15"
    assert next_reset_ms(slot, utc_ms("2025-01-15T07:59:00")) == utc_ms("2025-01-15T08:00:00")
    assert next_reset_ms(slot, utc_ms("2025-01-15T08:01:00")) == utc_ms("2025-01-16T08:00:00")
    # The month too: 1 February 07:59 UTC is still January there.
    assert local_month(slot, utc_ms("2025-02-01T07:59:00")) == "2025-01"
    assert local_month(slot, utc_ms("2025-02-01T08:01:00")) == "2025-02"


async def test_daily_counters_roll_at_the_providers_midnight_not_utcs(redis: Redis) -> None:
    clock = Clock("2025-01-14T23:59:00")  # 15:59 on the 14th in Los Angeles
    slot = pacific_slot(rpd=1, budgets=[Budget(unit="requests", per="day", amount=1)])
    quota = Quota(FailoverRedis(redis), random.Random(1), clock=clock)

    assert await quota.reserve([slot], SMALL) is not None  # the day's one request
    clock.set("2025-01-15T00:01:00")  # a new day in UTC, still the 14th there
    assert await quota.reserve([slot], SMALL) is None
    clock.set("2025-01-15T07:59:00")  # 23:59 on the 14th there
    assert await quota.reserve([slot], SMALL) is None
    clock.set("2025-01-15T08:01:00")  # 00:01 on the 15th there: a fresh day
    assert await quota.reserve([slot], SMALL) is not None
    assert await quota.reserve([slot], SMALL) is None

    at = clock.now
    assert await redis.get(day_key(slot, "2025-01-14")) == b"1"
    assert await redis.get(day_key(slot, "2025-01-15")) == b"1"
    assert await redis.get(budget_key(slot, slot.entry.budgets[0], at)) == b"1"
    assert budget_key(slot, slot.entry.budgets[0], at).endswith(":2025-01-15")
