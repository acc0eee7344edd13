"""The built-in evaluator's indexes of a role, built off the request path when an interview starts.

A bank role's key-point index and pattern weights take 30-70 ms to build, once per process
(`lexicon.warm`); built lazily, they were paid for by the first answer to one of the role's questions on
each instance. An interview starts seconds before its first answer, so building them then, in a worker
thread, takes them off every turn. A failed build costs nothing: the evaluator builds lazily as before."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from core.rubric import lexicon

log = logging.getLogger(__name__)

_started: set[str] = set()
# Held so the tasks are not collected before they finish (the event loop keeps weak references only).
_running: set[asyncio.Task[None]] = set()


def warm_roles_of(question_ids: Iterable[str]) -> asyncio.Task[None] | None:
    """Start building the indexes of the bank roles these questions belong to, unless already started in
    this process; returns the task, or None when there is nothing to build."""
    roles = {role for question_id in question_ids if (role := lexicon.role_of(question_id))} - _started
    if not roles:
        return None
    _started.update(roles)
    task = asyncio.get_running_loop().create_task(_warm(sorted(roles)))
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


async def _warm(roles: list[str]) -> None:
    try:
        await asyncio.to_thread(lexicon.warm, roles)
    except Exception:  # the evaluator builds what it needs lazily
        log.exception("could not build the evaluator's indexes of %s ahead of time", roles)
        _started.difference_update(roles)
