"""Counters of what each layer saved and spent, per UTC day and hour, shared by every instance through
Redis, and latency histograms of answered and queued turns. Every write is one pipelined round trip.

Redis holds the running totals for RETENTION_SECONDS; the daily timer copies a finished day into the
usage table, which is what the ops view falls back to for older days."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Literal

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import UpdateMode

from core.connections import connections
from core.settings import get_settings

RETENTION_SECONDS = 8 * 24 * 3600
LatencyKind = Literal["answered", "queued"]
# Histogram buckets grow by 10%, so a percentile read from them is within 10% of the true value.
_BUCKET_GROWTH = 1.1


def _key(day: date) -> str:
    return f"usage:{day.isoformat()}"


def _hour_key(day: date, hour: int) -> str:
    return f"usage:{day.isoformat()}:h{hour:02d}"


def _latency_key(day: date, kind: LatencyKind) -> str:
    return f"latency:{day.isoformat()}:{kind}"


def today() -> date:
    return datetime.now(UTC).date()


async def count(latency: tuple[LatencyKind, float] | None = None, **increments: int) -> None:
    """Add to today's counters (and this hour's), and optionally one latency sample in milliseconds."""
    now = datetime.now(UTC)
    day_key, hour_key = _key(now.date()), _hour_key(now.date(), now.hour)
    async with connections().redis().pipeline(transaction=False) as pipe:
        for name, amount in increments.items():
            pipe.hincrby(day_key, name, amount)
            pipe.hincrby(hour_key, name, amount)
        if latency is not None:
            kind, milliseconds = latency
            bucket = max(0, math.ceil(math.log(max(milliseconds, 1.0), _BUCKET_GROWTH)))
            pipe.hincrby(_latency_key(now.date(), kind), str(bucket), 1)
            pipe.expire(_latency_key(now.date(), kind), RETENTION_SECONDS)
        pipe.expire(day_key, RETENTION_SECONDS)
        pipe.expire(hour_key, RETENTION_SECONDS)
        await pipe.execute()


def _as_ints(raw: dict[bytes, bytes]) -> dict[str, int]:
    return {name.decode(): int(value) for name, value in raw.items()}


async def totals(day: date) -> dict[str, int]:
    found = _as_ints(await connections().redis().hgetall(_key(day)))
    return found or await _stored_totals(day)


async def hourly(day: date) -> list[tuple[int, dict[str, int]]]:
    async with connections().redis().pipeline(transaction=False) as pipe:
        for hour in range(24):
            pipe.hgetall(_hour_key(day, hour))
        replies = await pipe.execute()
    return [(hour, _as_ints(raw)) for hour, raw in enumerate(replies) if raw]


async def latency_percentiles(day: date, kind: LatencyKind) -> dict[str, float] | None:
    buckets = sorted(
        (int(b), n) for b, n in _as_ints(await connections().redis().hgetall(_latency_key(day, kind))).items()
    )
    total = sum(n for _, n in buckets)
    if not total:
        return None

    def percentile(share: float) -> float:
        seen = 0
        for bucket, n in buckets:
            seen += n
            if seen >= share * total:
                return round(_BUCKET_GROWTH**bucket, 1)
        return round(_BUCKET_GROWTH ** buckets[-1][0], 1)

    return {"count": total, "p50": percentile(0.50), "p95": percentile(0.95), "p99": percentile(0.99)}


async def _stored_totals(day: date) -> dict[str, int]:
    table = await connections().table(get_settings().usage_table)
    try:
        entity = await table.get_entity(day.isoformat(), "totals")
    except ResourceNotFoundError:
        return {}
    return {name: int(value) for name, value in entity.items() if name not in ("PartitionKey", "RowKey")}


async def record_day(day: date) -> dict[str, int]:
    """Copy a day's counters into the durable usage table; running it again rewrites the same row."""
    counters = _as_ints(await connections().redis().hgetall(_key(day)))
    if counters:
        table = await connections().table(get_settings().usage_table)
        row = {"PartitionKey": day.isoformat(), "RowKey": "totals", **counters}
        await table.upsert_entity(row, mode=UpdateMode.REPLACE)
    return counters
