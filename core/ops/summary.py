"""The day at a glance for ops: what each layer saved, what providers were called, latency, queues."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.infra import usage
from core.infra.connections import connections
from core.infra.counters import LOCAL_PROVIDER, calls_by_provider, counts_of, remote_calls
from core.infra.job_queue import JOBS_QUEUE, POISON_QUEUE
from core.providers.capacity import capacity_view, configured_keys
from core.providers.catalogue import configured_slots
from core.providers.governor import app_governor
from core.settings import get_settings


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


async def _queue_depth(name: str) -> int:
    properties = await (await connections().queue(name, raw=True)).get_queue_properties()
    return properties.approximate_message_count or 0


async def summary(day: date) -> dict[str, Any]:
    counters = await usage.totals(day)
    counts = counts_of(counters)
    calls = calls_by_provider(counters)
    interviews = counts["interviews_created"]
    remote = remote_calls(counters)
    return {
        "date": day.isoformat(),
        "counters": counters,
        "interviews": interviews,
        "turns": counts["turns_answered"],
        "provider_calls": calls,
        "remote_calls_per_interview": _ratio(remote, interviews),
        # Jobs each layer answered without a remote model, and what the day spent.
        "layers": {
            "template": counts["template_answers"],
            "local": calls.get(LOCAL_PROVIDER, 0),
            "cache": counts["cache_hits"] - counts["near_duplicate_hits"],
            "near_duplicate": counts["near_duplicate_hits"],
            "dedup": counts["dedup_merges"],
            "batched": counts["batched_jobs"],
            "remote": remote,
        },
        "spent": {
            "remote_calls": remote,
            "redis_commands": counts["redis_commands"],
            "redis_backup_commands": counts["redis_backup_commands"],
            "queue_messages": counts["queue_messages"],
            "table_operations": counts["table_operations"],
            "function_executions": counts["function_executions"],
        },
        # Per job that could be shared: looked up once when it arrives, a hit then or in the worker.
        "cache_hit_rate": _ratio(counts["cache_hits"], counts["cache_lookups"]),
        "latency_ms": {
            "answered": await usage.latency_percentiles(day, "answered"),
            "queued": await usage.latency_percentiles(day, "queued"),
            "queue_wait": await usage.latency_percentiles(day, "queue_wait"),
        },
        "hourly": [
            {
                "hour": f"{hour:02d}",
                "provider_calls": calls_by_provider(hour_counters),
                "cache_hits": hour_counts["cache_hits"],
                "cache_lookups": hour_counts["cache_lookups"],
                "hit_rate": _ratio(hour_counts["cache_hits"], hour_counts["cache_lookups"]),
            }
            for hour, hour_counters in await usage.hourly(day)
            for hour_counts in [counts_of(hour_counters)]
        ],
        "queues": {"jobs": await _queue_depth(JOBS_QUEUE), "poison": await _queue_depth(POISON_QUEUE)},
        # What the configured keys allow a day by the catalogue's limits (not what is left today).
        "capacity": capacity_view(configured_keys(configured_slots())).model_dump(),
        # The day's budget: capacity, what was used, the forecast and reserve, and what it chose and why.
        "governor": (
            await app_governor().state("governor" if get_settings().remote_jobs is None else "fixed")
        ).model_dump(),
    }
