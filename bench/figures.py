"""The figures of a `make simulate` run: what the app's counters moved by while the interviews ran, set
against the naive cost (every answer, report and question set a remote call) and the free capacity of the
catalogue, and printed as one table (`render`).

Capacity is core/providers/capacity.py's, per limit owner (a key alone, or the organisation, project or
account its keys share), over the catalogue as shipped with every key set (data/providers.json,
`catalogue_keys`), for a call the size of each kind of job in this run. Those sizes are measured from the
fakes: the prompt and completion tokens each fake counted for its answered calls, which is what it
reported as usage (the pool's per-slot `stats:` hashes in Redis hold the same sums, but per slot, not per
kind of job). The fakes count a prompt at 4 characters a token, of the JSON body they received."""

from __future__ import annotations

import math
from typing import Any

from bench.cost import bill_from_figures
from bench.driver import Stats
from bench.fleet import CATALOGUE, Fleet
from core.infra.counters import LOCAL_PROVIDER, calls_by_provider, counts_of, remote_calls
from core.providers.capacity import CallTokens, capacity, catalogue_keys, total_calls
from core.providers.catalogue import ProviderEntry, load_catalogue

NAIVE_CALLS_PER_INTERVIEW = 26
TARGET_SAVING = 0.90


def percentiles(samples: list[float]) -> dict[str, float | int | None]:
    ordered = sorted(samples)

    def pick(q: float) -> float | None:
        return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)], 1) if ordered else None

    return {"n": len(ordered), "p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99)}


def call_sizes(fleet: Fleet) -> dict[str, CallTokens]:
    """Tokens per answered call of each kind of job in the run, and of all of them together ("mix")."""
    measured = fleet.tokens_by_kind()
    sizes = {
        kind: CallTokens(round(prompt / calls), round(completion / calls))
        for kind, (calls, prompt, completion) in sorted(measured.items())
    }
    calls = sum(n for n, _, _ in measured.values())
    if calls:
        prompt = sum(p for _, p, _ in measured.values())
        completion = sum(c for _, _, c in measured.values())
        sizes["mix"] = CallTokens(round(prompt / calls), round(completion / calls))
    return sizes


def capacity_table(entries: list[ProviderEntry], sizes: dict[str, CallTokens]) -> dict[str, Any]:
    """Calls a day per limit owner for a call of each measured size, with the limit that binds."""
    keyed = catalogue_keys(entries)
    by_kind = {kind: {row.owner: row for row in capacity(keyed, size)} for kind, size in sizes.items()}
    owners: dict[str, dict[str, Any]] = {}
    for kind, rows in by_kind.items():
        for owner, row in rows.items():
            found = owners.setdefault(owner, {"entries": list(row.entries), "keys": row.keys, "calls": {}})
            found["calls"][kind] = {"binding": row.binding, "calls_per_day": row.calls_per_day}
    remote = [entry for entry in entries if entry.enabled and entry.adapter != "local"]
    checked = sorted({entry.checked_on or "not stated" for entry in remote})
    return {
        "catalogue": str(CATALOGUE.relative_to(CATALOGUE.parent.parent)),
        "checked_on": checked,
        "tokens_per_call": {
            kind: {"prompt": s.prompt, "completion": s.completion} for kind, s in sizes.items()
        },
        "tokens_measured": "the fakes' usage of this run's answered calls",
        "owners": owners,
        "total_calls_per_day": {kind: total_calls(rows.values()) for kind, rows in by_kind.items()},
    }


def _share(value: float, whole: float) -> float | None:
    return round(value / whole, 3) if whole else None


def figures(
    options: dict[str, Any], stats: Stats, before: dict[str, int], after: dict[str, int], elapsed: float,
    fleet: Fleet,
) -> dict[str, Any]:  # fmt: skip
    """Every figure of the run, from the driver's stats and the app's counters before and after it."""
    spent = {name: after.get(name, 0) - before.get(name, 0) for name in set(after) | set(before)}
    counts = counts_of(spent)
    calls = {name: value for name, value in sorted(calls_by_provider(spent).items()) if value}
    remote = remote_calls(spent)
    started, completed = stats.started, stats.completed
    naive = NAIVE_CALLS_PER_INTERVIEW * started
    per_completed = _share(remote, completed)
    free = capacity_table(load_catalogue(CATALOGUE), call_sizes(fleet))
    mix_calls = free["total_calls_per_day"].get("mix")
    return {
        "options": options,
        "interviews": {
            "started": started,
            "completed": completed,
            "abandoned": stats.abandoned,
            "failed": stats.failed,
        },
        "mix": {"roles": dict(stats.roles.most_common()), "answers": dict(stats.answers.most_common())},
        "http": {
            "steps": stats.steps,
            "failed_steps": stats.failed_steps,
            "error_rate": _share(stats.failed_steps, stats.steps),
            "failures": dict(stats.failures.most_common(10)),
        },
        "remote_calls": {
            "total": remote,
            "per_started_interview": _share(remote, started),
            "per_completed_interview": per_completed,
            "by_provider": {name: value for name, value in calls.items() if name != LOCAL_PROVIDER},
            "requests_received_by_fakes": {name: n for name, n in fleet.requests().items() if n},
            "fake_outcomes": {name: o for name, o in fleet.outcomes().items() if o},
            "limit_refusals_by_fakes": fleet.limit_refusals(),
            "overruns_recounted": fleet.recounted_overruns(),
            "naive": naive,
            "saving": _share(naive - remote, naive),
            "target_saving": TARGET_SAVING,
            "target_met": bool(naive) and remote <= naive * (1 - TARGET_SAVING),
        },
        "layers": {
            "templates": counts["template_answers"],
            "cache_hits": counts["cache_hits"],
            "near_duplicate_hits": counts["near_duplicate_hits"],
            "coalesced": counts["dedup_merges"],
            "batched": counts["batched_jobs"],
            "local_evaluator": calls.get(LOCAL_PROVIDER, 0),
            "remote": remote,
        },
        "questions_generated": counts["questions_generated"],
        "reports_written": counts["reports_written"],
        "turn_sources": dict(stats.sources.most_common()),
        "follow_ups": dict(stats.follow_ups.most_common()),
        "rate_limited_waits": stats.rate_limited_waits,
        "cache_hit_rate": _share(counts["cache_hits"], counts["cache_lookups"]),
        "cache_lookups": counts["cache_lookups"],
        "latency_ms": {
            "answered": percentiles(stats.answered_ms),
            "queued": percentiles(stats.queued_ms),
            "report": percentiles(stats.report_ms),
        },
        "per_interview": {
            "redis_commands": _share(counts["redis_commands"], started),
            "redis_backup_commands": _share(counts["redis_backup_commands"], started),
            "queue_messages": _share(counts["queue_messages"], started),
            "function_executions": _share(counts["function_executions"], started),
            "table_operations": _share(counts["table_operations"], started),
        },
        "batches": {
            "evaluation_calls": counts["evaluation_batches"],
            "answers": counts["evaluation_batch_answers"],
            "answers_per_call": _share(counts["evaluation_batch_answers"], counts["evaluation_batches"]),
        },
        "execution_seconds": stats.step_seconds,
        "wall_seconds": round(elapsed, 1),
        "interviews_per_second": _share(started, elapsed),
        "capacity": free
        | {"interviews_per_day": int(mix_calls / per_completed) if mix_calls and per_completed else None},
        "counters": {name: value for name, value in sorted(spent.items()) if value},
    }


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "n/a" if value is None else format(value, spec)


def render(f: dict[str, Any]) -> str:
    """The figures as a two-column table."""
    rows: list[tuple[str, str]] = []

    def add(label: str, value: object = "") -> None:
        rows.append((label, str(value)))

    o, i, h, r = f["options"], f["interviews"], f["http"], f["remote_calls"]
    add("options", ", ".join(f"{k}={v}" for k, v in o.items()))
    add("interviews started", i["started"])
    add("  completed / abandoned / failed", f"{i['completed']} / {i['abandoned']} / {i['failed']}")
    add("  roles", ", ".join(f"{k} {v}" for k, v in f["mix"]["roles"].items()))
    add("  answers", ", ".join(f"{k} {v}" for k, v in f["mix"]["answers"].items()))
    add(
        "error rate (failed HTTP steps / all)",
        f"{_fmt(h['error_rate'], '.2%')} ({h['failed_steps']} of {h['steps']})",
    )
    for reason, count in h["failures"].items():
        add(f"  {reason}", count)
    add("remote provider calls", r["total"])
    add(
        "  per started / per completed interview",
        f"{_fmt(r['per_started_interview'])} / {_fmt(r['per_completed_interview'])}",
    )
    add("  by provider (app counters)", ", ".join(f"{k} {v}" for k, v in r["by_provider"].items()) or "none")
    add(
        "  requests the fakes received",
        ", ".join(f"{k} {v}" for k, v in r["requests_received_by_fakes"].items()) or "none",
    )
    refused = r["limit_refusals_by_fakes"]
    add(
        "  refused by a fake's limit (overruns)",
        "; ".join(f"{k} {by}" for k, by in refused.items()) if refused else 0,
    )
    recounted = r["overruns_recounted"]
    add(
        "  accepted past a limit (recounted)",
        "; ".join(f"{k} {by}" for k, by in recounted.items()) if recounted else 0,
    )
    add("naive calls (26 x started)", r["naive"])
    met = "met" if r["target_met"] else "NOT met"
    add("saving vs naive", f"{_fmt(r['saving'], '.1%')} (target {TARGET_SAVING:.0%}: {met})")
    add("saving per layer (jobs answered by)", "")
    for name, value in f["layers"].items():
        add(f"  {name}", value)
    add("  questions generated / reports written", f"{f['questions_generated']} / {f['reports_written']}")
    add("  turn feedback by source (client)", ", ".join(f"{k} {v}" for k, v in f["turn_sources"].items()))
    add("  follow-up questions (client)", ", ".join(f"{k} {v}" for k, v in f["follow_ups"].items()) or "none")
    add("  answers sent again after a 429", str(f["rate_limited_waits"]))
    add("cache hit rate", f"{_fmt(f['cache_hit_rate'], '.1%')} of {f['cache_lookups']} lookups")
    for kind, p in f["latency_ms"].items():
        add(f"latency {kind} turns" if kind != "report" else "latency report", (
            f"n={p['n']}  p50 {_fmt(p['p50'], '.0f')} ms  p95 {_fmt(p['p95'], '.0f')} ms  p99 {_fmt(p['p99'], '.0f')} ms"
        ))  # fmt: skip
    p = f["per_interview"]
    add(
        "per interview: Redis commands",
        f"{_fmt(p['redis_commands'], '.1f')} (backup {_fmt(p['redis_backup_commands'], '.1f')})",
    )
    add("per interview: queue messages", _fmt(p["queue_messages"], ".2f"))
    add("per interview: function executions", _fmt(p["function_executions"], ".2f"))
    add("per interview: table operations", _fmt(p["table_operations"], ".2f"))
    b = f["batches"]
    if b["evaluation_calls"]:
        add(
            "batched evaluations",
            f"{b['answers']} answers in {b['evaluation_calls']} calls, {_fmt(b['answers_per_call'])} per call",
        )
    add("wall time", f"{f['wall_seconds']} s, {_fmt(f['interviews_per_second'])} interviews/s")
    if "redis_memory" in f:
        used, started = f["redis_memory"]["used_bytes"], f["interviews"]["started"]
        each = used / started if started else 0
        fits = f"; 250 MB holds about {int(250 * 2**20 / each):,} interviews' worth" if each > 0 else ""
        add("Redis memory added", f"{used / 2**20:.1f} MB, {each / 1024:.1f} KB per interview{fits}")
    c = f["capacity"]
    capacity_text = (
        "unbounded by remote quotas (no remote calls)"
        if c["interviews_per_day"] is None
        else f"{c['interviews_per_day']:,}"
    )
    add("capacity: interviews/day on free quotas", capacity_text)
    if c["interviews_per_day"] is not None:
        add(
            f"  = {c['total_calls_per_day']['mix']:,} calls/day of the run's mix / "
            "remote calls per completed interview",
            "",
        )
    width = max(len(label) for label, value in rows if value)
    table = "\n".join(f"{label:<{width}}  {value}" if value else label for label, value in rows)
    bill = "\n".join(bill_from_figures(f)) if f["per_interview"]["function_executions"] else ""
    return table + "\n\n" + render_capacity(c) + ("\n\n" + bill if bill else "")


def render_capacity(c: dict[str, Any]) -> str:
    """Calls a day per limit owner, for a call of each kind of job's measured size, and their total."""
    kinds = list(c["tokens_per_call"])
    lines = [
        f"free capacity per limit owner: {c['catalogue']}, limits checked on {', '.join(c['checked_on'])}; "
        f"tokens per call measured from {c['tokens_measured']}"
    ]
    if not kinds:
        return lines[0] + "\n  (no call was answered by a fake: no sizes to compute capacity for)"
    lines.append(
        "  tokens per call (prompt + completion): "
        + ", ".join(f"{k} {t['prompt']} + {t['completion']}" for k, t in c["tokens_per_call"].items())
    )
    header = ["owner", "entries", "keys", *(f"{kind}: binding, calls/day" for kind in kinds)]
    body = [
        [
            owner,
            ", ".join(row["entries"]),
            str(row["keys"]),
            *(
                f"{row['calls'][kind]['binding']} {row['calls'][kind]['calls_per_day']:,}"
                if kind in row["calls"]
                else "-"
                for kind in kinds
            ),
        ]
        for owner, row in c["owners"].items()
    ]
    body.append(["total", "", "", *(f"{c['total_calls_per_day'][kind]:,}" for kind in kinds)])
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    for line in [header, *body]:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        lines.append(("  " + "  ".join(cells)).rstrip())
    return "\n".join(lines)
