"""The provider adapters against local servers that speak each provider's real wire format: what they
send, what they read back, and how every way a call can fail is classified."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from multidict import CIMultiDict

from core.providers.adapters import ADAPTERS, cloudflare, gemini, openai_compatible
from core.providers.adapters.bounded_json import MAX_BODY_BYTES, MAX_BODY_DEPTH
from core.providers.adapters.chat import ChatRequest, FailureKind, ProviderFailure
from core.providers.adapters.http_call import failure_from_error_reply, parse_duration, parse_retry_after
from core.providers.catalogue import AdapterName, JsonMode, ProviderEntry, Slot
from testing.fakes import (
    FakeProvider,
    Flavour,
    Outcome,
    Wire,
    estimated_tokens,
    refusing_base_url,
)

KEY = "sk-test-9f8e7d6c5b4a39281706"
REQUEST = ChatRequest(
    system="You score interview answers. Reply with one JSON object.",
    user="<candidate_answer>We cut p99 latency by 40% with a read cache.</candidate_answer>",
    json_schema={"type": "object"},
    max_tokens=300,
    temperature=0.1,
)
REPLY = '{"relevance": {"score": 4, "reason": "on topic"}}'
MODELS: dict[Wire, str] = {
    "openai": "llama-3.1-8b-instant",
    "gemini": "gemini-2.5-flash-lite",
    "cloudflare": "@cf/meta/llama-3.1-8b-instruct-fp8-fast",
}


def slot_for(
    adapter: AdapterName,
    base_url: str,
    *,
    api_key: str = KEY,
    timeout: float = 2.0,
    model: str | None = None,
    json_mode: JsonMode = "json_object",
) -> Slot:
    entry = ProviderEntry(
        json_mode=json_mode,
        name=f"fake-{adapter}",
        adapter=adapter,
        base_url=base_url,
        model=MODELS[adapter] if model is None else model,
        rpm=60,
        rpd=1000,
        timeout_seconds=timeout,
    )
    return Slot(entry=entry, key_index=0, api_key=api_key, account_id="test-account")


async def failure_of(session: aiohttp.ClientSession, slot: Slot) -> ProviderFailure:
    with pytest.raises(ProviderFailure) as raised:
        await ADAPTERS[slot.entry.adapter](session, slot, REQUEST)
    assert slot.api_key not in str(raised.value)
    return raised.value


def seconds_to_utc_midnight() -> float:
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return (midnight - now).total_seconds()


async def test_the_registry_names_each_wire_format() -> None:
    expected = {
        "openai": openai_compatible.complete,
        "gemini": gemini.complete,
        "cloudflare": cloudflare.complete,
    }
    assert expected == ADAPTERS


async def test_openai_sends_chat_completions_and_reads_the_reply(session: aiohttp.ClientSession) -> None:
    async with FakeProvider("openai", reply=REPLY, api_key=KEY) as fake:
        reply = await openai_compatible.complete(session, slot_for("openai", fake.base_url), REQUEST)
    received = fake.received[0]
    assert received.path == "/v1/chat/completions"
    assert received.headers["Authorization"] == f"Bearer {KEY}"
    assert received.body == {
        "model": "llama-3.1-8b-instant",
        "messages": [
            {"role": "system", "content": REQUEST.system},
            {"role": "user", "content": REQUEST.user},
        ],
        "max_tokens": 300,
        "temperature": 0.1,
        "response_format": {"type": "json_object"},
    }
    assert reply.text == REPLY
    assert reply.prompt_tokens == estimated_tokens(json.dumps(received.body))
    assert reply.completion_tokens == estimated_tokens(REPLY)


async def test_cloudflares_openai_endpoint_gets_the_account_in_its_base_url(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeProvider("openai", reply=REPLY, api_key=KEY) as fake:
        base_url = fake.origin + "/client/v4/accounts/{account_id}/ai/v1"
        reply = await openai_compatible.complete(session, slot_for("openai", base_url), REQUEST)
    assert reply.text == REPLY
    assert fake.received[0].path == "/client/v4/accounts/test-account/ai/v1/chat/completions"


async def test_gemini_sends_generate_content_and_reads_the_reply(session: aiohttp.ClientSession) -> None:
    async with FakeProvider("gemini", reply=REPLY, api_key=KEY) as fake:
        reply = await gemini.complete(session, slot_for("gemini", fake.base_url), REQUEST)
    received = fake.received[0]
    assert received.path == "/v1beta/models/gemini-2.5-flash-lite:generateContent"
    assert received.headers["x-goog-api-key"] == KEY
    assert "Authorization" not in received.headers
    assert received.body == {
        "systemInstruction": {"parts": [{"text": REQUEST.system}]},
        "contents": [{"role": "user", "parts": [{"text": REQUEST.user}]}],
        "generationConfig": {
            "maxOutputTokens": 300,
            "temperature": 0.1,
            "responseMimeType": "application/json",
        },
    }
    assert reply.text == REPLY
    assert reply.prompt_tokens == estimated_tokens(json.dumps(received.body))
    assert reply.completion_tokens == estimated_tokens(REPLY)


async def test_cloudflare_sends_to_the_accounts_model_and_reads_the_envelope(
    session: aiohttp.ClientSession,
) -> None:
    async with FakeProvider("cloudflare", reply=REPLY, api_key=KEY) as fake:
        reply = await cloudflare.complete(session, slot_for("cloudflare", fake.base_url), REQUEST)
    received = fake.received[0]
    assert received.path == "/client/v4/accounts/test-account/ai/run/@cf/meta/llama-3.1-8b-instruct-fp8-fast"
    assert received.headers["Authorization"] == f"Bearer {KEY}"
    assert received.body == {
        "messages": [
            {"role": "system", "content": REQUEST.system},
            {"role": "user", "content": REQUEST.user},
        ],
        "max_tokens": 300,
        "temperature": 0.1,
    }
    assert reply.text == REPLY
    assert reply.prompt_tokens == estimated_tokens(json.dumps(received.body))
    assert reply.completion_tokens == estimated_tokens(REPLY)


async def test_json_is_asked_for_in_each_providers_own_json_mode(session: aiohttp.ClientSession) -> None:
    async with FakeProvider("openai", reply=REPLY, api_key=KEY) as fake:
        await openai_compatible.complete(
            session, slot_for("openai", fake.base_url, json_mode="prompt"), REQUEST
        )
    assert "response_format" not in fake.received[0].body  # an endpoint without JSON mode: the prompt asks
    async with FakeProvider("cloudflare", reply=REPLY, api_key=KEY) as fake:
        await cloudflare.complete(
            session, slot_for("cloudflare", fake.base_url, json_mode="cloudflare"), REQUEST
        )
    assert fake.received[0].body["response_format"] == {
        "type": "json_schema",
        "json_schema": REQUEST.json_schema,
    }
    async with FakeProvider("gemini", reply=REPLY, api_key=KEY) as fake:
        await gemini.complete(session, slot_for("gemini", fake.base_url, json_mode="gemini"), REQUEST)
    assert fake.received[0].body["generationConfig"]["responseMimeType"] == "application/json"


async def test_cloudflare_json_mode_replies_come_back_as_json_text(session: aiohttp.ClientSession) -> None:
    answer = {"relevance": {"score": 4, "reason": "on topic"}}
    async with FakeProvider("cloudflare", reply=answer, api_key=KEY) as fake:
        reply = await cloudflare.complete(session, slot_for("cloudflare", fake.base_url), REQUEST)
    assert json.loads(reply.text) == answer


async def test_the_reply_can_depend_on_the_request(session: aiohttp.ClientSession) -> None:
    async with FakeProvider(
        "openai", reply=lambda body: json.dumps({"echo": body["model"]}), api_key=KEY
    ) as fake:
        reply = await openai_compatible.complete(session, slot_for("openai", fake.base_url), REQUEST)
    assert json.loads(reply.text) == {"echo": "llama-3.1-8b-instant"}


LIMITS: list[tuple[Wire, Flavour, Outcome, FailureKind, Any]] = [
    ("openai", "generic", "minute_limit", "minute_limit", 20.0),
    ("openai", "generic", "day_limit", "day_limit", None),
    ("openai", "groq", "minute_limit", "minute_limit", 2.0),
    ("openai", "groq", "day_limit", "day_limit", 179.56),
    ("openai", "openrouter", "minute_limit", "minute_limit", (0.0, 60.0)),
    ("openai", "openrouter", "day_limit", "day_limit", "midnight"),
    ("gemini", "generic", "minute_limit", "minute_limit", 7.5),
    ("gemini", "generic", "day_limit", "day_limit", 37.0),
    ("cloudflare", "generic", "minute_limit", "minute_limit", None),
    ("cloudflare", "generic", "day_limit", "day_limit", None),
]


@pytest.mark.parametrize(("wire", "flavour", "outcome", "kind", "retry_after"), LIMITS)
async def test_rate_limits_are_told_apart_per_minute_or_per_day(
    wire: Wire,
    flavour: Flavour,
    outcome: Outcome,
    kind: FailureKind,
    retry_after: Any,
    session: aiohttp.ClientSession,
) -> None:
    async with FakeProvider(wire, script=[outcome], flavour=flavour, api_key=KEY) as fake:
        failure = await failure_of(session, slot_for(wire, fake.base_url))
    assert (failure.kind, failure.status) == (kind, 429)
    if retry_after == "midnight":
        assert failure.retry_after == pytest.approx(seconds_to_utc_midnight(), abs=5)
    elif isinstance(retry_after, tuple):
        assert failure.retry_after is not None and retry_after[0] <= failure.retry_after <= retry_after[1]
    else:
        assert failure.retry_after == (None if retry_after is None else pytest.approx(retry_after))


FAILURES: list[tuple[Wire, Flavour, Outcome, FailureKind, int | None]] = [
    ("openai", "generic", "server", "server", 500),
    ("openai", "groq", "server", "server", 503),
    ("openai", "openrouter", "server", "server", 502),
    ("gemini", "generic", "server", "server", 503),
    ("cloudflare", "generic", "server", "server", 500),
    ("openai", "generic", "auth", "auth", 401),
    ("openai", "groq", "auth", "auth", 401),
    ("openai", "openrouter", "auth", "auth", 401),
    ("gemini", "generic", "auth", "auth", 400),
    ("cloudflare", "generic", "auth", "auth", 401),
    *[
        (wire, "generic", outcome, "bad_reply", 200)
        for wire in ("openai", "gemini", "cloudflare")
        for outcome in ("garbage", "wrong_shape", "empty")
    ],
    *[(wire, "generic", "down", "connection", None) for wire in ("openai", "gemini", "cloudflare")],
]


@pytest.mark.parametrize(("wire", "flavour", "outcome", "kind", "status"), FAILURES)
async def test_each_failure_is_classified(
    wire: Wire,
    flavour: Flavour,
    outcome: Outcome,
    kind: FailureKind,
    status: int | None,
    session: aiohttp.ClientSession,
) -> None:
    async with FakeProvider(wire, script=[outcome], flavour=flavour, api_key=KEY) as fake:
        failure = await failure_of(session, slot_for(wire, fake.base_url))
    assert (failure.kind, failure.status, failure.retry_after) == (kind, status, None)
    assert fake.outcomes[outcome] == 1


@pytest.mark.parametrize("wire", ["openai", "gemini", "cloudflare"])
async def test_a_wrong_key_is_an_auth_failure_that_never_quotes_the_key(
    wire: Wire, session: aiohttp.ClientSession
) -> None:
    wrong_key = "sk-wrong-0a1b2c3d4e5f6a7b"
    async with FakeProvider(wire, api_key=KEY) as fake:
        failure = await failure_of(session, slot_for(wire, fake.base_url, api_key=wrong_key))
    assert failure.kind == "auth"
    assert fake.outcomes == {"rejected": 1}


async def test_the_key_is_redacted_even_when_the_provider_quotes_it(session: aiohttp.ClientSession) -> None:
    # OpenAI's 401 message quotes the key it was sent.
    async with FakeProvider("openai", script=["auth"], api_key=KEY) as fake:
        failure = await failure_of(session, slot_for("openai", fake.base_url))
    assert "Incorrect API key provided: ***" in failure.detail


@pytest.mark.parametrize("wire", ["openai", "gemini", "cloudflare"])
async def test_a_slow_provider_times_out_at_its_own_timeout(
    wire: Wire, session: aiohttp.ClientSession
) -> None:
    # Which call ends first, not how long it took: of two calls to providers that never answer in time,
    # the one whose own timeout is shorter gives up first, as a timeout, while the other still waits.
    async with (
        FakeProvider(wire, script=["slow"], api_key=KEY) as short,
        FakeProvider(wire, script=["slow"], api_key=KEY) as long,
    ):
        # The patient call starts first: if both waited for one default, it would give up first.
        patient = asyncio.ensure_future(failure_of(session, slot_for(wire, long.base_url, timeout=10)))
        await asyncio.sleep(0.05)
        quick = asyncio.ensure_future(failure_of(session, slot_for(wire, short.base_url, timeout=0.3)))
        done, _ = await asyncio.wait([quick, patient], return_when=asyncio.FIRST_COMPLETED)
        assert done == {quick} and not patient.done()
        patient.cancel()
        await asyncio.gather(patient, return_exceptions=True)
    assert quick.result().kind == "timeout"
    assert short.outcomes == {"slow": 1}


@pytest.mark.parametrize("wire", ["openai", "gemini", "cloudflare"])
async def test_a_refused_connection_is_a_connection_failure(
    wire: Wire, session: aiohttp.ClientSession
) -> None:
    failure = await failure_of(session, slot_for(wire, refusing_base_url()))
    assert failure.kind == "connection"


async def test_a_request_the_provider_rejects_is_a_bad_request(session: aiohttp.ClientSession) -> None:
    async with FakeProvider("openai", api_key=KEY) as fake:
        failure = await failure_of(session, slot_for("openai", fake.base_url, model=""))
    assert (failure.kind, failure.status) == ("bad_request", 400)
    assert "model" in failure.detail


MALFORMED: list[tuple[Wire, str, dict[str, str], dict[str, Any], str]] = [
    ("openai", "/chat/completions", {"Authorization": f"Bearer {KEY}"}, {"model": "m"}, "messages"),
    ("gemini", "/models/m:generateContent", {"x-goog-api-key": KEY}, {"prompt": "hi"}, "Unknown name"),
    ("gemini", "/models/m:generateContent", {}, {"contents": []}, "unregistered callers"),
    (
        "cloudflare",
        "/accounts/test-account/ai/run/m",
        {"Authorization": f"Bearer {KEY}"},
        {"text": "hi"},
        "5006",
    ),
    ("cloudflare", "/accounts/other/ai/run/m", {"Authorization": f"Bearer {KEY}"}, {"prompt": "hi"}, "7003"),
]


@pytest.mark.parametrize(("wire", "path", "headers", "body", "complaint"), MALFORMED)
async def test_the_fakes_reject_malformed_requests_in_their_providers_words(
    wire: Wire,
    path: str,
    headers: dict[str, str],
    body: dict[str, Any],
    complaint: str,
    session: aiohttp.ClientSession,
) -> None:
    async with (
        FakeProvider(wire, api_key=KEY) as fake,
        session.post(fake.base_url + path, json=body, headers=headers) as response,
    ):
        status, text = response.status, await response.text()
    assert status in (400, 403)
    assert complaint in text


async def test_a_fake_plays_its_script_then_its_seeded_failure_rates(session: aiohttp.ClientSession) -> None:
    outcomes = []
    for _ in range(2):
        fake = FakeProvider(
            "openai", script=["server", "ok"], failure_rates={"server": 0.5}, seed=7, api_key=KEY
        )
        async with fake:
            slot = slot_for("openai", fake.base_url)
            for _ in range(12):
                with contextlib.suppress(ProviderFailure):
                    await openai_compatible.complete(session, slot, REQUEST)
        outcomes.append([received.outcome for received in fake.received])
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][:2] == ["server", "ok"] and {"server", "ok"} == set(outcomes[0][2:])


def reply_of(status: int, body: Any, headers: dict[str, str] | None = None) -> ProviderFailure:
    slot = slot_for("openai", "http://provider.invalid/v1")
    return failure_from_error_reply(slot, status, CIMultiDict(headers or {}), json.dumps(body))


GROQ_TPM = {
    "error": {"message": "Rate limit reached on tokens per minute (TPM)", "code": "rate_limit_exceeded"}
}
GROQ_SPENT = {
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": "1m2.5s",
    "retry-after": "3",
}


def test_groqs_request_headers_count_requests_per_day_but_only_on_groqs_replies() -> None:
    groq = reply_of(429, GROQ_TPM, {"x-groq-region": "dls", **GROQ_SPENT})
    assert (groq.kind, groq.retry_after) == ("day_limit", 62.5)
    # Elsewhere (OpenAI, SambaNova) the same header counts a per-minute window.
    other = reply_of(429, GROQ_TPM, GROQ_SPENT)
    assert (other.kind, other.retry_after) == ("minute_limit", 3.0)


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        # Gemini's OpenAI-compatible endpoint wraps its google.rpc.Status in a list.
        (
            429,
            [
                {
                    "error": {
                        "code": 429,
                        "status": "RESOURCE_EXHAUSTED",
                        "details": [
                            {
                                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                                "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel"}],
                            }
                        ],
                    }
                }
            ],
            "day_limit",
        ),
        (429, {"success": False, "errors": [{"code": 3040, "message": "Out of capacity"}]}, "minute_limit"),
        (
            429,
            {"error": {"message": "Rate limit exceeded: limit_rpd/meta-llama/free", "code": 429}},
            "day_limit",
        ),
        (
            429,
            {
                "error": {
                    "code": "RateLimitReached",
                    "message": "Rate limit of 150 per 86400s exceeded for UserByModelByDay.",
                }
            },
            "day_limit",
        ),
        (
            429,
            {
                "error": {
                    "message": "Provider returned error",
                    "code": 429,
                    "metadata": {"raw": "quota per day spent"},
                }
            },
            "day_limit",
        ),
        (
            403,
            {"success": False, "errors": [{"code": 3023, "message": "Service unavailable for account"}]},
            "auth",
        ),
        (408, {"success": False, "errors": [{"code": 3007, "message": "Request timeout"}]}, "timeout"),
        (
            404,
            {"error": {"message": "The model `x` does not exist", "code": "model_not_found"}},
            "bad_request",
        ),
        (
            413,
            {"success": False, "errors": [{"code": 3006, "message": "Request is too large"}]},
            "bad_request",
        ),
        (529, {"error": {"message": "Overloaded"}}, "server"),
    ],
)
def test_error_replies_in_other_forms(status: int, body: Any, kind: FailureKind) -> None:
    assert reply_of(status, body).kind == kind


def test_retry_after_may_be_seconds_or_an_http_date() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412600.0) == 0.0
    assert parse_retry_after("soon") is None
    assert reply_of(429, {}, {"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}).retry_after == 0.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2m59.56s", 179.56), ("7.66s", 7.66), ("37s", 37.0), ("1.5s", 1.5), ("250ms", 0.25), ("1h2m", 3720.0)],
)
def test_durations_read_as_groq_and_google_write_them(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5", "soon", "2m then 3s"])
def test_durations_that_are_not_durations_are_none(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    "body",
    [
        {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 9}},
        {"candidates": [{"finishReason": "SAFETY", "index": 0}]},
        {"candidates": [{"content": {"parts": [{"text": "{"}]}, "finishReason": "RECITATION"}]},
        {"candidates": []},
    ],
)
def test_gemini_replies_withheld_for_safety_are_not_answers(body: dict[str, Any]) -> None:
    with pytest.raises((ValueError, IndexError)):
        gemini.read_reply(body)


# --- replies too large or too deep --------------------------------------------------------------------


def _nested(depth: int) -> dict[str, Any]:
    found: dict[str, Any] = {"leaf": True}
    for _ in range(depth - 1):
        found = {"next": found}
    return found


@pytest.mark.parametrize(
    ("wire", "reply", "detail"),
    [
        ("openai", "x" * (MAX_BODY_BYTES + 10), f"body over {MAX_BODY_BYTES} bytes"),
        ("gemini", "x" * (MAX_BODY_BYTES + 10), f"body over {MAX_BODY_BYTES} bytes"),
        ("cloudflare", {"text": "x" * (MAX_BODY_BYTES + 10)}, f"body over {MAX_BODY_BYTES} bytes"),
        ("cloudflare", _nested(MAX_BODY_DEPTH + 5), f"nested deeper than {MAX_BODY_DEPTH} levels"),
    ],
)
async def test_a_body_too_large_or_too_deep_is_a_bad_reply(
    wire: Wire, reply: Any, detail: str, session: aiohttp.ClientSession
) -> None:
    request = ChatRequest(system="s", user="u", json_schema={}, max_tokens=200_000)
    async with FakeProvider(wire, reply=reply, api_key=KEY) as fake:
        slot = slot_for(wire, fake.base_url)
        with pytest.raises(ProviderFailure) as raised:
            await ADAPTERS[wire](session, slot, request)
    assert raised.value.kind == "bad_reply" and raised.value.status == 200
    assert detail in raised.value.detail and len(raised.value.detail) <= 400


async def test_a_model_text_nested_deep_passes_the_envelope_for_the_pool_to_judge(
    session: aiohttp.ClientSession,
) -> None:
    """Depth inside the model's text is its content's business (invalid_content in the pool), not the
    provider's: the envelope holds it as a string."""
    deep = "[" * 5000 + "]" * 5000
    request = ChatRequest(system="s", user="u", json_schema={}, max_tokens=200_000)
    async with FakeProvider("openai", reply=deep, api_key=KEY) as fake:
        reply = await ADAPTERS["openai"](session, slot_for("openai", fake.base_url), request)
    assert reply.text == deep


@pytest.mark.parametrize("text", ["[" * 100_000, '{"error": ' * 5000, "x" * (MAX_BODY_BYTES + 1)])
def test_an_error_reply_too_deep_or_too_large_is_still_classified_by_its_status(text: str) -> None:
    slot = slot_for("openai", "http://127.0.0.1:1/v1")
    assert failure_from_error_reply(slot, 503, CIMultiDict(), text).kind == "server"
    assert failure_from_error_reply(slot, 429, CIMultiDict(), text).kind == "minute_limit"
