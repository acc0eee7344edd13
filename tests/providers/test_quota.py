"""Quota, cool-downs and breakers over real Redis: every decision atomic, shared by every instance."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import uuid
from typing import Any

import pytest
from redis.asyncio import Redis

from core.infra.redis_failover import FailoverRedis
from core.providers import status
from core.providers.catalogue import Budget, NeuronRates, ProviderEntry, Slot
from core.providers.quota import (
    BreakerTimings,
    CallSize,
    Quota,
    breaker_key,
    budget_cost,
    budget_key,
    budget_today_key,
    days_left_in_month,
    next_reset_ms,
    slot_key,
    stats_key,
    tokens_day_key,
)
from testing.app_stack import Services

START = 1_764_000_000_000  # a fixed instant, so minutes and days do not roll over mid-test


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> int:
        return self.now


def make_slot(
    rpd: int | None = 100,
    rpm: int = 100,
    zone: str = "UTC",
    key_index: int = 0,
    name: str | None = None,
    **limits: Any,
) -> Slot:
    entry = ProviderEntry(
        name=name or f"t{uuid.uuid4().hex[:10]}",
        adapter="openai",
        rpm=rpm,
        rpd=rpd,
        reset_timezone=zone,
        **limits,
    )
    return Slot(entry=entry, key_index=key_index, api_key="k", account_id=None)


def quota(redis: Redis, clock: Clock, seed: int = 1, **breaker: int) -> Quota:
    return Quota(FailoverRedis(redis), random.Random(seed), BreakerTimings(**breaker), clock)


SMALL = CallSize(prompt_tokens=300, max_output_tokens=100)


async def take(pool_quota: Quota, slots: list[Slot], size: CallSize = SMALL) -> Slot | None:
    """The slot a call of `size` was reserved on, or None."""
    reservation = await pool_quota.reserve(slots, size)
    return reservation.slot if reservation else None


async def test_a_daily_quota_is_never_overrun(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot(rpd=3)
    pool_quota = quota(redis, clock)
    taken = [await take(pool_quota, [slot]) for _ in range(5)]
    assert taken == [slot, slot, slot, None, None]


async def test_the_per_minute_limit_holds_until_the_next_minute(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot(rpd=100, rpm=2)
    pool_quota = quota(redis, clock)
    assert [await take(pool_quota, [slot]) for _ in range(3)] == [slot, slot, None]
    clock.now += 60_000
    assert await take(pool_quota, [slot]) == slot


async def test_two_instances_never_overspend_one_shared_quota(services: Services) -> None:
    clock = Clock()
    slots = [make_slot(rpd=25), make_slot(rpd=15)]
    async with Redis.from_url(services.redis_url) as first, Redis.from_url(services.redis_url) as second:
        instances = [quota(first, clock, seed=1), quota(second, clock, seed=2)]
        taken = await asyncio.gather(*(take(instances[i % 2], slots) for i in range(120)))
    assert sum(slot is slots[0] for slot in taken) == 25
    assert sum(slot is slots[1] for slot in taken) == 15
    assert taken.count(None) == 80


async def test_choice_is_weighted_by_remaining_quota(redis: Redis) -> None:
    clock = Clock()
    big, small = make_slot(rpd=10_000, rpm=10_000), make_slot(rpd=1_000, rpm=10_000)
    pool_quota = quota(redis, clock, seed=7)
    taken = [await take(pool_quota, [big, small]) for _ in range(600)]
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
    assert await take(pool_quota, [slot]) is None
    assert await take(pool_quota, [slot, other_key]) is other_key  # the provider's other key is fine
    clock.now += 119_000
    assert await take(pool_quota, [slot]) is None
    clock.now += 2_000
    assert await take(pool_quota, [slot]) is slot


async def test_a_daily_limit_exhausts_the_key_until_the_providers_own_midnight(redis: Redis) -> None:
    clock = Clock()
    pacific = make_slot(zone="America/Los_Angeles")
    pool_quota = quota(redis, clock)
    assert await pool_quota.record_outcome(pacific, "day_limit", 10, retry_after=30) == "exhausted"
    reset = int(await redis.hget(slot_key(pacific), "exhausted_until"))
    assert reset == next_reset_ms(pacific, START)
    clock.now = reset - 1
    assert await take(pool_quota, [pacific]) is None
    clock.now = reset
    assert await take(pool_quota, [pacific]) is pacific
    assert await pool_quota.clear_passed([pacific]) == 1


async def test_the_breaker_opens_half_opens_for_one_probe_and_closes_on_success(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot()
    pool_quota = quota(redis, clock, threshold=3, base_open_ms=1_000, max_open_ms=8_000, probe_ms=5_000)
    outcomes = [await pool_quota.record_outcome(slot, "server", 10) for _ in range(3)]
    assert outcomes == ["failed", "failed", "open"]
    assert await take(pool_quota, [slot]) is None
    clock.now += 1_000
    assert await take(pool_quota, [slot]) is slot  # the half-open probe
    assert await take(pool_quota, [slot]) is None  # only one probe at a time
    assert (
        await pool_quota.record_outcome(slot, "timeout", 10) == "open"
    )  # the probe failed: open again, longer
    clock.now += 1_999
    assert await take(pool_quota, [slot]) is None
    clock.now += 1
    assert await take(pool_quota, [slot]) is slot
    assert await pool_quota.record_outcome(slot, "ok", 10) == "ok"
    assert [await take(pool_quota, [slot]) for _ in range(3)] == [slot, slot, slot]  # closed


async def test_invalid_content_is_counted_in_the_stats_but_never_in_the_breaker(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot()
    pool_quota = quota(redis, clock, threshold=3)
    outcomes = [await pool_quota.record_outcome(slot, "invalid_content", 10) for _ in range(10)]
    assert outcomes == ["invalid_content"] * 10
    assert await redis.exists(breaker_key(slot.entry.name)) == 0
    assert await redis.hgetall(slot_key(slot)) == {}  # no cool-down, no exhaustion
    assert [await take(pool_quota, [slot]) for _ in range(3)] == [slot, slot, slot]
    stats = await redis.hgetall(stats_key(slot, "2025-11-24"))
    assert {key: int(value) for key, value in stats.items()} == {
        b"calls": 10,
        b"errors": 10,
        b"invalid_content": 10,
    }


async def test_invalid_content_on_a_half_open_probe_lets_the_next_job_probe(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot()
    pool_quota = quota(redis, clock, threshold=2, base_open_ms=1_000, probe_ms=60_000)
    assert [await pool_quota.record_outcome(slot, "server", 10) for _ in range(2)] == ["failed", "open"]
    clock.now += 1_000
    assert await take(pool_quota, [slot]) is slot  # the probe
    assert await take(pool_quota, [slot]) is None
    # The probe came back in the provider's own format: the provider is up, only the text was wrong.
    assert await pool_quota.record_outcome(slot, "invalid_content", 10) == "invalid_content"
    assert await take(pool_quota, [slot]) is slot
    assert int(await redis.hget(breaker_key(slot.entry.name), "failures")) == 2  # neither worse nor better


async def test_finish_records_invalid_content_with_the_reconciled_tokens(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot(rpd=None, tpd=10_000)
    pool_quota = quota(redis, clock, threshold=1)
    reservation = await pool_quota.reserve([slot], SMALL)
    assert reservation is not None
    assert await pool_quota.finish(reservation, "invalid_content", 10, None, 120, 30) == "invalid_content"
    assert await take(pool_quota, [slot]) is slot  # a breaker of one failure did not open
    stats = await redis.hgetall(stats_key(slot, "2025-11-24"))
    assert int(stats[b"invalid_content"]) == 1 and int(stats[b"prompt_tokens"]) == 120


async def test_the_status_view_shows_invalid_content_apart_and_the_slot_ok(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    slot = make_slot()
    pool_quota = Quota(FailoverRedis(redis), random.Random(1), BreakerTimings(threshold=2))
    for outcome in ("ok", "invalid_content", "invalid_content", "invalid_content", "server"):
        await pool_quota.record_outcome(slot, outcome, 10)

    class OneRedis:
        def redis(self) -> FailoverRedis:
            return FailoverRedis(redis)

    monkeypatch.setattr(status, "configured_slots", lambda: [slot])
    monkeypatch.setattr(status, "load_catalogue", lambda: [])
    monkeypatch.setattr(status, "connections", OneRedis)
    [row] = await status.slot_statuses()
    assert row.state == "ok"  # one server failure, under the breaker's two
    assert (row.calls_today, row.errors_today, row.invalid_content_today) == (5, 4, 3)
    assert row.error_rate == 0.8


# --- tokens and budgets -------------------------------------------------------------------------


async def test_a_call_reserves_its_estimate_and_is_reconciled_with_the_reported_usage(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot(rpd=None, tpd=1_000)
    pool_quota = quota(redis, clock)
    first = await pool_quota.reserve([slot], SMALL)  # 400 tokens reserved
    second = await pool_quota.reserve([slot], SMALL)  # 800
    assert first and second
    assert await take(pool_quota, [slot]) is None  # a third 400 would pass 1,000
    await pool_quota.reconcile(first, 150, 50)  # it used 200, not 400
    assert int(await redis.get(tokens_day_key(slot, "2025-11-24"))) == 600
    assert await take(pool_quota, [slot]) is slot  # 1,000 exactly
    stats = await redis.hgetall(stats_key(slot, "2025-11-24"))
    assert (int(stats[b"prompt_tokens"]), int(stats[b"completion_tokens"])) == (150, 50)


async def test_a_refused_call_gives_its_tokens_back_and_an_unreported_one_keeps_its_estimate(
    redis: Redis,
) -> None:
    clock = Clock()
    slot = make_slot(rpd=None, tpd=10_000)
    pool_quota = quota(redis, clock)
    refused, silent = await pool_quota.reserve([slot], SMALL), await pool_quota.reserve([slot], SMALL)
    assert refused and silent
    await pool_quota.reconcile(refused, 0, 0)
    await pool_quota.reconcile(silent, None, None)
    assert int(await redis.get(tokens_day_key(slot, "2025-11-24"))) == 400


async def test_tokens_per_minute_slide_with_the_clock(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot(rpd=None, tpd=1_000_000, tpm=1_000)
    pool_quota = quota(redis, clock)
    assert [await take(pool_quota, [slot]) for _ in range(3)] == [slot, slot, None]
    clock.now += 30_000
    assert await take(pool_quota, [slot]) is None  # the first two are still inside the last minute
    clock.now += 30_001
    assert await take(pool_quota, [slot]) is None  # a second's margin for the provider's clock
    clock.now += 1_000
    assert await take(pool_quota, [slot]) is slot
    # A reconciled reservation frees its share of the minute at once.
    reservation = await pool_quota.reserve([slot], SMALL)
    assert reservation and await take(pool_quota, [slot]) is None
    await pool_quota.reconcile(reservation, 50, 10)
    assert await take(pool_quota, [slot]) is slot


async def test_two_keys_of_one_organisation_share_one_counter(redis: Redis) -> None:
    clock = Clock()
    name = f"org{uuid.uuid4().hex[:8]}"
    first = make_slot(name=name, key_index=0, rpd=3, limit_owner="organisation")
    second = make_slot(name=name, key_index=1, rpd=3, limit_owner="organisation")
    assert first.owner_id == second.owner_id == name
    pool_quota = quota(redis, clock)
    taken = [await take(pool_quota, [first, second]) for _ in range(5)]
    assert sum(slot is not None for slot in taken) == 3  # not 6: more keys add no quota
    separate = [make_slot(name=name + "k", key_index=i, rpd=3) for i in range(2)]
    assert sum([await take(pool_quota, separate) is not None for _ in range(8)]) == 6


async def test_a_monthly_budget_spent_exhausts_the_owner_until_the_next_month(redis: Redis) -> None:
    clock = Clock()  # 2025-11-24
    budget = Budget(unit="tokens", per="month", amount=1_000)
    slot = make_slot(rpd=None, budgets=[budget])
    pool_quota = quota(redis, clock)
    assert [await take(pool_quota, [slot]) for _ in range(3)] == [slot, slot, None]
    clock.now += 3 * 24 * 3600 * 1000  # 2025-11-27: a new day, the same month
    assert await take(pool_quota, [slot]) is None
    clock.now += 4 * 24 * 3600 * 1000  # 2025-12-01
    assert await take(pool_quota, [slot]) is slot


async def test_cloudflare_neurons_are_priced_from_its_per_token_rates(redis: Redis) -> None:
    clock = Clock()
    rates = NeuronRates(input_per_million=4_119, output_per_million=34_868)
    slot = make_slot(rpd=None, budgets=[Budget(unit="neurons", per="day", amount=100)], neurons=rates)
    # 300 input and 100 output tokens: 1.24 + 3.49 = 4.73, so 5 neurons reserved per call.
    size = CallSize(prompt_tokens=300, max_output_tokens=100)
    assert budget_cost(slot.entry, slot.entry.budgets[0], 300, 100) == 5
    pool_quota = quota(redis, clock)
    taken = [await pool_quota.reserve([slot], size) for _ in range(25)]
    assert sum(r is not None for r in taken) == 20
    # Reconciled with what the reply used: 300 in, 10 out = 1.58, so 2 neurons, and 3 come back.
    first = taken[0]
    assert first is not None
    await pool_quota.reconcile(first, 300, 10)
    assert int(await redis.get(budget_key(slot, slot.entry.budgets[0], START))) == 97


def _reserve_in_another_process(redis_url: str, entry_json: str, calls: int, seed: int) -> int:
    """One pool instance in its own process: how many of `calls` reservations it got."""

    async def run() -> int:
        entry = ProviderEntry.model_validate_json(entry_json)
        slots = [Slot(entry=entry, key_index=i, api_key="k", account_id=None) for i in range(2)]
        async with Redis.from_url(redis_url) as client:
            pool_quota = Quota(FailoverRedis(client), random.Random(seed), BreakerTimings(), lambda: START)
            got = 0
            for _ in range(calls):
                got += await pool_quota.reserve(slots, SMALL) is not None
            return got

    return asyncio.run(run())


@pytest.mark.parametrize(
    "limits",
    [
        {"tpm": 4_000, "tpd": 1_000_000},  # 10 calls of 400 in one minute
        {"tpd": 4_000},
        {"budgets": [{"unit": "tokens", "per": "month", "amount": 4_000}]},
    ],
    ids=["tpm", "tpd", "monthly"],
)
def test_two_pools_in_two_processes_never_overspend_a_shared_token_limit(
    services: Services, limits: dict[str, Any]
) -> None:
    entry = ProviderEntry(
        name=f"p{uuid.uuid4().hex[:10]}", adapter="openai", rpm=1_000, limit_owner="organisation", **limits
    )
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as processes:
        got = processes.starmap(
            _reserve_in_another_process,
            [(services.redis_url, entry.model_dump_json(), 30, seed) for seed in (1, 2)],
        )
    assert sum(got) == 10  # 4,000 tokens / 400 a call, whichever process and key took them


async def test_a_calls_end_is_reconciled_and_recorded_in_one_command(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot(rpd=None, tpd=10_000)
    failover = FailoverRedis(redis)
    pool_quota = Quota(failover, random.Random(1), BreakerTimings(), clock)
    reservation = await pool_quota.reserve([slot], SMALL)
    assert reservation is not None
    failover.take_counts()
    assert await pool_quota.finish(reservation, "ok", 120, None, 150, 50) == "ok"
    assert failover.take_counts() == {"redis_commands": 1}
    assert int(await redis.get(tokens_day_key(slot, "2025-11-24"))) == 200
    stats = await redis.hgetall(stats_key(slot, "2025-11-24"))
    assert int(stats[b"calls"]) == 1 and int(stats[b"prompt_tokens"]) == 150
    failed = await pool_quota.reserve([slot], SMALL)
    assert failed is not None
    assert await pool_quota.finish(failed, "minute_limit", 10, 30, 0, 0) == "cooling"
    assert int(await redis.get(tokens_day_key(slot, "2025-11-24"))) == 200  # the refused call gave back


# --- a monthly budget paced over its month -----------------------------------------------------------

MONTHLY_START = 1_764_547_200_000  # 2025-12-01 00:00 UTC: 31 days left in the month, today included


async def test_a_monthly_budget_weighs_only_todays_share_of_what_the_month_has_left(redis: Redis) -> None:
    clock = Clock()
    clock.now = MONTHLY_START
    # 31,000 requests a month: a share of 1,000 today, as much as the daily owner's 1,000 a day.
    monthly = make_slot(rpd=None, rpm=100_000, budgets=[Budget(unit="requests", per="month", amount=31_000)])
    daily = make_slot(rpd=1_000, rpm=100_000)
    pool_quota = quota(redis, clock, seed=3)
    taken = [await take(pool_quota, [monthly, daily]) for _ in range(600)]
    share = taken.count(monthly) / len(taken)
    # Weighed by the whole month's rest it would take 31,000 / 32,000 = 97% of the calls; by today's share,
    # half (both start at 1,000 and drain together).
    assert 0.4 < share < 0.6


async def test_past_its_share_a_monthly_owner_is_taken_only_when_no_other_has_room(redis: Redis) -> None:
    clock = Clock()
    clock.now = MONTHLY_START
    monthly = make_slot(rpd=None, budgets=[Budget(unit="requests", per="month", amount=310)])  # 10 today
    daily = make_slot(rpd=30)
    pool_quota = quota(redis, clock, seed=5)
    taken = [await take(pool_quota, [monthly, daily]) for _ in range(45)]
    # Today's shares first (10 and 30, in any order), then the month's rest as the last resort.
    assert taken[:40].count(monthly) == 10 and taken[:40].count(daily) == 30
    assert taken[40:] == [monthly] * 5


async def test_a_share_left_unspent_is_the_next_days_to_spend(redis: Redis) -> None:
    clock = Clock()
    clock.now = MONTHLY_START
    budget = Budget(unit="requests", per="month", amount=310)
    monthly = make_slot(rpd=None, rpm=100_000, budgets=[budget])
    daily = make_slot(rpd=40, rpm=100_000)
    pool_quota = quota(redis, clock, seed=9)
    assert [await take(pool_quota, [monthly]) for _ in range(4)] == [monthly] * 4  # 4 of the 1st's 10
    clock.now += 20 * 24 * 3600 * 1000  # 2025-12-21: 306 left over 11 days, 27.8 a day
    taken = [await take(pool_quota, [monthly, daily]) for _ in range(70)]
    assert taken[:67].count(monthly) == 27 and taken[:67].count(daily) == 40
    assert taken[67:] == [monthly] * 3  # then the month's rest, as the last resort


async def test_a_monthly_budgets_use_today_is_reconciled_like_the_month(redis: Redis) -> None:
    clock = Clock()
    clock.now = MONTHLY_START
    budget = Budget(unit="tokens", per="month", amount=31_000_000)
    slot = make_slot(rpd=None, budgets=[budget])
    pool_quota = quota(redis, clock)
    reservation = await pool_quota.reserve([slot], SMALL)
    assert reservation is not None
    today = budget_today_key(slot, budget, MONTHLY_START)
    assert today.endswith(":2025-12:2025-12-01")
    assert int(await redis.get(today)) == SMALL.tokens == 400
    await pool_quota.finish(reservation, "ok", 100, None, 250, 50)
    assert int(await redis.get(today)) == 300
    assert int(await redis.get(budget_key(slot, budget, MONTHLY_START))) == 300


def test_days_left_in_a_month_count_today_and_the_providers_own_date() -> None:
    utc, tokyo = make_slot(), make_slot(zone="Asia/Tokyo")
    assert days_left_in_month(utc, MONTHLY_START) == 31
    assert days_left_in_month(utc, MONTHLY_START - 1) == 1  # 2025-11-30 23:59:59.999
    assert days_left_in_month(tokyo, MONTHLY_START - 1) == 31  # already 2025-12-01 in Tokyo
    assert days_left_in_month(utc, 1_771_891_200_000) == 5  # 2026-02-24: the 24th to the 28th


async def test_a_token_bound_owner_is_weighed_by_a_typical_reply_not_its_max_tokens(redis: Redis) -> None:
    clock = Clock()
    size = CallSize(prompt_tokens=100, max_output_tokens=300)  # 400 reserved; 100 + 150 expected
    assert (size.tokens, size.expected_tokens) == (400, 250)
    by_requests = make_slot(rpd=1_000, rpm=100_000)
    by_tokens = make_slot(rpd=None, rpm=100_000, tpd=250_000)  # 1,000 calls of 250, 625 of 400
    pool_quota = quota(redis, clock, seed=11)
    taken = [await take(pool_quota, [by_requests, by_tokens], size) for _ in range(600)]
    # Both have 1,000 typical calls a day, so they share the calls evenly (by the reserved size the
    # token-bound owner would get 625 / 1,625 = 38% and last longer, while the other runs dry first).
    assert 0.44 < taken.count(by_tokens) / len(taken) < 0.56


async def test_a_token_bound_owner_is_weighed_by_the_reply_size_the_request_tells(redis: Redis) -> None:
    clock = Clock()
    # A review's reply is about a quarter of its max_tokens: 100 + 100 expected, not 100 + 200.
    size = CallSize(prompt_tokens=100, max_output_tokens=400, typical_output_tokens=100)
    assert (size.tokens, size.expected_tokens) == (500, 200)
    by_requests = make_slot(rpd=1_000, rpm=100_000)
    by_tokens = make_slot(rpd=None, rpm=100_000, tpd=200_000)  # 1,000 calls of 200; 667 of half max_tokens
    pool_quota = quota(redis, clock, seed=12)
    taken = []
    for _ in range(600):
        reservation = await pool_quota.reserve([by_requests, by_tokens], size)
        assert reservation is not None
        await pool_quota.reconcile(reservation, 100, 100)  # each reply as long as told
        taken.append(reservation.slot)
    # Weighed by half its max_tokens (300 expected) it would get 667 / 1,667 = 40% and run dry last.
    assert 0.45 < taken.count(by_tokens) / len(taken) < 0.55


async def test_an_owner_down_to_its_kept_call_is_a_last_resort_until_every_owner_is(redis: Redis) -> None:
    """The app keeps a report's room in every owner: one down to it is taken only when no other owner
    has room beyond its own, so no owner runs dry while another has plenty."""
    clock = Clock()
    kept = CallSize(prompt_tokens=1_000, max_output_tokens=200, typical_output_tokens=200)  # 1,200 tokens
    by_requests = make_slot(rpd=3, rpm=100_000)
    by_tokens = make_slot(rpd=None, rpm=100_000, tpd=4_000)  # 10 calls of 400, 8 reserved before its kept
    plenty = make_slot(rpd=20, rpm=100_000)
    pool_quota = Quota(FailoverRedis(redis), random.Random(5), BreakerTimings(), clock, kept=kept)
    taken: list[Slot] = []
    while (slot := await take(pool_quota, [by_requests, by_tokens, plenty])) is not None:
        taken.append(slot)
    assert [taken.count(s) for s in (by_requests, by_tokens, plenty)] == [3, 10, 20]  # nothing left unused
    # The small owners' last calls wait until `plenty` is down to its own last one (19 taken).
    last_of_requests = len(taken) - taken[::-1].index(by_requests) - 1
    assert taken[:last_of_requests].count(plenty) >= 19
    # by_tokens' 8th call on: 4,000 tokens less 7 of 400 leave under a call and the kept 1,200
    tokens_below_kept = [i for i, s in enumerate(taken) if s is by_tokens][7:]
    assert all(taken[:i].count(plenty) >= 19 for i in tokens_below_kept)


async def test_without_a_kept_call_a_small_owner_runs_dry_while_others_have_plenty(redis: Redis) -> None:
    clock = Clock()
    by_requests, plenty = make_slot(rpd=3, rpm=100_000), make_slot(rpd=200, rpm=100_000)
    pool_quota = quota(redis, clock, seed=5)
    taken = [await take(pool_quota, [by_requests, plenty]) for _ in range(150)]
    assert taken.count(by_requests) == 3  # dry by the 150th call, with 50 of `plenty`'s left


async def test_a_monthly_owner_past_its_share_is_taken_before_another_owners_kept_call(redis: Redis) -> None:
    """Later days' share of a month comes back through the pacing; an owner's kept call, once taken,
    leaves it dry until its reset."""
    clock = Clock()
    clock.now = MONTHLY_START
    kept = CallSize(prompt_tokens=1_600, max_output_tokens=400, typical_output_tokens=400)  # 2,000 tokens
    size = CallSize(prompt_tokens=300, max_output_tokens=100, typical_output_tokens=100)  # 400
    budget = Budget(unit="requests", per="month", amount=62)  # 2 today, 60 for the month's other days
    monthly = make_slot(rpd=None, rpm=100_000, budgets=[budget])
    daily = make_slot(rpd=None, rpm=100_000, tpd=4_000)  # 5 calls beyond its kept 2,000 tokens, 5 in them
    pool_quota = Quota(FailoverRedis(redis), random.Random(2), BreakerTimings(), clock, kept=kept)
    taken = [await take(pool_quota, [monthly, daily], size) for _ in range(30)]
    # Today's shares first (the monthly's 2, the daily's 5 beyond its kept call), in any order; then the
    # month's rest, while the daily owner's kept room stays (taken in proportion, it would get 5 of 64).
    assert taken[:7].count(daily) == 5
    assert taken[7:] == [monthly] * 23
