"""The fake providers enforce a free tier's limits the way the real services do: they refuse a call that
would pass a limit, in that provider's own refusal (which the adapters classify as the provider means it),
count tokens per sliding minute and per local day or month, share one counter among the keys of one owner,
and count every such refusal by limit. No Redis: the fakes run in-process."""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from core.providers.adapters import ADAPTERS, cloudflare, gemini, openai_compatible
from core.providers.adapters.chat import ChatReply, ChatRequest, FailureKind, ProviderFailure
from core.providers.catalogue import AdapterName, ProviderEntry, Slot
from testing.fakes import (
    Budget,
    Charge,
    FakeProvider,
    Flavour,
    Ledger,
    LimitHit,
    Limits,
    NeuronRates,
    Wire,
    estimated_tokens,
    recount,
)

KEY, OTHER_KEY = "sk-fake-limits-key-1", "sk-fake-limits-key-2"
REQUEST = ChatRequest(
    system="You score interview answers. Reply with one JSON object.",
    user="<candidate_answer>We cut p99 latency by 40% with a read cache.</candidate_answer>",
    json_schema={"type": "object"},
    max_tokens=300,
)
REPLY = json.dumps({"relevance": {"score": 4, "reason": "on topic, with a measured result"}})
MODEL = "fake-model"
# Cloudflare's rates for @cf/meta/llama-3.1-8b-instruct-fp8-fast, neurons per million tokens.
RATES = NeuronRates(input_per_million=4119, output_per_million=34868)
DIALECTS: list[tuple[Wire, Flavour]] = [
    ("openai", "generic"),
    ("openai", "groq"),
    ("openai", "openrouter"),
    ("gemini", "generic"),
    ("cloudflare", "generic"),
]
DIALECT_IDS = [f"{wire}-{flavour}" for wire, flavour in DIALECTS]


def slot_for(fake: FakeProvider, key: str = KEY, key_index: int = 0) -> Slot:
    adapter: AdapterName = fake.wire
    entry = ProviderEntry(
        name=f"fake-{fake.wire}", adapter=adapter, base_url=fake.base_url, model=MODEL, rpm=1000, rpd=1000
    )
    return Slot(entry=entry, key_index=key_index, api_key=key, account_id=fake.account_id)


def body_of(wire: Wire, request: ChatRequest = REQUEST) -> dict[str, Any]:
    if wire == "gemini":
        return gemini.request_body(request)
    # As the adapters send it for an entry of the default json_mode.
    if wire == "cloudflare":
        return cloudflare.request_body(request, "json_object")
    return openai_compatible.request_body(MODEL, request, "json_object")


def prompt_tokens(wire: Wire) -> int:
    """The prompt tokens a fake counts for REQUEST: what it reports in usage."""
    return estimated_tokens(json.dumps(body_of(wire)))


def call_tokens(wire: Wire) -> int:
    return prompt_tokens(wire) + estimated_tokens(REPLY)


async def call(session: aiohttp.ClientSession, slot: Slot, request: ChatRequest = REQUEST) -> ChatReply:
    return await ADAPTERS[slot.entry.adapter](session, slot, request)


async def refusal(session: aiohttp.ClientSession, slot: Slot) -> ProviderFailure:
    with pytest.raises(ProviderFailure) as raised:
        await call(session, slot)
    return raised.value


async def spend_until_refused(
    session: aiohttp.ClientSession, fake: FakeProvider, calls: int
) -> ProviderFailure:
    """`calls` calls that fit, then the one that does not."""
    slot = slot_for(fake)
    for _ in range(calls):
        await call(session, slot)
    return await refusal(session, slot)


def fake_for(wire: Wire, flavour: Flavour, limits: Limits, **options: Any) -> FakeProvider:
    return FakeProvider(wire, reply=REPLY, flavour=flavour, api_key=KEY, limits=limits, **options)


def assert_refused(failure: ProviderFailure, kind: FailureKind) -> None:
    assert (failure.kind, failure.status) == (kind, 429)
    if kind == "minute_limit":
        assert failure.retry_after is not None and 0 < failure.retry_after <= 60


@pytest.mark.parametrize(("wire", "flavour"), DIALECTS, ids=DIALECT_IDS)
async def test_a_call_past_tpm_is_refused_as_a_minute_limit_with_a_retry_hint(
    wire: Wire, flavour: Flavour, session: aiohttp.ClientSession
) -> None:
    tpm = 2 * call_tokens(wire) + call_tokens(wire) // 2
    async with fake_for(wire, flavour, Limits(tpm=tpm)) as fake:
        failure = await spend_until_refused(session, fake, 2)
    assert_refused(failure, "minute_limit")
    assert fake.limit_refusals == {"tpm": 1}
    assert fake.outcomes == {"ok": 2, "limit:tpm": 1}
    assert fake.ledger is not None and recount(fake.ledger) == {}


@pytest.mark.parametrize(("wire", "flavour"), DIALECTS, ids=DIALECT_IDS)
async def test_a_call_past_tpd_is_refused_as_a_day_limit(
    wire: Wire, flavour: Flavour, session: aiohttp.ClientSession
) -> None:
    tpd = 3 * call_tokens(wire) + 1
    async with fake_for(wire, flavour, Limits(tpd=tpd)) as fake:
        failure = await spend_until_refused(session, fake, 3)
    assert_refused(failure, "day_limit")
    assert fake.limit_refusals == {"tpd": 1}
    assert fake.ledger is not None and fake.ledger.used_today(KEY).tokens == 3 * call_tokens(wire) <= tpd


@pytest.mark.parametrize(("wire", "flavour"), DIALECTS, ids=DIALECT_IDS)
@pytest.mark.parametrize("unit", ["tokens", "requests"])
async def test_a_spent_monthly_budget_is_refused_as_a_day_limit(
    wire: Wire, flavour: Flavour, unit: str, session: aiohttp.ClientSession
) -> None:
    budget = (
        Budget("tokens", "month", 2 * call_tokens(wire))
        if unit == "tokens"
        else Budget("requests", "month", 2)
    )
    async with fake_for(wire, flavour, Limits(budgets=(budget,))) as fake:
        failure = await spend_until_refused(session, fake, 2)
    assert_refused(failure, "day_limit")
    assert fake.limit_refusals == {f"{unit}/month": 1}


async def test_a_spent_neuron_budget_is_cloudflares_daily_allocation_reply(
    session: aiohttp.ClientSession,
) -> None:
    per_call = RATES.of(prompt_tokens("cloudflare"), estimated_tokens(REPLY))
    allocation = math.ceil(4 * per_call)
    assert 5 * per_call > allocation  # room for four calls, not five
    limits = Limits(budgets=(Budget("neurons", "day", allocation),), neurons=RATES, owner="account")
    async with fake_for("cloudflare", "generic", limits) as fake:
        slot = slot_for(fake)
        for _ in range(4):
            await call(session, slot)
        async with session.post(
            f"{fake.base_url}/accounts/{fake.account_id}/ai/run/{MODEL}",
            json=body_of("cloudflare"),
            headers={"Authorization": f"Bearer {KEY}"},
        ) as response:
            status, body = response.status, await response.json()
        failure = await refusal(session, slot)
    assert status == 429 and body["success"] is False
    assert body["errors"][0]["code"] == 3036
    assert f"daily free allocation of {allocation:,} neurons" in body["errors"][0]["message"]
    assert_refused(failure, "day_limit")
    assert fake.limit_refusals == {"neurons/day": 2}
    assert fake.ledger is not None
    assert fake.ledger.used_today(KEY).neurons == pytest.approx(4 * per_call)


@pytest.mark.parametrize(("wire", "flavour"), DIALECTS, ids=DIALECT_IDS)
async def test_two_keys_of_one_owner_share_one_counter(
    wire: Wire, flavour: Flavour, session: aiohttp.ClientSession
) -> None:
    limits = Limits(rpd=3, owner="organisation")
    async with fake_for(wire, flavour, limits, extra_keys=[OTHER_KEY]) as fake:
        first, second = slot_for(fake, KEY, 0), slot_for(fake, OTHER_KEY, 1)
        await call(session, first)
        await call(session, second)
        await call(session, first)
        failures = [await refusal(session, first), await refusal(session, second)]
    for failure in failures:
        assert_refused(failure, "day_limit")
    assert fake.limit_refusals == {"rpd": 2}
    assert fake.ledger is not None and fake.ledger.used_today(KEY).requests == 3


async def test_keys_counted_per_key_each_have_their_own_counter(session: aiohttp.ClientSession) -> None:
    tpd = call_tokens("openai") + 1
    async with fake_for("openai", "groq", Limits(tpd=tpd), extra_keys=[OTHER_KEY]) as fake:
        first, second = slot_for(fake, KEY, 0), slot_for(fake, OTHER_KEY, 1)
        await call(session, first)
        await call(session, second)
        assert_refused(await refusal(session, first), "day_limit")
    assert fake.limit_refusals == {"tpd": 1}


async def test_a_wrong_key_is_still_refused_as_a_wrong_key(session: aiohttp.ClientSession) -> None:
    async with fake_for("openai", "generic", Limits(rpd=1), extra_keys=[OTHER_KEY]) as fake:
        failure = await refusal(session, slot_for(fake, "sk-nobody"))
    assert failure.kind == "auth"
    assert fake.outcomes == {"rejected": 1} and not fake.limit_refusals


class Clock:
    def __init__(self, at: datetime) -> None:
        self.now = at.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("wire", "flavour"), DIALECTS, ids=DIALECT_IDS)
async def test_a_call_past_rpm_is_a_minute_limit_until_the_next_clock_minute(
    wire: Wire, flavour: Flavour, session: aiohttp.ClientSession
) -> None:
    clock = Clock(datetime(2025, 3, 1, 12, 0, 45, tzinfo=ZoneInfo("UTC")))
    async with fake_for(wire, flavour, Limits(rpm=2), clock=clock) as fake:
        failure = await spend_until_refused(session, fake, 2)
        clock.now += 15  # 12:01:00, a new minute
        await call(session, slot_for(fake))
    assert_refused(failure, "minute_limit")
    assert fake.limit_refusals == {"rpm": 1}
    assert failure.retry_after == pytest.approx(15.0, abs=1.0)


async def test_tokens_leave_the_minute_window_after_60_seconds(session: aiohttp.ClientSession) -> None:
    clock = Clock(datetime(2025, 3, 1, 12, 0, 0, tzinfo=ZoneInfo("UTC")))
    tpm = call_tokens("openai") + 1
    async with fake_for("openai", "generic", Limits(tpm=tpm), clock=clock) as fake:
        slot = slot_for(fake)
        await call(session, slot)
        clock.now += 30
        failure = await refusal(session, slot)
        clock.now += 30.5
        await call(session, slot)
    assert failure.retry_after == pytest.approx(30.0, abs=1.0)
    assert fake.outcomes == {"ok": 2, "limit:tpm": 1}


async def test_days_and_months_are_the_providers_local_ones(session: aiohttp.ClientSession) -> None:
    pacific = ZoneInfo("America/Los_Angeles")
    clock = Clock(datetime(2025, 3, 31, 23, 59, 0, tzinfo=pacific))
    limits = Limits(rpd=1, budgets=(Budget("requests", "month", 1),), timezone="America/Los_Angeles")
    async with fake_for("gemini", "generic", limits, clock=clock) as fake:
        slot = slot_for(fake)
        await call(session, slot)
        assert_refused(await refusal(session, slot), "day_limit")
        # 00:01 on 1 April in California: a new day and month there, though both calls fall on 1 April
        # in UTC (where this one would be refused by both limits).
        clock.now += 120
        await call(session, slot)
        assert_refused(await refusal(session, slot), "day_limit")
    assert fake.limit_refusals == {"rpd": 2}


async def test_max_tokens_counted_on_arrival_are_held_until_the_answer(
    session: aiohttp.ClientSession,
) -> None:
    # Room for one call holding its max_tokens; a second one arriving meanwhile does not fit, and once the
    # first has answered it holds only what it spent.
    tpm = prompt_tokens("openai") + REQUEST.max_tokens + call_tokens("openai")
    limits = Limits(tpm=tpm, counts_max_tokens_on_arrival=True)
    async with fake_for("openai", "generic", limits, latency=0.4) as fake:
        slot = slot_for(fake)
        first = asyncio.create_task(call(session, slot))
        await asyncio.sleep(0.15)
        held = fake.ledger.minute_tokens(KEY) if fake.ledger else 0
        failure = await refusal(session, slot)
        await first
        await call(session, slot)
    assert held == prompt_tokens("openai") + REQUEST.max_tokens
    assert_refused(failure, "minute_limit")
    assert fake.outcomes == {"ok": 2, "limit:tpm": 1}
    assert fake.ledger is not None and fake.ledger.minute_tokens(KEY) == 2 * call_tokens("openai")


@pytest.mark.parametrize("wire", ["openai", "gemini", "cloudflare"])
async def test_a_reply_never_has_more_completion_tokens_than_max_tokens(
    wire: Wire, session: aiohttp.ClientSession
) -> None:
    short = ChatRequest(system=REQUEST.system, user=REQUEST.user, json_schema={}, max_tokens=10)
    async with FakeProvider(wire, reply="x" * 400, api_key=KEY, limits=Limits(tpd=10_000)) as fake:
        reply = await call(session, slot_for(fake), short)
    assert reply.completion_tokens is not None and reply.completion_tokens <= 10
    assert fake.received[0].charge is not None and fake.received[0].charge.completion_tokens <= 10


@pytest.mark.parametrize("outcome", ["server", "minute_limit", "day_limit"])
async def test_injected_failures_are_not_limit_refusals_and_spend_no_tokens(
    outcome: Any, session: aiohttp.ClientSession
) -> None:
    async with FakeProvider(
        "openai", reply=REPLY, api_key=KEY, script=[outcome], limits=Limits(tpd=10_000)
    ) as fake:
        with pytest.raises(ProviderFailure):
            await call(session, slot_for(fake))
    assert not fake.limit_refusals
    assert fake.ledger is not None and fake.ledger.used_today(KEY).tokens == 0
    assert fake.ledger.used_today(KEY).requests == 1


async def test_a_refused_call_spends_nothing(session: aiohttp.ClientSession) -> None:
    async with fake_for("openai", "generic", Limits(tpd=call_tokens("openai") + 5)) as fake:
        await spend_until_refused(session, fake, 1)
        await refusal(session, slot_for(fake))
    assert fake.ledger is not None
    assert (fake.ledger.used_today(KEY).requests, fake.ledger.used_today(KEY).tokens) == (
        1,
        call_tokens("openai"),
    )
    assert fake.limit_refusals == {"tpd": 2}


async def test_fakes_that_share_a_ledger_share_its_limits(session: aiohttp.ClientSession) -> None:
    first = fake_for("openai", "openrouter", Limits(rpd=2, owner="account"))
    second = FakeProvider("openai", reply=REPLY, flavour="openrouter", api_key=KEY, ledger=first.ledger)
    async with first, second:
        await call(session, slot_for(first))
        await call(session, slot_for(second))
        assert_refused(await refusal(session, slot_for(first)), "day_limit")
    assert (first.limit_refusals, second.limit_refusals) == ({"rpd": 1}, {})


def test_recount_finds_calls_past_a_limit_in_a_ledger_log() -> None:
    ledger = Ledger(Limits(tpd=100, rpd=5))
    assert all(isinstance(ledger.admit(KEY, 40, 10, None), Charge) for _ in range(2))
    assert isinstance(ledger.admit(KEY, 40, 10, None), LimitHit)
    assert recount(ledger) == {}
    # A call the ledger would have refused, in its log: what a fake that overspent would have done.
    ledger.charges.append(replace(ledger.charges[0], at=ledger.charges[0].at + 1))
    assert recount(ledger) == {"tpd": 1}
