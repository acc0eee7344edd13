"""What mutation testing (`make mutate` on core/providers/quota.py) found no test held: the minute window
within a minute, budgets' expiries, request budgets on a refused call, one of the two usage figures
missing, the no-usage path of finish(), auth failures, the default cool-down, and the script joining
that builds FINISH.

Survivors left on purpose, each equivalent to the original:
- a reservation id of 17 hex digits instead of 16: any unique id serves, and the same one is used
  throughout the reservation;
- padding for a missing budget of [0, 1, 0] or [0, 0, 1] (reserve) and [1, 0] or [0, 1] (reconcile):
  the scripts read a budget's cost, ttl or difference only when its limit is over 0, and a difference of 0
  changes nothing;
- `if used or True` for a refused call's spending: budget_cost of 0 tokens is 0 for tokens and neurons,
  and a request budget is never reconciled (its difference is 0 whatever is spent).
"""

from __future__ import annotations

import math
import random
import time

from redis.asyncio import Redis

from core.infra.redis_failover import FailoverRedis
from core.providers.adapters.chat import ChatRequest
from core.providers.catalogue import Budget, NeuronRates, ProviderEntry, Slot
from core.providers.quota import (
    CHARS_PER_TOKEN,
    DAY_TTL_SECONDS,
    DEFAULT_COOL_MS,
    FINISH,
    FRAMING_TOKENS,
    MONTH_TTL_SECONDS,
    RECONCILE,
    RECORD_OUTCOME,
    CallSize,
    Quota,
    _shifted,
    budget_cost,
    budget_key,
    next_reset_ms,
    now_ms,
    slot_key,
    stats_key,
)
from tests.providers.test_quota import SMALL, START, Clock, make_slot, quota, take

DAY = "2025-11-24"  # START's date


# --- without Redis ----------------------------------------------------------------------------------


def test_shifted_renumbers_keys_and_moves_arguments_up() -> None:
    script = "redis.call('GET', KEYS[1]) redis.call('SET', KEYS[2], ARGV[1] + ARGV[12])"
    assert _shifted(script, {1: 6, 2: 7}, 11) == (
        "redis.call('GET', KEYS[6]) redis.call('SET', KEYS[7], ARGV[12] + ARGV[23])"
    )


def test_finish_is_reconcile_then_record_outcome_on_its_own_keys_and_arguments() -> None:
    reconcile_part = RECONCILE.strip().removesuffix("return 1").rstrip()
    assert FINISH.startswith(reconcile_part)
    assert (
        FINISH.removeprefix(reconcile_part).strip()
        == _shifted(RECORD_OUTCOME, {1: 8, 2: 9, 3: 5}, 13).strip()
    )
    outcome_part = FINISH.removeprefix(reconcile_part)
    assert "KEYS[1]" not in outcome_part and "ARGV[1]" not in outcome_part.replace("ARGV[1", "ARGV[x")
    assert "local now, outcome, rest_until = tonumber(ARGV[14]), ARGV[15], tonumber(ARGV[16])" in outcome_part


def test_now_is_the_clock_in_milliseconds() -> None:
    before = int(time.time() * 1000)
    assert before <= now_ms() <= int(time.time() * 1000)


def test_a_call_size_is_its_text_at_3_5_characters_a_token_plus_framing_and_its_max_tokens() -> None:
    request = ChatRequest(system="s" * 70, user="u" * 36, json_schema={}, max_tokens=123)
    size = CallSize.of(request)
    assert size == CallSize(
        prompt_tokens=math.ceil(106 / CHARS_PER_TOKEN) + FRAMING_TOKENS, max_output_tokens=123
    )
    assert (size.prompt_tokens, size.tokens) == (47, 170)


def test_a_neuron_started_is_a_neuron_spent() -> None:
    neurons = Budget(unit="neurons", per="day", amount=10_000)
    entry = ProviderEntry(
        name="cf", adapter="cloudflare", rpm=10, rpd=None, budgets=[neurons],
        neurons=NeuronRates(input_per_million=1, output_per_million=1),
    )  # fmt: skip
    assert budget_cost(entry, neurons, 1_000_000, 0) == 1
    assert budget_cost(entry, neurons, 1_000_001, 0) == 2
    assert budget_cost(entry, neurons, 0, 1_000_001) == 2


# --- over Redis -------------------------------------------------------------------------------------


async def test_the_minute_window_is_the_calendar_minute(redis: Redis) -> None:
    clock = Clock()  # START is the first millisecond of a minute
    slot = make_slot(rpd=1_000, rpm=1)
    pool_quota = quota(redis, clock)
    assert await take(pool_quota, [slot]) is slot
    clock.now = START + 59_999  # its last millisecond: still the same minute's request
    assert await take(pool_quota, [slot]) is None
    clock.now = START + 60_000
    assert await take(pool_quota, [slot]) is slot


async def test_a_budget_key_lives_as_long_as_its_period_needs(redis: Redis) -> None:
    clock = Clock()
    daily, monthly = (
        Budget(unit="tokens", per="day", amount=10_000),
        Budget(unit="requests", per="month", amount=9),
    )
    slot = make_slot(rpd=None, budgets=[daily, monthly])
    assert await take(quota(redis, clock), [slot]) is slot
    assert 0 < await redis.ttl(budget_key(slot, daily, clock.now)) <= DAY_TTL_SECONDS
    assert DAY_TTL_SECONDS < await redis.ttl(budget_key(slot, monthly, clock.now)) <= MONTH_TTL_SECONDS


async def test_a_refused_call_gives_back_its_tokens_but_not_its_request(redis: Redis) -> None:
    clock = Clock()
    tokens, requests = (
        Budget(unit="tokens", per="day", amount=10_000),
        Budget(unit="requests", per="day", amount=9),
    )
    slot = make_slot(rpd=None, budgets=[tokens, requests])
    pool_quota = quota(redis, clock)
    refused, answered = await pool_quota.reserve([slot], SMALL), await pool_quota.reserve([slot], SMALL)
    assert refused and answered
    await pool_quota.reconcile(refused, 0, 0)
    await pool_quota.reconcile(answered, 100, 20)
    assert int(await redis.get(budget_key(slot, tokens, clock.now))) == 120
    # A request budget counts requests made, refused or not.
    assert int(await redis.get(budget_key(slot, requests, clock.now))) == 2


async def test_a_reply_with_one_usage_figure_keeps_the_estimate(redis: Redis) -> None:
    clock = Clock()
    budget = Budget(unit="tokens", per="day", amount=10_000)
    slot = make_slot(rpd=None, budgets=[budget])
    pool_quota = quota(redis, clock)
    first, second = await pool_quota.reserve([slot], SMALL), await pool_quota.reserve([slot], SMALL)
    assert first and second
    await pool_quota.reconcile(first, 100, None)
    assert await pool_quota.finish(second, "ok", 10, None, None, 20) == "ok"
    assert int(await redis.get(budget_key(slot, budget, clock.now))) == 2 * SMALL.tokens


async def test_usage_stats_of_a_slot_with_one_budget(redis: Redis) -> None:
    """The stats key follows a variable number of budget keys: with one budget it is still the 5th."""
    clock = Clock()
    slot = make_slot(rpd=None, budgets=[Budget(unit="tokens", per="day", amount=10_000)])
    pool_quota = quota(redis, clock)
    reservation = await pool_quota.reserve([slot], SMALL)
    assert reservation
    await pool_quota.reconcile(reservation, 150, 50)
    stats = await redis.hgetall(stats_key(slot, DAY))
    assert (int(stats[b"prompt_tokens"]), int(stats[b"completion_tokens"])) == (150, 50)


async def test_finish_without_usage_records_the_outcome_on_the_slot(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot(rpd=1_000)
    pool_quota = quota(redis, clock)
    reservation = await pool_quota.reserve([slot], SMALL)
    assert reservation
    assert await pool_quota.finish(reservation, "minute_limit", 250, 2.0, None, None) == "cooling"
    assert int(await redis.hget(slot_key(slot), "cool_until")) == clock.now + 2_000
    assert int(await redis.hget(stats_key(slot, DAY), "calls")) == 1


async def test_finish_with_usage_cools_the_slot_for_the_providers_retry_after(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot(rpd=1_000)
    pool_quota = quota(redis, clock)
    reservation = await pool_quota.reserve([slot], SMALL)
    assert reservation
    assert await pool_quota.finish(reservation, "minute_limit", 250, 3.0, 10, 0) == "cooling"
    assert int(await redis.hget(slot_key(slot), "cool_until")) == clock.now + 3_000


async def test_a_minute_limit_without_retry_after_cools_for_the_default(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot(rpd=1_000)
    assert await quota(redis, clock).record_outcome(slot, "minute_limit", 10) == "cooling"
    assert int(await redis.hget(slot_key(slot), "cool_until")) == clock.now + DEFAULT_COOL_MS


async def test_a_refused_key_rests_until_the_providers_midnight(redis: Redis) -> None:
    clock = Clock()
    slot = make_slot(rpd=1_000, zone="America/Los_Angeles")
    assert await quota(redis, clock).record_outcome(slot, "auth", 10) == "exhausted"
    assert int(await redis.hget(slot_key(slot), "exhausted_until")) == next_reset_ms(slot, clock.now)


async def test_clearing_no_slots_clears_nothing(redis: Redis) -> None:
    assert await quota(redis, Clock()).clear_passed([]) == 0


async def test_outcomes_read_from_a_client_that_decodes_replies(redis: Redis) -> None:
    """redis-py hands back str instead of bytes with decode_responses: the outcome reads the same."""
    url = redis.get_connection_kwargs()
    decoding = Redis(host=url["host"], port=url["port"], db=url.get("db", 0), decode_responses=True)
    try:
        clock = Clock()
        slot: Slot = make_slot(rpd=1_000)
        pool_quota = Quota(FailoverRedis(decoding), random.Random(1), clock=clock)
        assert await pool_quota.record_outcome(slot, "ok", 10) == "ok"
        reservation = await pool_quota.reserve([slot], SMALL)
        assert reservation
        assert await pool_quota.finish(reservation, "ok", 10, None, 10, 5) == "ok"
    finally:
        await decoding.aclose()


def test_a_call_size_expects_the_reply_size_its_request_tells_never_more_than_max_tokens() -> None:
    told = ChatRequest(system="", user="", json_schema={}, max_tokens=400, expected_output_tokens=100)
    assert CallSize.of(told).expected_output_tokens == 100
    too_big = ChatRequest(system="", user="", json_schema={}, max_tokens=400, expected_output_tokens=900)
    assert CallSize.of(too_big).expected_output_tokens == 400
    untold = ChatRequest(system="", user="", json_schema={}, max_tokens=400)
    assert CallSize.of(untold).expected_output_tokens == 200  # TYPICAL_REPLY_SHARE
