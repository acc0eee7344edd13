"""Counters of what each layer saved and spent, per UTC day, shared by every instance through Redis.

Redis holds today's running totals; the daily timer copies a finished day into the usage table."""

from __future__ import annotations

from datetime import UTC, date, datetime

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from core.connections import connections
from core.settings import get_settings

RETENTION_SECONDS = 8 * 24 * 3600


def _key(day: date) -> str:
    return f"usage:{day.isoformat()}"


def today() -> date:
    return datetime.now(UTC).date()


async def count(**increments: int) -> None:
    key = _key(today())
    async with connections().redis().pipeline(transaction=False) as pipe:
        for name, amount in increments.items():
            pipe.hincrby(key, name, amount)
        pipe.expire(key, RETENTION_SECONDS)
        await pipe.execute()


async def totals(day: date) -> dict[str, int]:
    raw = await connections().redis().hgetall(_key(day))
    if raw:
        return {name.decode(): int(value) for name, value in raw.items()}
    return await _stored_totals(day)


async def _stored_totals(day: date) -> dict[str, int]:
    table = await connections().table(get_settings().usage_table)
    try:
        entity = await table.get_entity(day.isoformat(), "totals")
    except ResourceNotFoundError:
        return {}
    return {name: int(value) for name, value in entity.items() if name not in ("PartitionKey", "RowKey")}


async def record_day(day: date) -> dict[str, int]:
    """Copy a day's counters into the durable usage table; running it again rewrites the same row."""
    counters = {
        name.decode(): int(value) for name, value in (await connections().redis().hgetall(_key(day))).items()
    }
    if counters:
        table = await connections().table(get_settings().usage_table)
        await table.upsert_entity(
            {"PartitionKey": day.isoformat(), "RowKey": "totals", **counters}, mode=UpdateMode.REPLACE
        )
    return counters
