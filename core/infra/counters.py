"""The day's counters: one typed set of names for core, the benches and the ops page.

Every layer counts what it saved and what it spent under these names (`usage.count(cache_hits=1)` is
checked against them by the type checker); calls per provider are the one open family, named
`provider_calls_<provider>`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict, cast


class Counts(TypedDict, total=False):
    # Demand.
    interviews_created: int
    turns_answered: int
    jobs_queued: int
    # What the saving layers answered without a remote model.
    template_answers: int
    cache_lookups: int
    cache_hits: int
    near_duplicate_hits: int
    dedup_merges: int
    batched_jobs: int
    # Batched evaluations: calls that carried several answers, and the answers they scored.
    evaluation_batches: int
    evaluation_batch_answers: int
    # What the worker did.
    questions_generated: int
    reports_written: int
    duplicate_deliveries: int
    # Report jobs queued again because the first was presumed lost (core/interview/progress.py).
    reports_requeued: int
    # Jobs that found their interview deleted (by its candidate or its expiry) and did nothing.
    jobs_for_deleted_interviews: int
    # Interviews deleted by their candidates, and by the retention sweep.
    interviews_deleted: int
    interviews_expired: int
    # Callbacks (core/interview/callbacks.py): events a receiver took, and events given up after every retry.
    callbacks_delivered: int
    callbacks_failed: int
    # What the day spent besides provider calls.
    queue_messages: int
    table_operations: int
    function_executions: int
    redis_commands: int
    redis_backup_commands: int


COUNTER_NAMES: tuple[str, ...] = tuple(Counts.__annotations__)
PROVIDER_CALLS_PREFIX = "provider_calls_"
LOCAL_PROVIDER = "local"


def provider_calls(provider: str) -> str:
    """The counter of calls made to one provider (the built-in evaluator is the provider `local`)."""
    return f"{PROVIDER_CALLS_PREFIX}{provider}"


def calls_by_provider(counters: Mapping[str, int]) -> dict[str, int]:
    return {
        name.removeprefix(PROVIDER_CALLS_PREFIX): value
        for name, value in counters.items()
        if name.startswith(PROVIDER_CALLS_PREFIX)
    }


def remote_calls(counters: Mapping[str, int]) -> int:
    """Calls to remote models: every provider but the built-in evaluator."""
    return sum(value for name, value in calls_by_provider(counters).items() if name != LOCAL_PROVIDER)


def counts_of(counters: Mapping[str, int]) -> Counts:
    """Every typed counter of a day's raw counters, zero where the day has none."""
    return cast(Counts, {name: int(counters.get(name, 0)) for name in COUNTER_NAMES})
