"""Counters of what each layer saved and spent, per UTC day and hour, shared by every instance through
Redis, and latency histograms of answered and queued turns. Every write is one Lua script.

Redis holds the running totals for RETENTION_SECONDS; the daily timer copies a finished day into the
usage table, which is what the ops view falls back to for older days."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Literal, Unpack

from azure.core import MatchConditions
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import UpdateMode
from opentelemetry import metrics

from core.infra.connections import connections
from core.infra.counters import Counts, provider_calls
from core.infra.redis_failover import or_default
from core.settings import get_settings

RETENTION_SECONDS = 8 * 24 * 3600
# answered: a turn answered at once (the POST); queued: a queued turn's answer to its stored feedback;
# queue_wait: a job's send to a worker starting it (the queue trigger's polling, or a backlog).
LatencyKind = Literal["answered", "queued", "queue_wait"]
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


# KEYS: the day's and the hour's counters, then the latency histograms (_HISTOGRAM_KEY_INDEX). ARGV:
# retention seconds, the number of counter pairs, the pairs (name, amount), then latency triples (the
# histogram's key index, the bucket, the samples). One script: one command on metered Redis.
COUNT = """
local retention, pairs = ARGV[1], tonumber(ARGV[2])
for i = 3, 2 + 2 * pairs, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
end
for i = 3 + 2 * pairs, #ARGV, 3 do
  local histogram = KEYS[tonumber(ARGV[i])]
  redis.call('HINCRBY', histogram, ARGV[i + 1], ARGV[i + 2])
  redis.call('EXPIRE', histogram, retention)
end
redis.call('EXPIRE', KEYS[1], retention)
redis.call('EXPIRE', KEYS[2], retention)
return 1
"""
_HISTOGRAM_KEY_INDEX: dict[LatencyKind, int] = {"answered": 3, "queued": 4, "queue_wait": 5}

# Counts and latency samples of this process not yet written. They are written together, one command
# per flush, FLUSH_SECONDS after the first of them (USAGE_FLUSH_SECONDS; 0 writes every count at once):
# per-turn counting would cost a metered command per turn. An instance that stops within that window
# loses what it had not written: counters are ops figures, never the record.
_pending: Counter[str] = Counter()
_latencies: Counter[tuple[LatencyKind, int]] = Counter()
_scheduled: dict[asyncio.AbstractEventLoop, asyncio.TimerHandle] = {}
_flushing: set[asyncio.Task[None]] = set()

# The same counts as metrics in Application Insights (a no-op where telemetry is not configured).
_meter = metrics.get_meter(__name__)
_saving = _meter.create_counter("interviews.counters", description="The day's counters, by name.")


def note(**increments: Unpack[Counts]) -> None:
    """Add to today's counters; written with this process's next flush."""
    _add(Counter(dict(increments)))


def note_latency(kind: LatencyKind, milliseconds: float) -> None:
    """One latency sample, written with this process's next flush."""
    _latencies[(kind, _bucket(milliseconds))] += 1
    _schedule_flush()


def _bucket(milliseconds: float) -> int:
    return max(0, math.ceil(math.log(max(milliseconds, 1.0), _BUCKET_GROWTH)))


def note_provider_call(provider: str) -> None:
    """One call to `provider`, written with this process's next flush."""
    _add(Counter({provider_calls(provider): 1}))


def _add(increments: Counter[str]) -> None:
    _pending.update(increments)
    for name, amount in increments.items():
        _saving.add(amount, {"counter": name})
    _schedule_flush()


def _schedule_flush() -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no loop (a synchronous caller): the next count on a loop writes it
        return
    delay = get_settings().usage_flush_seconds
    if loop in _scheduled or delay <= 0:  # 0: every count writes at once, and a note goes with the next
        return

    def start() -> None:
        _scheduled.pop(loop, None)
        task = loop.create_task(flush())
        _flushing.add(task)
        task.add_done_callback(_flushing.discard)

    _scheduled[loop] = loop.call_later(delay, start)


async def count(
    *more: Counts, latency: tuple[LatencyKind, float] | None = None, **increments: Unpack[Counts]
) -> None:
    """Add to today's counters (and this hour's) the increments and every set of counts in `more`
    (added, so the same counter may come from several), and optionally one latency sample in ms."""
    totals: Counter[str] = Counter(dict(increments))
    for counts in more:
        totals.update(dict(counts))
    if latency is not None:
        kind, milliseconds = latency
        _latencies[(kind, _bucket(milliseconds))] += 1
    _add(totals)
    if get_settings().usage_flush_seconds <= 0:
        await flush()


async def flush() -> None:
    """Write this process's pending counts and latency samples in one command."""
    redis = connections().redis()
    # Redis commands so far, this process; this flush's own command is in the next one.
    totals = _pending + Counter(redis.take_counts())
    samples = +_latencies
    _pending.clear()
    _latencies.clear()
    if not totals and not samples:
        return
    now = datetime.now(UTC)
    keys = [_key(now.date()), _hour_key(now.date(), now.hour)]
    keys += [_latency_key(now.date(), kind) for kind in _HISTOGRAM_KEY_INDEX]
    pairs = [item for name, amount in totals.items() for item in (name, amount)]
    triples = [
        item for (kind, bucket), n in samples.items() for item in (_HISTOGRAM_KEY_INDEX[kind], bucket, n)
    ]
    args = [RETENTION_SECONDS, len(totals), *pairs, *triples]
    await or_default("counting", redis.script(COUNT, keys, args), None)


def _as_ints(raw: Mapping[bytes | str, bytes | str]) -> dict[str, int]:
    return {(name.decode() if isinstance(name, bytes) else name): int(value) for name, value in raw.items()}


async def totals(day: date) -> dict[str, int]:
    found = _as_ints(await connections().redis().run(lambda redis: redis.hgetall(_key(day))))
    return found or await _stored_totals(day)


async def hourly(day: date) -> list[tuple[int, dict[str, int]]]:
    replies = (
        await connections()
        .redis()
        .pipeline(lambda pipe: [pipe.hgetall(_hour_key(day, hour)) for hour in range(24)])
    )
    return [(hour, _as_ints(raw)) for hour, raw in enumerate(replies) if raw]


async def latency_percentiles(day: date, kind: LatencyKind) -> dict[str, float] | None:
    buckets = sorted(
        (int(b), n)
        for b, n in _as_ints(
            await connections().redis().run(lambda redis: redis.hgetall(_latency_key(day, kind)))
        ).items()
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
    """Copy a day's counters into the durable usage table. A recorded counter never goes down: the
    row keeps, per counter, the larger of what it holds and what Redis holds now, so a flushed Redis,
    or the backup that saw only part of the day, can never overwrite a recorded day with less. Running
    it again, or on two instances at once (the write is ETag-guarded), records the same day."""
    counters = _as_ints(await connections().redis().run(lambda redis: redis.hgetall(_key(day))))
    if not counters:
        return {}
    table = await connections().table(get_settings().usage_table)
    for _ in range(5):
        try:
            entity = await table.get_entity(day.isoformat(), "totals")
        except ResourceNotFoundError:
            row = {"PartitionKey": day.isoformat(), "RowKey": "totals", **counters}
            try:
                await table.create_entity(row)
                return counters
            except ResourceExistsError:
                continue  # another instance recorded it first: merge with theirs
        recorded = {
            name: int(value) for name, value in entity.items() if name not in ("PartitionKey", "RowKey")
        }
        merged = {name: max(recorded.get(name, 0), counters.get(name, 0)) for name in recorded | counters}
        if merged == recorded:
            return merged
        row = {"PartitionKey": day.isoformat(), "RowKey": "totals", **merged}
        try:
            await table.update_entity(
                row,
                mode=UpdateMode.REPLACE,
                etag=entity.metadata["etag"],
                match_condition=MatchConditions.IfNotModified,
            )
            return merged
        except (ResourceModifiedError, HttpResponseError) as error:
            if getattr(error, "status_code", None) != 412:
                raise
    raise RuntimeError(f"the usage of {day} changed under every attempt to record it")
