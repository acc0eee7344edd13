"""The day's budget over real Redis: atomic across instances, paced by the forecast, least sure first."""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import uuid

from redis.asyncio import Redis

from core.infra.redis_failover import FailoverRedis
from core.providers.catalogue import Budget, ProviderEntry, Slot
from core.providers.governor import DayClock, Governor, day_hash
from core.providers.quota import CallSize, Quota, budget_today_key
from testing.app_stack import Services

DAY = 86_400


def shared_slots(rpd: int, name: str | None = None) -> list[Slot]:
    """Two keys of one organisation allowing `rpd` requests a day in all (rpm far above it)."""
    entry = ProviderEntry(
        name=name or f"g{uuid.uuid4().hex[:10]}",
        adapter="openai",
        rpm=10_000,
        rpd=rpd,
        limit_owner="organisation",
    )
    return [Slot(entry=entry, key_index=index, api_key="k", account_id=None) for index in range(2)]


def a_day() -> int:
    """A day of its own for each test: the governor's keys are per day."""
    return random.SystemRandom().randrange(30_000, 60_000)


def at(day: int, hour: float) -> float:
    return day * DAY + hour * 3600


def governor(redis: Redis, slots: list[Slot], when: float, margin: float = 0.0, seed: int = 1) -> Governor:
    return Governor(FailoverRedis(redis), slots, margin=margin, clock=lambda: when, rng=random.Random(seed))


def _decide_in_another_process(redis_url: str, entry_json: str, when: float, calls: int, seed: int) -> int:
    """One app instance in its own process: how many of `calls` reports it was granted."""

    async def run() -> int:
        entry = ProviderEntry.model_validate_json(entry_json)
        slots = [Slot(entry=entry, key_index=index, api_key="k", account_id=None) for index in range(2)]
        async with Redis.from_url(redis_url) as client:
            instance = governor(client, slots, when, margin=0.1, seed=seed)
            decisions = await asyncio.gather(*(instance.decide("report") for _ in range(calls)))
            return sum(decision.model for decision in decisions)

    return asyncio.run(run())


def test_two_instances_in_two_processes_never_overspend_the_day(services: Services) -> None:
    entry = shared_slots(rpd=40)[0].entry
    # Late in the day: no forecast left to hold back, so the whole budget less the margin is granted.
    when = at(a_day(), 23.9)
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as processes:
        got = processes.starmap(
            _decide_in_another_process,
            [(services.redis_url, entry.model_dump_json(), when, 50, seed) for seed in (1, 2)],
        )
    assert sum(got) == 36  # 40 calls less a 10% margin, however the two instances interleaved


async def test_two_clients_racing_share_one_budget(services: Services) -> None:
    slots = shared_slots(rpd=30)
    when = at(a_day(), 23.9)
    async with Redis.from_url(services.redis_url) as first, Redis.from_url(services.redis_url) as second:
        one, two = governor(first, slots, when, seed=1), governor(second, slots, when, seed=2)
        decisions = await asyncio.gather(
            *(instance.decide("evaluate", 0.9) for _ in range(40) for instance in (one, two))
        )
    assert sum(decision.model for decision in decisions) == 30
    # Refused once the day was spent; with one call left, the answers still forecast for the last six
    # minutes may pace it (which of the two instances' decisions meets it depends on their interleaving).
    refused = {decision.reason for decision in decisions if not decision.model}
    assert "capacity_spent" in refused and refused <= {"capacity_spent", "paced"}


async def test_what_the_pool_spent_counts_against_the_day(redis: Redis) -> None:
    slots = shared_slots(rpd=20)
    day = a_day()
    when = at(day, 23.9)
    quota = Quota(FailoverRedis(redis), random.Random(1), clock=lambda: int(when * 1000))
    for _ in range(15):  # the pool's own calls, retries included, none granted here
        assert await quota.reserve(slots, CallSize(100, 100)) is not None
    decisions = [await governor(redis, slots, when).decide("report") for _ in range(10)]
    assert sum(decision.model for decision in decisions) == 5


async def test_a_token_bound_owners_small_calls_spend_their_tokens_share_of_a_call(redis: Redis) -> None:
    # 10,000 tokens a day: 4 calls of a report's 2,042 tokens (its rpd of 1,000 allows far more).
    entry = ProviderEntry(
        name=f"g{uuid.uuid4().hex[:10]}", adapter="openai", rpm=10_000, rpd=1_000, tpd=10_000
    )
    slots = [Slot(entry=entry, key_index=0, api_key="k", account_id=None)]
    when = at(a_day(), 23.9)
    quota = Quota(FailoverRedis(redis), random.Random(1), clock=lambda: int(when * 1000))
    for _ in range(10):  # ten answers' evaluations of 400 tokens: 4,000 tokens, 40% of the day
        assert await quota.reserve(slots, CallSize(300, 100)) is not None
    instance = governor(redis, slots, when)
    state = await instance.state("governor")
    assert state.capacity_calls == 4 and state.owners[0].calls_spent == 1.6
    assert state.owners[0].requests_spent == 10  # ten requests, which by themselves would be over 4
    decisions = [await instance.decide("report") for _ in range(5)]
    assert [decision.model for decision in decisions] == [True, True, False, False, False]


async def test_a_monthly_budget_spent_past_its_day_counts_every_day_it_spent(redis: Redis) -> None:
    """The pool's last resort may spend later days' share of a month; that is capacity gone too."""
    budget = Budget(unit="requests", per="month", amount=300)  # 10 a day, by its 30th
    monthly = ProviderEntry(name=f"m{uuid.uuid4().hex[:10]}", adapter="openai", rpm=10_000, budgets=[budget])
    daily = ProviderEntry(name=f"d{uuid.uuid4().hex[:10]}", adapter="openai", rpm=10_000, rpd=10)
    slots = [Slot(entry=entry, key_index=0, api_key="k", account_id=None) for entry in (monthly, daily)]
    when = at(a_day(), 23.9)
    # Today the month's budget took 15 requests (its day's 10 and 5 of later days'); the daily owner none.
    await redis.set(budget_today_key(slots[0], budget, int(when * 1000)), 15)
    instance = governor(redis, slots, when)
    state = await instance.state("governor")
    assert state.capacity_calls == 20
    assert {o.owner: o.calls_spent for o in state.owners}[slots[0].owner_id] == 15
    decisions = [await instance.decide("report") for _ in range(10)]
    assert sum(decision.model for decision in decisions) == 5  # 20 less 15, not 20 less 10


async def test_the_reserve_is_counted_at_what_a_grant_has_cost_today(redis: Redis) -> None:
    # 12,252 tokens a day: 6 calls of a report's 2,042 tokens.
    entry = ProviderEntry(
        name=f"g{uuid.uuid4().hex[:10]}", adapter="openai", rpm=10_000, rpd=1_000, tpd=12_252
    )
    slots = [Slot(entry=entry, key_index=0, api_key="k", account_id=None)]
    day = a_day()
    noon = at(day, 12.0)  # a flat day: as much demand is forecast for the afternoon as came by now
    # This morning: 5 follow-ups granted, whose calls spent 400 tokens each (0.98 of a report-size call).
    await redis.hset(day_hash(DayClock().label(day)), mapping={"granted": 5_000, "d:follow_up": 5})
    quota = Quota(FailoverRedis(redis), random.Random(1), clock=lambda: int(noon * 1000))
    for _ in range(5):
        assert await quota.reserve(slots, CallSize(300, 100)) is not None
    instance = governor(redis, slots, noon)
    # A grant cost 0.2 of a call (held at the floor of 0.25), so the 5 follow-ups forecast for the
    # afternoon hold 1.25 calls, not 5, and a sure answer gets a model: counted at a whole call a grant,
    # the 5.02 calls left would all be held for them.
    decision = await instance.decide("evaluate", 0.1)
    assert (decision.model, decision.reason) == (True, "granted")
    state = await instance.state("governor")
    assert state.cost_per_grant == 0.25 and state.reserve_calls == 1.2


async def test_reports_come_before_follow_ups(redis: Redis) -> None:
    slots = shared_slots(rpd=10)
    day = a_day()
    noon = governor(redis, slots, at(day, 12.0))  # a flat day: the morning's demand again by midnight
    reports = [await noon.decide("report") for _ in range(5)]
    assert all(decision.model for decision in reports)  # 5 now and 5 more forecast: the whole day
    follow_ups = [await noon.decide("follow_up") for _ in range(5)]
    # The 5 calls left are held for the reports to come, so follow-ups are the bank's (held in one reserve
    # with the reports, as before this order, each would have had a 5-in-7 chance of a model).
    assert [decision.reason for decision in follow_ups] == ["reserved"] * 5
    assert (await noon.decide("report")).reason in ("granted", "paced")


async def test_it_degrades_to_built_in_scoring_when_the_forecast_says_the_day_runs_short(
    redis: Redis,
) -> None:
    slots = shared_slots(rpd=100)
    day = a_day()
    # Yesterday: a quiet morning, then 2,000 answers in the evening.
    await redis.hset(day_hash(DayClock().label(day - 1)), mapping={"h:2:evaluate": 20, "h:19:evaluate": 1980})
    morning = governor(redis, slots, at(day, 3.0), seed=3)
    decisions = [await morning.decide("evaluate", 0.9) for _ in range(60)]
    granted = sum(decision.model for decision in decisions)
    # By 03:00 yesterday had seen 1% of its demand: 60 answers now forecast ~6,000 today, against 100
    # calls. Most answers are scored by the built-in evaluator, and the budget is not spent by morning.
    assert granted < 20
    assert {decision.reason for decision in decisions if not decision.model} <= {"paced", "reserved"}
    state = await morning.state("governor")
    assert state.forecast_rest["evaluate"] > 1_000 and state.left_calls > 80


async def test_with_room_for_the_forecast_every_answer_gets_a_model(redis: Redis) -> None:
    slots = shared_slots(rpd=1_000)
    day = a_day()
    await redis.hset(day_hash(DayClock().label(day - 1)), mapping={"h:2:evaluate": 20, "h:19:evaluate": 80})
    evening = governor(redis, slots, at(day, 22.0))
    decisions = [await evening.decide("evaluate", 0.1) for _ in range(60)]
    assert all(decision.model for decision in decisions)


async def test_reports_are_reserved_and_the_least_sure_answers_go_first(redis: Redis) -> None:
    slots = shared_slots(rpd=60)
    day = a_day()
    noon = governor(redis, slots, at(day, 12.0))
    # Half the day gone (a flat day, no history): whatever came so far is forecast again by midnight.
    for _ in range(20):
        assert (await noon.decide("report")).model  # 20 reports now, 20 more held in reserve
    unsure = [await noon.decide("evaluate", 0.95) for _ in range(10)]
    assert all(decision.model for decision in unsure)  # 10 now, 10 more like them forecast
    sure = [await noon.decide("evaluate", 0.1) for _ in range(5)]
    # 60 - 30 used = 30 left: all of it held for the reports and the unsure answers still to come.
    assert [decision.reason for decision in sure] == ["reserved"] * 5
    assert (await noon.decide("evaluate", 0.95)).reason in ("granted", "paced")


async def test_a_decision_is_one_redis_command(redis: Redis) -> None:
    slots = shared_slots(rpd=100)
    failover = FailoverRedis(redis)
    when = at(a_day(), 10.0)
    instance = Governor(failover, slots, clock=lambda: when, rng=random.Random(1))
    await instance.decide("evaluate", 0.5)  # the first reads earlier days' history once
    failover.take_counts()
    await instance.decide("evaluate", 0.5)
    assert failover.take_counts() == {"redis_commands": 1}


async def test_spare_work_gets_only_what_would_expire_late_in_the_day(services: Services) -> None:
    """The lowest tier (example answers): nothing before the hours before the reset, nothing that the
    reserve or the answers' forecast needs, and what is left once they are served."""
    slots = shared_slots(rpd=10)
    day = a_day()
    async with Redis.from_url(services.redis_url) as client:
        morning = await governor(client, slots, at(day, 9)).decide("example")
        assert (morning.model, morning.reason) == (False, "not_yet")
        # Late in a busy day: the reports so far used most of the day, and the forecast of the reports
        # still to come holds the rest in reserve, so spare work waits.
        busy = governor(client, slots, at(day, 20))
        granted = [(await busy.decide("report")).model for _ in range(8)]
        assert all(granted)
        late = await governor(client, slots, at(day, 20)).decide("example")
        assert (late.model, late.reason) == (False, "reserved")

    quiet_day = a_day()
    async with Redis.from_url(services.redis_url) as client:
        # A quiet evening: nothing else asked for, so the quota would expire unused and spare work has it.
        grants = [await governor(client, slots, at(quiet_day, 22)).decide("example") for _ in range(12)]
        assert [grant.model for grant in grants].count(True) == 10  # the day's 10 calls, no margin
        assert grants[-1].reason == "capacity_spent"
