"""`make simulate SIMULATE_ARGS="--day 300"`: a day of 10,000 interviews, scaled and compressed.

A real day cannot be replayed on a 2-core machine, so it is scaled, and the scaling is proportional, so
that what the governor faces is the same problem: a day of N interviews stands for a day of
`DAY_INTERVIEWS` (10,000) against the catalogue's limits times N / 10,000:

- daily and monthly limits (rpd, tpd, daily budgets, monthly budgets) are multiplied by N / 10,000, in the
  catalogue handed to the app and in the fakes that enforce it, so the day's free capacity per interview
  is the real one;
- the day is compressed into `--day-seconds` (the governor's day: GOVERNOR_DAY_SECONDS, from an origin
  set just before the first arrival), so each simulated minute stands for 1,440 / (day-seconds / 60) real
  minutes of the scaled population; per-minute limits (rpm, tpm) are multiplied by that times N / 10,000
  (at least 1), so they bind as hard as in the real day (no harder, as an unscaled run's would);
- interviews arrive along `HOURLY` (a day's curve: quiet nights, a morning and an evening peak), each at
  its quantile of the curve;
- the governor has history: the day before is written into Redis as the same curve's hourly demand
  (as if the app had run yesterday with the same mix), so its forecast uses "the same hour on earlier
  days"; `--no-history` starts it cold (a flat day assumed).

The providers' own counters reset at their real local midnight, which the compressed day does not
cross; "at the reset" is the end of the simulated day (the last answer and report done). The fakes'
limits are never compressed in kind: a call over them is refused and counted as an overrun.

Printed: the share of answers whose final score came from a model (a turn's own, or the report's review
for turns only the built-in evaluator scored), remote calls and tokens per interview, what each owner left
unused at the end of the day, the simulated hour at which any owner ran dry, and turn latency p50/p95 by
source (the first feedback the candidate reads, and the model's final score after a provisional one), and
how long jobs waited for the queue trigger (the app's own histogram)."""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bench.driver import Stats
from bench.fleet import Fleet, real_entries
from bench.fleet import key_of as fleet_key
from core.providers.capacity import REPORT_CALL, capacity, catalogue_keys
from core.providers.catalogue import Budget, ProviderEntry, Slot
from core.providers.governor import HOURS, DayClock, day_hash
from core.providers.quota import MONTH_TTL_SECONDS, budget_cost, budget_key, days_to_month_end
from testing.fakes.limits import Ledger, Use, local_day

DAY_INTERVIEWS = 10_000
# The share of a day's interviews that start in each hour (UTC): job seekers practise in the morning and,
# most, in the evening.
HOURLY = (1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 2.0, 3.5, 5.0, 6.0, 6.0,
          5.5, 5.5, 6.0, 6.0, 5.5, 5.0, 5.0, 5.5, 5.0, 4.0, 3.0, 2.0)  # fmt: skip
# How much earlier the governor's day starts than the devhost is asked for its first interview.
START_DELAY_SECONDS = 3.0
# Expected jobs per interview of the workload, for yesterday's history (bench/workload.py's day mix).
HISTORY_PER_INTERVIEW = {"evaluate": 4.5, "report": 0.85, "questions": 0.1}


def scale_catalogue(
    source: Path, target: Path, interviews: int, day_seconds: float, day_of: int = DAY_INTERVIEWS
) -> dict[str, float]:
    """A copy of the catalogue with the day's limits scaled to `interviews` of a `day_of`-interview day
    and per-minute limits to the compressed day; returns the two factors."""
    day_factor = interviews / day_of
    minute_factor = day_factor * 1_440 / (day_seconds / 60)
    document = json.loads(source.read_text("utf-8"))
    for entry in document["providers"]:
        if entry.get("adapter") == "local":
            continue
        for name, factor in (
            ("rpd", day_factor),
            ("tpd", day_factor),
            ("rpm", minute_factor),
            ("tpm", minute_factor),
        ):
            if entry.get(name):
                entry[name] = max(1, math.floor(entry[name] * factor))
        for budget in entry.get("budgets", []):
            budget["amount"] = max(1, math.floor(budget["amount"] * day_factor))
    target.write_text(json.dumps(document, indent=2), "utf-8")
    return {"day": day_factor, "minute": minute_factor}


def arrivals(interviews: int, day_seconds: float) -> list[float]:
    """When each interview starts, in seconds from the day's start: interview i at the (i + 0.5) / n
    quantile of the hourly curve, spread evenly within its hour."""
    total = sum(HOURLY)
    bounds, running = [], 0.0
    for weight in HOURLY:
        bounds.append((running, running + weight))
        running += weight
    found = []
    for index in range(interviews):
        point = (index + 0.5) / interviews * total
        hour = next(h for h, (low, high) in enumerate(bounds) if point < high or h == HOURS - 1)
        low, high = bounds[hour]
        found.append((hour + (point - low) / (high - low)) / HOURS * day_seconds)
    return found


def history(interviews: int) -> dict[str, int]:
    """Yesterday's demand by hour and kind, for the governor's forecast: the same curve and mix."""
    total = sum(HOURLY)
    return {
        f"h:{hour}:{kind}": round(interviews * weight / total * per)
        for hour, weight in enumerate(HOURLY)
        for kind, per in HISTORY_PER_INTERVIEW.items()
    }


async def write_history(redis_url: str, clock: DayClock, interviews: int) -> None:
    async with Redis.from_url(redis_url) as redis:
        await redis.hset(day_hash(clock.label(-1)), mapping=history(interviews))  # type: ignore[arg-type]


async def read_day(redis_url: str, clock: DayClock) -> dict[str, int]:
    """The governor's hash of the simulated day (day 0): its demand, grants and decisions. Read after the
    run, as the app's own summary has moved on to the next day by then."""
    async with Redis.from_url(redis_url) as redis:
        found = await redis.hgetall(day_hash(clock.label(0)))
    return {(key.decode() if isinstance(key, bytes) else key): int(value) for key, value in found.items()}


@dataclass(frozen=True)
class WatchedOwner:
    """A limit owner as the fakes count it: its ledger, one of its keys, its limits and its calls a day."""

    owner: str
    binding: str
    calls_per_day: int  # report-size calls, by the scaled catalogue (what the governor plans with)
    entry: ProviderEntry
    ledger: Ledger
    api_key: str

    def spent(self) -> Use:
        return self.ledger.used_today(self.api_key)

    def calls_left(self) -> int:
        """Report-size calls its day's limits still allow (requests, tokens and daily budgets a day, by the
        fakes' counters); a monthly budget's owner by its share of today (see `month_share_left`)."""
        use, entry, report = self.spent(), self.entry, REPORT_CALL
        left = [entry.rpd - use.requests] if entry.rpd else []
        if entry.tpd:
            left.append((entry.tpd - use.tokens) // report.total)
        for budget in entry.budgets:
            cost = max(1, budget_cost(entry, budget, report.prompt, report.completion))
            if budget.per == "day":
                left.append(math.floor((budget.amount - use.of(budget.unit)) / cost))
            else:
                left.append(math.floor(self.month_share_left(budget) / cost))
        return max(0, min(left)) if left else self.calls_per_day

    def month_share_left(self, budget: Budget) -> float:
        """What is left of today's even share of the month's rest (the pool's pacing), in its unit."""
        now = self.ledger.clock()
        today = local_day(now, self.ledger.zone)
        days_left = days_to_month_end(date.fromisoformat(today))
        month = self.ledger.used_this_month(self.api_key).of(budget.unit)
        spent_today = self.spent().of(budget.unit)
        return (budget.amount - (month - spent_today)) / days_left - spent_today

    def dry(self) -> bool:
        """No report-size call left today."""
        return self.calls_per_day > 0 and self.calls_left() <= 0


def watched_owners(fleet: Fleet, catalogue: Path) -> list[WatchedOwner]:
    entries = real_entries(catalogue)
    rows = {row.owner: row for row in capacity(catalogue_keys(entries), REPORT_CALL)}
    found: dict[str, WatchedOwner] = {}
    for entry in entries:
        fake, shared = fleet.fakes[entry.name], entry.quota_id or entry.name
        keys = [fleet_key(setting) for setting in entry.key_settings]
        owners = (
            [(f"{shared}#{i}", key) for i, key in enumerate(keys)]
            if entry.limit_owner == "key"
            else [(shared, keys[0])]
        )
        for owner, key in owners:
            row = rows.get(owner)
            if row is not None and fake.ledger is not None and owner not in found:
                found[owner] = WatchedOwner(owner, row.binding, row.calls_per_day, entry, fake.ledger, key)
    return list(found.values())


async def seed_earlier_days_of_the_month(redis_url: str, owners: list[WatchedOwner]) -> dict[str, int]:
    """A monthly budget as in a month the app has run since its first day: the earlier days' even shares
    spent, in the fakes' ledgers and in the app's own counters. Without it a simulation on the month's
    last day would find a whole month's budget to spend in one day (the pool's pacing: the month's rest
    over the days left). Returns what was seeded per owner."""
    seeded: dict[str, int] = {}
    async with Redis.from_url(redis_url) as redis:
        for owner in owners:
            for budget in owner.entry.budgets:
                if budget.per != "month":
                    continue
                now = owner.ledger.clock()
                today = local_day(now, owner.ledger.zone)
                days = days_to_month_end(date.fromisoformat(today)) + int(today[8:]) - 1
                earlier = budget.amount * (int(today[8:]) - 1) // days
                owner.ledger.carry_over(owner.api_key, today[:7], budget.unit, earlier)
                slot = Slot(entry=owner.entry, key_index=0, api_key=owner.api_key, account_id=None)
                await redis.set(budget_key(slot, budget, int(now * 1000)), earlier, ex=MONTH_TTL_SECONDS)
                seeded[owner.owner] = earlier
    return seeded


class DryWatch:
    """Reads the fakes' own counters (the providers' view, no app request) every `every` seconds while
    the day runs: the simulated hour at which each owner first ran dry."""

    def __init__(self, owners: list[WatchedOwner], clock: DayClock, every: float) -> None:
        self.owners, self.clock, self.every = owners, clock, every
        self.dry: dict[str, float] = {}
        self.samples = 0

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self.samples += 1
            hour = self.clock.fraction(time.time()) * HOURS
            for owner in self.owners:
                if owner.owner not in self.dry and owner.dry():
                    self.dry[owner.owner] = round(hour, 1)


def left_at_reset(owners: list[WatchedOwner]) -> list[dict[str, Any]]:
    """Per owner, by the fakes' counters: report-size calls a day, requests and tokens spent, and what
    was left unused (by its tightest daily limit, or its share of a monthly budget)."""
    rows = []
    for owner in owners:
        use, calls = owner.spent(), owner.calls_per_day
        left = min(calls, owner.calls_left())
        rows.append(
            {
                "owner": owner.owner,
                "binding": owner.binding,
                "calls_per_day": calls,
                "requests_spent": use.requests,
                "tokens_spent": use.tokens,
                "calls_left": left,
                "left_share": round(left / calls, 3) if calls else None,
            }
        )
    return rows


def day_figures(
    stats: Stats, fleet: Fleet, completed_or_started: int, watch: DryWatch, governed: dict[str, int]
) -> dict[str, Any]:
    """The figures "Done means" asks of a simulated day."""
    from bench.figures import percentiles

    state = stats.last_summary.get("governor") or {}
    scorers = stats.final_scorers
    scored = sum(count for kind, count in scorers.items() if kind != "template")
    tokens = fleet.tokens_by_kind()
    prompt = sum(p for _, p, _ in tokens.values())
    completion = sum(c for _, _, c in tokens.values())
    calls = sum(n for n, _, _ in tokens.values())
    return {
        "answers_scored_by_a_model": {
            "share": round(scorers["model"] / scored, 3) if scored else None,
            "model": scorers["model"],
            "built_in": scorers["built-in"],
            "template_non_answers": scorers["template"],
        },
        "remote_per_interview": {
            "answered_calls": round(calls / completed_or_started, 2) if completed_or_started else None,
            "tokens": round((prompt + completion) / completed_or_started) if completed_or_started else None,
        },
        "answered_calls_by_kind": {kind: n for kind, (n, _, _) in sorted(tokens.items())},
        "left_at_reset": left_at_reset(watch.owners),
        # Owners bound by a day's limit; a monthly budget's owner past its day's share (a 30th) spends
        # later days' share, which is not running dry.
        "ran_dry_at_hour": {o: h for o, h in watch.dry.items() if not monthly(watch, o)} or "none",
        "past_day_share_of_a_monthly_budget_at_hour": {
            o: h for o, h in watch.dry.items() if monthly(watch, o)
        }
        or "none",
        "dry_watch_samples": watch.samples,
        "governor": {
            "capacity_calls": state.get("capacity_calls"),
            "margin_calls": state.get("margin_calls"),
            "granted_calls": governed.get("granted", 0) / 1000,
            "demand": {key[2:]: value for key, value in governed.items() if key.startswith("d:")},
            "decisions": decisions(governed),
        },
        "paced_waits": stats.rate_limited_waits,
        # The app's own histogram (GET /api/ops/summary): every job's send to its worker's start.
        "queue_wait_ms": (stats.last_summary.get("latency_ms") or {}).get("queue_wait"),
        "latency_ms_by_source": {
            **{source: percentiles(samples) for source, samples in sorted(stats.first_ms_by_source.items())},
            "model (final, after a provisional score)": percentiles(stats.final_ms),
        },
    }


def monthly(watch: DryWatch, owner: str) -> bool:
    return any(o.owner == owner and o.binding.endswith("/month") for o in watch.owners)


def decisions(governed: dict[str, int]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for key, value in governed.items():
        if key.startswith("c:"):
            _, kind, reason = key.split(":", 2)
            found.setdefault(kind, {})[reason] = value
    return found


def render_day(figures: dict[str, Any]) -> str:
    a = figures["answers_scored_by_a_model"]
    r = figures["remote_per_interview"]
    lines = [
        "the simulated day",
        f"  answers scored by a model: {a['share']:.1%} ({a['model']} model, {a['built_in']} built-in; "
        f"{a['template_non_answers']} non-answers answered by templates not counted)"
        if a["share"] is not None
        else "  answers scored by a model: none scored",
        f"  remote calls answered per interview: {r['answered_calls']}, tokens per interview: {r['tokens']}; "
        "calls by kind: " + ", ".join(f"{k} {n}" for k, n in figures["answered_calls_by_kind"].items()),
        f"  ran dry (simulated hour, per owner): {figures['ran_dry_at_hour']} "
        f"({figures['dry_watch_samples']} samples of the fakes' counters)",
        "  past its day's share of a monthly budget (simulated hour): "
        f"{figures['past_day_share_of_a_monthly_budget_at_hour']}",
        "  left unused at the reset, per owner (binding limit, report-size calls a day, requests spent, "
        "tokens spent, report-size calls left):",
    ]
    for row in figures["left_at_reset"]:
        left = f"{row['left_share']:.0%}" if row["left_share"] is not None else "-"
        lines.append(
            f"    {row['owner']:<28} {row['binding']:<14} {row['calls_per_day']:>6} {row['requests_spent']:>6}"
            f"  tokens {row['tokens_spent']:>8}  left {row['calls_left']:>5} ({left})"
        )
    g = figures["governor"]
    lines.append(
        f"  governor (the simulated day): capacity {g['capacity_calls']} calls, margin {g['margin_calls']}, "
        f"granted {g['granted_calls']}; demand "
        + ", ".join(f"{k} {v}" for k, v in sorted(g["demand"].items()))
    )
    for kind, reasons in (g["decisions"] or {}).items():
        lines.append(
            f"    {kind}: " + ", ".join(f"{reason} {count}" for reason, count in sorted(reasons.items()))
        )
    lines.append(f"  answers sent again after a 429 (Retry-After): {figures['paced_waits']}")
    wait = figures["queue_wait_ms"]
    if wait:
        lines.append(
            f"  jobs' wait for the queue trigger (the app's histogram, ms): n {wait['count']}  "
            f"p50 {wait['p50']}  p95 {wait['p95']}  p99 {wait['p99']}"
        )
    lines.append("  turn latency by source (ms):")
    for source, p in figures["latency_ms_by_source"].items():
        lines.append(f"    {source:<42} n {p['n']:>5}  p50 {p['p50']}  p95 {p['p95']}")
    return "\n".join(lines)
