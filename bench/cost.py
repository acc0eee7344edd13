"""The monthly bill at a given number of interviews a day, from what a replay counted per interview.

Prices come from data/prices.json (each with its source and date). What a replay counts per interview:
function executions, queue messages, table operations, Redis commands, and the durations of the
executions. Busy time on Flex Consumption is simulated over a day: executions arrive at random (Poisson)
at the day's rate, shaped over the hours (twice as busy at the peak as on average, quiet at night), each
lasting a duration drawn from the replay; overlapping executions on one instance merge into one busy
period, and each busy period is billed at least 1 s, then in 0.1 s steps, at the instance's memory.
Linux Consumption bills each execution's own duration (at least 100 ms) at 128 MB steps of memory.

Assumptions (stated, not measured here): one queue message costs 3 queue operations (put, get, delete);
each queue trigger (the jobs' and the callbacks') polls its empty queue every maxPollingInterval (read from
host.json) on one instance all day;
telemetry ingests about 1.5 KB per execution; every table operation is billed as one transaction (a batch
counts each entity, the upper bound); 30 days a month."""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.settings import DATA_DIR
from devhost.host_config import HostConfig

ROOT = Path(__file__).resolve().parent.parent

DAYS_PER_MONTH = 30
QUEUE_OPERATIONS_PER_MESSAGE = 3
# An idle queue trigger's listener polls at its longest interval, host.json's maxPollingInterval; the app
# has two queue triggers (handlers/queue_dispatch.py, handlers/callback_dispatch.py), each polling its own.
EMPTY_POLL_SECONDS = HostConfig.load(ROOT).queues.max_polling_interval.total_seconds()
QUEUE_TRIGGERS = 2
TELEMETRY_BYTES_PER_EXECUTION = 1_500
# The day's shape: the share of the day's traffic in each hour (UTC), peaking in the working day.
HOURLY_SHAPE = [0.4, 0.3, 0.3, 0.3, 0.4, 0.6, 0.9, 1.2, 1.5, 1.7, 1.8, 1.8, 1.7, 1.7, 1.8, 1.8, 1.7,
                1.5, 1.3, 1.2, 1.1, 0.9, 0.7, 0.5]  # fmt: skip


def prices(path: Path | None = None) -> dict[str, float]:
    sheet = json.loads((path or DATA_DIR / "prices.json").read_text("utf-8"))
    return {name: float(entry["price"]) for name, entry in sheet["prices"].items()}


@dataclass(frozen=True)
class PerInterview:
    """What one interview costs in countable units, as a replay measured them."""

    executions: float
    queue_messages: float
    table_operations: float
    redis_commands: float


def flex_busy_seconds(executions_per_day: float, durations: list[float], seed: int = 7) -> float:
    """Billed busy seconds in a day on one instance (overlaps merged, 1 s minimum, 0.1 s steps)."""
    rng = random.Random(seed)
    total_shape = sum(HOURLY_SHAPE)
    arrivals: list[tuple[float, float]] = []
    for hour, weight in enumerate(HOURLY_SHAPE):
        rate = executions_per_day * weight / total_shape / 3600  # per second, this hour
        at = hour * 3600.0
        while rate > 0:
            at += rng.expovariate(rate)
            if at >= (hour + 1) * 3600:
                break
            arrivals.append((at, rng.choice(durations)))
    billed, start, end = 0.0, None, 0.0
    for at, duration in sorted(arrivals):
        if start is not None and at <= end:
            end = max(end, at + duration)
            continue
        if start is not None:
            billed += _billed(end - start)
        start, end = at, at + duration
    if start is not None:
        billed += _billed(end - start)
    return billed


def _billed(seconds: float) -> float:
    return max(1.0, math.ceil(seconds * 10) / 10)


def monthly_bill(
    per: PerInterview, durations: list[float], interviews_per_day: float, memory_mb: int = 512
) -> dict[str, dict[str, float]]:
    """USD a month by plan (Flex Consumption, Linux Consumption) and line, with Redis on Upstash."""
    price = prices()
    month = interviews_per_day * DAYS_PER_MONTH
    executions = per.executions * month
    gb = memory_mb / 1024
    flex_gb_seconds = flex_busy_seconds(per.executions * interviews_per_day, durations) * gb * DAYS_PER_MONTH
    y1_gb_seconds = (
        sum(max(0.1, d) for d in durations)
        / len(durations)
        * executions
        * math.ceil(memory_mb / 128)
        * 128
        / 1024
    )
    queue_ops = per.queue_messages * month * QUEUE_OPERATIONS_PER_MESSAGE
    empty_polls = QUEUE_TRIGGERS * DAYS_PER_MONTH * 86_400 / EMPTY_POLL_SECONDS
    shared = {
        "queue operations": (queue_ops + empty_polls) / 10_000 * price["queue_10k_operations"],
        "table transactions": per.table_operations * month / 10_000 * price["table_10k_transactions"],
        "telemetry ingestion": max(
            0.0,
            executions * TELEMETRY_BYTES_PER_EXECUTION / 1e9 - price["app_insights_free_gb"],
        )
        * price["app_insights_gb"],
        "redis (Upstash)": max(0.0, per.redis_commands * month - price["upstash_free_commands"])
        / 100_000
        * price["upstash_100k_commands"],
        "static web app": price["static_web_app_free"],
    }
    flex = {
        "compute (GB-s)": max(0.0, flex_gb_seconds - price["flex_free_gb_seconds"]) * price["flex_gb_second"],
        "executions": max(0.0, executions - price["flex_free_executions"])
        / 1e6
        * price["flex_execution_million"],
    }
    y1 = {
        "compute (GB-s)": max(0.0, y1_gb_seconds - price["y1_free_gb_seconds"]) * price["y1_gb_second"],
        "executions": max(0.0, executions - price["y1_free_executions"])
        / 1e6
        * price["y1_execution_million"],
    }
    return {
        "Flex Consumption": flex | shared,
        "Linux Consumption": y1 | shared,
    }


def render(bill: dict[str, dict[str, float]], interviews_per_day: float, per: PerInterview) -> list[str]:
    lines = [
        f"monthly bill at {interviews_per_day:,.0f} interviews a day (USD; per interview: "
        f"{per.executions:.1f} executions, {per.queue_messages:.2f} queue messages, "
        f"{per.table_operations:.1f} table operations, {per.redis_commands:.1f} Redis commands)"
    ]
    plans = list(bill)
    items = list(bill[plans[0]])
    lines.append(f"  {'line':24s}" + "".join(f"{plan:>20s}" for plan in plans))
    for item in items:
        lines.append(f"  {item:24s}" + "".join(f"{bill[plan][item]:20.2f}" for plan in plans))
    for label, skip in (("total", ()), ("total without Redis", ("redis (Upstash)",))):
        totals = [sum(v for k, v in bill[plan].items() if k not in skip) for plan in plans]
        lines.append(f"  {label:24s}" + "".join(f"{total:20.2f}" for total in totals))
    return lines


def bill_from_figures(figures: dict[str, Any], interviews_per_day: float = 10_000) -> list[str]:
    """The bill from `make simulate`'s figures (its --json output)."""
    per_interview = figures["per_interview"]
    per = PerInterview(
        executions=per_interview["function_executions"],
        queue_messages=per_interview["queue_messages"],
        table_operations=per_interview["table_operations"],
        redis_commands=per_interview["redis_commands"],
    )
    durations = figures["execution_seconds"] or [0.3]
    return render(monthly_bill(per, durations, interviews_per_day), interviews_per_day, per)
