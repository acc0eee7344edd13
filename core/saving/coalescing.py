"""Deduplication: a job already answered, or being answered right now, is not sent to a provider again.

Exact and near-duplicate matches come from the cache (core.saving.cache); identical jobs in flight at the same
time, in any instance, are coalesced: the first caller claims the job in Redis and calls the provider,
the others wait for its result and proceed themselves only if it does not come in time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from core.infra import signals
from core.saving import cache
from core.saving.cache import ResultKey
from core.settings import get_settings

Found = Literal["cache", "near", "coalesced", "computed"]
# A computed result and whether it may serve other callers (a local fallback in place of a model's
# reply may not: it would stand in for the model's answer until it expires).
Computed = tuple[bytes | None, bool]


async def find(job: ResultKey) -> tuple[bytes, Found] | None:
    """A cached result of this job or of a near-duplicate of it, without claiming the job."""
    found = await cache.lookup(job, claim=False)
    if found.value is None:
        return None
    return found.value, "near" if found.near else "cache"


async def _settled(job: ResultKey) -> tuple[bytes | None] | None:
    """Once the job in flight is done: its result, or (None,) when it ended with nothing to share."""
    value, in_flight = await cache.poll(job)
    return (value,) if value is not None or not in_flight else None


async def once(job: ResultKey, compute: Callable[[], Awaitable[Computed]]) -> tuple[bytes | None, Found]:
    """The job's result: from the cache, from an identical job in flight, or from `compute`."""
    found = await cache.lookup(job, claim=True)
    if found.value is not None:
        return found.value, "near" if found.near else "cache"
    if not found.claimed:
        waited = await signals.wait_for(
            job.subject, get_settings().coalesce_wait_seconds, lambda: _settled(job)
        )
        if waited is not None and waited[0] is not None:
            return waited[0], "coalesced"
    try:
        result, shareable = await compute()
    except BaseException:
        await cache.store(job, None)  # release the claim at once, so waiters proceed themselves
        raise
    await cache.store(job, result if shareable else None)
    return result, "computed"
