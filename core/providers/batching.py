"""Batched evaluations: answers that wait for a model at the same time on one instance share one call.

On Azure a queue trigger hands each message to its own invocation; invocations running together on one
instance share its event loop, so they meet here. The messages of one poll start their invocations
together, but each reads storage before it asks for its evaluation, so they arrive a few tens of
milliseconds apart: an evaluation job announces itself when it starts (`evaluation_coming`), and a batch
is sent as soon as every job announced on the instance has joined it or gone its own way (a cached
result, a duplicate delivery), when it is full, or at the latest BATCH_WINDOW_SECONDS after its first
answer. So an answer never waits for a batch that nobody else is coming to, and answers dequeued
together still share one call.

A batch's reply is read item by item: an item that is missing or breaks the schema is retried alone,
never the whole batch. The batch's calls count against each of its answers' MAX_ATTEMPTS: an answer is
retried alone only with the attempts the batch left, so no answer's job makes more provider calls than
one asked alone would."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import secrets
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from core.infra import usage
from core.models import Question
from core.providers.catalogue import Slot
from core.providers.pool import MAX_ATTEMPTS, Pool
from core.providers.prompts import (
    EVALUATION_MAX_TOKENS,
    BatchItem,
    LlmEvaluation,
    LlmEvaluationBatch,
    batch_evaluation_request,
    batch_items,
    evaluation_request,
)

MAX_BATCH = 8
# The longest a batch waits for evaluation jobs announced on the instance that have not joined it yet
# (their storage reads are slow), short against a turn's 2 s budget. Callers that announce nothing (the
# tests of batching itself) wait this long for each other.
BATCH_WINDOW_SECONDS = 0.25
# A typical answer's share of a batch's prompt: its question, key points and about 150 words.
TYPICAL_ITEM_PROMPT_TOKENS = 450
BATCH_SYSTEM_TOKENS = 400

Evaluated = tuple[LlmEvaluation, Slot] | None


def batch_size(slots: Sequence[Slot]) -> int:
    """How many answers one call may carry: what fits every configured model's context window and
    tokens-per-minute with a typical answer, so any provider the pool picks can take the batch."""
    per_item = TYPICAL_ITEM_PROMPT_TOKENS + EVALUATION_MAX_TOKENS
    room = min(
        (min(slot.entry.context_tokens, slot.entry.tpm or slot.entry.context_tokens) for slot in slots),
        default=0,
    )
    return max(1, min(MAX_BATCH, (room - BATCH_SYSTEM_TOKENS) // per_item))


@dataclass
class _Waiting:
    item: BatchItem
    result: asyncio.Future[Evaluated]


class _Arrivals:
    """One event loop's evaluation jobs announced but not yet in a batch, and its batchers holding a
    batch open for them."""

    def __init__(self) -> None:
        self.coming: set[_Ticket] = set()
        self.holding: set[EvaluationBatcher] = set()

    def arrived(self, ticket: _Ticket) -> None:
        ticket.pending = False
        self.coming.discard(ticket)
        if not self.coming:  # nobody else is on the way: what is held open goes now
            for batcher in list(self.holding):
                batcher.send_waiting()


class _Ticket:
    """One announced evaluation job; `pending` until it joins a batch or ends."""

    def __init__(self, arrivals: _Arrivals) -> None:
        self.arrivals = arrivals
        self.pending = True


_arrivals: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Arrivals] = weakref.WeakKeyDictionary()
_ticket: contextvars.ContextVar[_Ticket | None] = contextvars.ContextVar("evaluation_ticket", default=None)


def _arrivals_of(loop: asyncio.AbstractEventLoop) -> _Arrivals:
    found = _arrivals.get(loop)
    if found is None:
        found = _arrivals[loop] = _Arrivals()
    return found


@contextlib.contextmanager
def evaluation_coming() -> Iterator[None]:
    """Announce that the job running in this context may ask for an evaluation soon: batches of this
    event loop wait for it (up to BATCH_WINDOW_SECONDS) until it joins one or the block ends."""
    arrivals = _arrivals_of(asyncio.get_running_loop())
    ticket = _Ticket(arrivals)
    arrivals.coming.add(ticket)
    token = _ticket.set(ticket)
    try:
        yield
    finally:
        _ticket.reset(token)
        if ticket.pending:  # ended without joining a batch (a cached result, a duplicate delivery)
            arrivals.arrived(ticket)


class EvaluationBatcher:
    """Collects the evaluations of one event loop into batches for one pool."""

    def __init__(self, pool: Pool, max_items: int, window_seconds: float = BATCH_WINDOW_SECONDS) -> None:
        self._pool = pool
        self._max_items = max_items
        self._window = window_seconds
        self._waiting: list[_Waiting] = []
        self._timer: asyncio.TimerHandle | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._next_id = 0

    @property
    def pool(self) -> Pool:
        return self._pool

    async def evaluate(self, question: Question, answer: str) -> Evaluated:
        """A model's evaluation of this answer and the slot that gave it, or None (none in time)."""
        loop = asyncio.get_running_loop()
        self._next_id += 1
        waiting = _Waiting(BatchItem(f"A{self._next_id}", question, answer), loop.create_future())
        self._waiting.append(waiting)
        if len(self._waiting) >= self._max_items:
            self._send()
        elif self._timer is None:
            self._timer = loop.call_later(self._window, self._send)
            _arrivals_of(loop).holding.add(self)
        ticket = _ticket.get()
        if ticket is not None and ticket.pending:
            # The last announced job to arrive sends what is held open, this batch too.
            ticket.arrivals.arrived(ticket)
        return await waiting.result

    def send_waiting(self) -> None:
        """Send what waits now: no announced job is on the way to it any longer."""
        if self._waiting:
            self._send()

    def _send(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        arrivals = _arrivals.get(asyncio.get_running_loop())
        if arrivals is not None:
            arrivals.holding.discard(self)
        batch, self._waiting = self._waiting, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._run(batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, batch: list[_Waiting]) -> None:
        try:
            found, used = await self._ask(batch) if len(batch) > 1 else ({}, 0)
            left = MAX_ATTEMPTS - used
            await asyncio.gather(
                *(self._settle(waiting, found.get(waiting.item.id), left) for waiting in batch)
            )
        except BaseException as error:  # every waiter hears of it: none may wait forever
            for waiting in batch:
                if not waiting.result.done():
                    waiting.result.set_exception(error)
            if not isinstance(error, Exception):
                raise

    async def _ask(self, batch: list[_Waiting]) -> tuple[dict[str, tuple[LlmEvaluation, Slot]], int]:
        """The batch's valid items by id, and the provider calls the batch took."""
        items = [waiting.item for waiting in batch]
        asked, used = await self._pool.ask_counted(
            batch_evaluation_request(items, secrets.token_hex(6)), LlmEvaluationBatch
        )
        if asked is None:
            return {}, used
        reply, slot = asked
        found = batch_items(reply, items)
        usage.note(batched_jobs=len(found), evaluation_batches=1, evaluation_batch_answers=len(found))
        return {item_id: (evaluation, slot) for item_id, evaluation in found.items()}, used

    async def _settle(
        self, waiting: _Waiting, found: tuple[LlmEvaluation, Slot] | None, attempts_left: int
    ) -> None:
        # Alone: never batched, or missing or broken in the batch's reply, with the attempts left.
        if found is None and attempts_left > 0:
            item = waiting.item
            found = await self._pool.ask(
                evaluation_request(item.question, item.answer), LlmEvaluation, attempts=attempts_left
            )
        if not waiting.result.done():
            waiting.result.set_result(found)


_batchers: dict[tuple[asyncio.AbstractEventLoop, int], EvaluationBatcher] = {}


def batcher_for(pool: Pool, slots: Sequence[Slot]) -> EvaluationBatcher:
    """The batcher of this event loop for these slots, created with the first pool that asks."""
    key = (asyncio.get_running_loop(), hash(tuple(slot.id for slot in slots)))
    found = _batchers.get(key)
    if found is None or found.pool.closed:
        found = _batchers[key] = EvaluationBatcher(pool, batch_size(slots))
    return found
