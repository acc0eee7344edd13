"""Counters over real Redis: counts of one process are written together, in one command per flush."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date

import pytest

from core.infra import usage
from core.infra.connections import connections
from core.settings import get_settings
from testing.app_stack import Services


@pytest.fixture
def batched(monkeypatch: pytest.MonkeyPatch, services: Services) -> Iterator[None]:
    monkeypatch.setenv("USAGE_FLUSH_SECONDS", "0.3")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


async def _counted(day: date, name: str) -> int:
    return (await usage.totals(day)).get(name, 0)


async def test_counts_of_one_process_are_written_together_after_the_flush_delay(batched: None) -> None:
    name = f"provider_calls_t{uuid.uuid4().hex[:8]}"  # a counter no other test touches
    provider = name.removeprefix("provider_calls_")
    day = usage.today()
    redis = connections().redis()
    await usage.flush()  # start from nothing pending
    redis.take_counts()
    for _ in range(5):
        usage.note_provider_call(provider)
        await usage.count(turns_answered=1, latency=("answered", 120.0))
    assert await _counted(day, name) == 0  # nothing written yet: five counts, no command
    assert redis.take_counts() == {"redis_commands": 1}  # only the read above
    await asyncio.sleep(0.6)
    assert await _counted(day, name) == 5
    assert redis.take_counts() == {"redis_commands": 2}  # the one flush, and the read
    latency = await usage.latency_percentiles(day, "answered")
    assert latency is not None and latency["count"] >= 5
