"""The hourly roll-over records each provider key's finished local day once, and clears run-out marks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from core.infra.connections import connections
from core.providers.catalogue import configured_slots
from core.providers.quota import day_key, local_date, now_ms, slot_key
from core.providers.rollover import roll_over
from core.settings import get_settings
from testing.app_stack import Services


@pytest.fixture
def one_provider(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    catalogue = {"providers": [{"name": "rollover-test", "adapter": "openai", "base_url": "http://127.0.0.1:9/v1",
                                "model": "m", "key_settings": ["ROLLOVER_TEST_KEY"], "rpm": 5, "rpd": 50,
                                "reset_timezone": "America/Los_Angeles"}]}  # fmt: skip
    (tmp_path / "providers.json").write_text(json.dumps(catalogue))
    monkeypatch.setenv("PROVIDERS_FILE", str(tmp_path / "providers.json"))
    monkeypatch.setenv("ROLLOVER_TEST_KEY", "k")
    configured_slots.cache_clear()
    yield
    configured_slots.cache_clear()


async def test_a_finished_day_is_recorded_once_and_passed_marks_are_cleared(
    one_provider: None, services: Services
) -> None:
    (slot,) = configured_slots()
    yesterday = (date.fromisoformat(local_date(slot, now_ms())) - timedelta(days=1)).isoformat()
    async with Redis.from_url(services.redis_url) as redis:
        await redis.delete(f"rolled:{slot.id}:{yesterday}")
        await redis.set(day_key(slot, yesterday), 7)
        await redis.hset(
            slot_key(slot), mapping={"exhausted_until": now_ms() - 1, "cool_until": now_ms() + 60_000}
        )

        assert await roll_over() == {slot.id: 7}
        assert await roll_over() == {}  # once per finished day, however often the timer runs

        table = await connections().table(get_settings().usage_table)
        row = await table.get_entity(yesterday, "provider-rollover-test-0")
        assert row["used"] == 7
        marks = await redis.hgetall(slot_key(slot))
        assert b"exhausted_until" not in marks and b"cool_until" in marks  # a future cool-down stays
