"""Counters over real Redis: counts of one process are written together, in one command per flush."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from datetime import date

import pytest
from azure.core.exceptions import ResourceNotFoundError

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


async def test_a_recorded_day_is_never_overwritten_with_less(services: Services) -> None:
    """A flushed Redis (or the backup, which saw part of the day) must not shrink a recorded day."""
    day = date(2001, 1, 1 + uuid.uuid4().int % 28)  # a day no other test records
    key = f"usage:{day.isoformat()}"
    redis = connections().redis()
    await redis.run(lambda client: client.delete(key))
    table = await connections().table(get_settings().usage_table)
    with contextlib.suppress(ResourceNotFoundError):
        await table.delete_entity(day.isoformat(), "totals")

    await redis.run(lambda client: client.hset(key, mapping={"turns_answered": 40, "cache_hits": 7}))
    assert await usage.record_day(day) == {"turns_answered": 40, "cache_hits": 7}
    await redis.run(lambda client: client.delete(key))  # Redis flushed after the record
    await redis.run(lambda client: client.hset(key, mapping={"turns_answered": 3, "queue_messages": 2}))
    assert await usage.record_day(day) == {"turns_answered": 40, "cache_hits": 7, "queue_messages": 2}
    row = await table.get_entity(day.isoformat(), "totals")
    assert (row["turns_answered"], row["cache_hits"], row["queue_messages"]) == (40, 7, 2)
    await redis.run(lambda client: client.delete(key))
    assert await usage.record_day(day) == {}  # nothing in Redis: nothing written
    assert (await table.get_entity(day.isoformat(), "totals"))["turns_answered"] == 40
