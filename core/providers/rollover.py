"""The providers' roll-over: each provider's finished day recorded once its own midnight has passed."""

from __future__ import annotations

import random
from collections.abc import Awaitable
from datetime import date, timedelta
from functools import partial
from typing import Any

from azure.data.tables import UpdateMode
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from core.infra.connections import connections
from core.providers.catalogue import Slot, configured_slots
from core.providers.quota import Quota, day_key, local_date, now_ms, stats_key, tokens_day_key
from core.settings import get_settings

MARKER_SECONDS = 3 * 24 * 3600


def _claim(marker: str, client: Redis) -> Awaitable[Any]:
    """Set the once-per-day marker; truthy only for the one caller that set it."""
    return client.set(marker, b"1", nx=True, ex=MARKER_SECONDS)


def _read_day(slot: Slot, day: str, pipe: Pipeline) -> None:
    pipe.get(day_key(slot, day))
    pipe.get(tokens_day_key(slot, day))
    pipe.hgetall(stats_key(slot, day))


async def roll_over() -> dict[str, int]:
    """Record each slot's finished local day once its midnight has passed, and clear run-out marks.

    Runs hourly, so every provider's reset (midnight Pacific, UTC, ...) is met whatever the DST;
    a missed run costs nothing but a late record: the counters themselves are keyed by local date."""
    at = now_ms()
    slots = list(configured_slots())
    redis = connections().redis()
    table = await connections().table(get_settings().usage_table)
    recorded: dict[str, int] = {}
    for slot in slots:
        finished = (date.fromisoformat(local_date(slot, at)) - timedelta(days=1)).isoformat()
        marker = f"rolled:{slot.id}:{finished}"
        if not await redis.run(partial(_claim, marker)):
            continue
        used_raw, tokens_raw, stats_raw = await redis.pipeline(partial(_read_day, slot, finished))
        used = int(used_raw or 0)
        stats = {k.decode(): int(v) for k, v in stats_raw.items()}
        row = {
            "PartitionKey": finished,
            "RowKey": f"provider-{slot.id.replace('#', '-')}",
            # Requests and tokens are the owner's: keys that share an owner show the same totals.
            "owner": slot.owner_id,
            "used": used,
            "tokens": int(tokens_raw or 0),
            **stats,
        }
        await table.upsert_entity(row, mode=UpdateMode.REPLACE)
        recorded[slot.id] = used
    await Quota(redis, random.Random()).clear_passed(slots)
    return recorded
