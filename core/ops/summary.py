"""The day at a glance for ops: what each layer saved, what providers were called, latency, queues."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.infra import usage
from core.infra.connections import connections
from core.infra.job_queue import JOBS_QUEUE, POISON_QUEUE

_CALLS = "provider_calls_"


def _calls_by_provider(counters: dict[str, int]) -> dict[str, int]:
    return {name.removeprefix(_CALLS): value for name, value in counters.items() if name.startswith(_CALLS)}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


async def _queue_depth(name: str) -> int:
    properties = await (await connections().queue(name, raw=True)).get_queue_properties()
    return properties.approximate_message_count or 0


async def summary(day: date) -> dict[str, Any]:
    counters = await usage.totals(day)
    calls = _calls_by_provider(counters)
    interviews = counters.get("interviews_created", 0)
    remote = sum(value for name, value in calls.items() if name != "local")
    return {
        "date": day.isoformat(),
        "counters": counters,
        "interviews": interviews,
        "turns": counters.get("turns_answered", 0),
        "provider_calls": calls,
        "remote_calls_per_interview": _ratio(remote, interviews),
        # Jobs each layer answered without a remote model, and what the day spent.
        "layers": {
            "template": counters.get("template_answers", 0),
            "local": calls.get("local", 0),
            "cache": counters.get("cache_hits", 0) - counters.get("near_duplicate_hits", 0),
            "near_duplicate": counters.get("near_duplicate_hits", 0),
            "dedup": counters.get("dedup_merges", 0),
            "batched": counters.get("batched_jobs", 0),
            "remote": remote,
        },
        "spent": {
            "remote_calls": remote,
            "redis_commands": counters.get("redis_commands", 0),
            "redis_backup_commands": counters.get("redis_backup_commands", 0),
            "queue_messages": counters.get("queue_messages", 0),
            "function_executions": counters.get("function_executions", 0),
        },
        # Per job that could be shared: looked up once when it arrives, a hit then or in the worker.
        "cache_hit_rate": _ratio(counters.get("cache_hits", 0), counters.get("cache_lookups", 0)),
        "latency_ms": {
            "answered": await usage.latency_percentiles(day, "answered"),
            "queued": await usage.latency_percentiles(day, "queued"),
        },
        "hourly": [
            {
                "hour": f"{hour:02d}",
                "provider_calls": _calls_by_provider(hour_counters),
                "cache_hits": hour_counters.get("cache_hits", 0),
                "cache_lookups": hour_counters.get("cache_lookups", 0),
                "hit_rate": _ratio(hour_counters.get("cache_hits", 0), hour_counters.get("cache_lookups", 0)),
            }
            for hour, hour_counters in await usage.hourly(day)
        ],
        "queues": {"jobs": await _queue_depth(JOBS_QUEUE), "poison": await _queue_depth(POISON_QUEUE)},
    }
