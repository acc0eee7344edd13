"""Provider calls are dependencies in the telemetry, with provider, model, outcome and tokens."""

from __future__ import annotations

import random
import uuid

import aiohttp
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from redis.asyncio import Redis

from core.infra.redis_failover import FailoverRedis
from core.providers.catalogue import ProviderEntry, Slot
from core.providers.pool import Pool
from core.providers.prompts import LlmEvaluation
from core.providers.quota import Quota
from handlers import telemetry
from testing.fakes import FakeProvider
from tests.providers.test_pool import REQUEST, VALID_REPLY

EXPORTED = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def spans_in_memory() -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTED))
    trace.set_tracer_provider(provider)  # once per process: the pool's tracer delegates to it


def test_without_a_connection_string_nothing_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("APPLICATIONINSIGHTS_CONNECTION_STRING", raising=False)
    assert telemetry.configure() is False


async def test_each_provider_call_is_a_client_span_with_its_outcome_and_tokens(redis: Redis) -> None:
    EXPORTED.clear()
    async with (
        FakeProvider("openai", reply=VALID_REPLY) as good,
        FakeProvider("openai", failure_rates={"server": 1.0}) as bad,
        aiohttp.ClientSession() as session,
    ):
        slots = [
            Slot(
                ProviderEntry(name=f"t-{uuid.uuid4().hex[:6]}", adapter="openai", base_url=fake.base_url,
                              model=model, rpm=100, rpd=100),
                0,
                fake.api_key,
                None,
            )
            for fake, model in ((bad, "broken-model"), (good, "good-model"))
        ]  # fmt: skip
        pool = Pool(slots, Quota(FailoverRedis(redis), random.Random(0)), session, deadline_seconds=10)
        # The broken provider first (it is picked by weight; seed the order by trying until both were).
        for _ in range(10):
            assert await pool.ask(REQUEST, LlmEvaluation) is not None
            outcomes = {span.attributes["provider.outcome"] for span in EXPORTED.get_finished_spans()}
            if outcomes >= {"ok", "server"}:
                break
    spans = {span.attributes["provider.outcome"]: span for span in EXPORTED.get_finished_spans()}
    ok, failed = spans["ok"], spans["server"]
    assert ok.kind is SpanKind.CLIENT and ok.attributes["gen_ai.request.model"] == "good-model"
    assert ok.attributes["gen_ai.usage.input_tokens"] > 0 and ok.attributes["gen_ai.usage.output_tokens"] > 0
    assert failed.status.status_code is StatusCode.ERROR
    assert failed.attributes["gen_ai.request.model"] == "broken-model"
