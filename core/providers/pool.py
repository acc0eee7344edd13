"""The provider pool: picks a provider and key with quota left, calls it, and fails over until a valid
reply, MAX_ATTEMPTS calls or the job's deadline. It never raises for a provider's sake: None means "use the
local evaluator"."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TypeVar

import aiohttp
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, StatusCode
from pydantic import BaseModel, ValidationError

from core.infra import usage
from core.providers.adapters import ADAPTERS, Adapter
from core.providers.adapters.chat import ChatRequest, FailureKind, ProviderFailure
from core.providers.catalogue import Slot
from core.providers.prompts import json_object
from core.providers.quota import CallSize, Quota

Reply = TypeVar("Reply", bound=BaseModel)

log = logging.getLogger(__name__)

# Failures that say something about the provider, not just one key: its other keys are skipped too, for
# the rest of this job. (Only the quota's breaker and rests skip a provider for other jobs, and invalid
# content never counts there: the same model would likely answer this prompt the same way, not others.)
PROVIDER_WIDE: frozenset[FailureKind] = frozenset(
    {"server", "timeout", "connection", "bad_reply", "bad_request", "invalid_content"}
)
# Provider calls one job may make, across providers, before it falls to the local evaluator.
MAX_ATTEMPTS = 3
MIN_CALL_SECONDS = 0.5
# The prompt and completion tokens a call spent, as its reply reports them (None: not known).
Spent = tuple[int | None, int | None]
UNKNOWN: Spent = (None, None)


# Provider calls are dependencies in Application Insights (a no-op where telemetry is not configured).
_tracer = trace.get_tracer(__name__)


def _describe(span: Span, slot: Slot, outcome: BaseModel | FailureKind, spent: Spent) -> None:
    span.set_attributes(
        {
            "gen_ai.system": slot.entry.vendor,
            "gen_ai.request.model": slot.entry.model,
            "provider.slot": slot.id,
            "provider.owner": slot.owner_id,
            "provider.outcome": "ok" if isinstance(outcome, BaseModel) else outcome,
        }
    )
    if spent[0] is not None and spent[1] is not None:
        span.set_attributes({"gen_ai.usage.input_tokens": spent[0], "gen_ai.usage.output_tokens": spent[1]})
    if not isinstance(outcome, BaseModel):
        span.set_status(StatusCode.ERROR, outcome)


class Pool:
    def __init__(
        self,
        slots: Sequence[Slot],
        quota: Quota,
        session: aiohttp.ClientSession,
        deadline_seconds: float = 20.0,
        adapters: dict[str, Adapter] | None = None,
    ) -> None:
        self._slots = list(slots)
        self._quota = quota
        self._session = session
        self._deadline_seconds = deadline_seconds
        self._adapters = adapters or ADAPTERS

    @property
    def closed(self) -> bool:
        """Its HTTP session was closed (clients are closed at shutdown): a new pool is needed."""
        return self._session.closed

    async def ask(
        self, request: ChatRequest, schema: type[Reply], attempts: int = MAX_ATTEMPTS
    ) -> tuple[Reply, Slot] | None:
        """A valid reply and the slot that gave it, in at most `attempts` calls (never more than
        MAX_ATTEMPTS), or None."""
        asked, _ = await self.ask_counted(request, schema, attempts)
        return asked

    async def ask_counted(
        self, request: ChatRequest, schema: type[Reply], attempts: int = MAX_ATTEMPTS
    ) -> tuple[tuple[Reply, Slot] | None, int]:
        """`ask`, and how many provider calls it made: a job asked twice (a batch, then its own item)
        spends one budget of MAX_ATTEMPTS across both."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._deadline_seconds
        size = CallSize.of(request)
        skipped: set[str] = set()
        calls, allowed = 0, min(attempts, MAX_ATTEMPTS)
        while calls < allowed and (remaining := deadline - loop.time()) > MIN_CALL_SECONDS:
            reservation = await self._quota.reserve([s for s in self._slots if s.id not in skipped], size)
            if reservation is None:
                return None, calls
            calls += 1
            slot = reservation.slot
            started = loop.time()
            with _tracer.start_as_current_span(f"chat {slot.entry.name}", kind=SpanKind.CLIENT) as span:
                outcome, retry_after, spent = await self._call(slot, request, schema, remaining)
                _describe(span, slot, outcome, spent)
            latency_ms = int((loop.time() - started) * 1000)
            verdict = "ok" if isinstance(outcome, BaseModel) else outcome
            await self._quota.finish(reservation, verdict, latency_ms, retry_after, *spent)
            # Written with the job's own count: the quota script above was this call's round trip.
            usage.note_provider_call(slot.entry.name)
            if isinstance(outcome, BaseModel):
                return (outcome, slot), calls
            log.warning("provider %s failed (%s); failing over", slot.id, outcome)
            skipped |= (
                {s.id for s in self._slots if s.entry.name == slot.entry.name}
                if outcome in PROVIDER_WIDE
                else {slot.id}
            )
        return None, calls

    async def _call(
        self, slot: Slot, request: ChatRequest, schema: type[Reply], remaining: float
    ) -> tuple[Reply | FailureKind, float | None, Spent]:
        """The validated reply or why there is none, the provider's retry hint, and the tokens spent."""
        adapter = self._adapters[slot.entry.adapter]
        try:
            reply = await asyncio.wait_for(adapter(self._session, slot, request), timeout=remaining)
        except ProviderFailure as failure:
            # An error reply means the provider refused the call before doing its work; a timeout, a
            # dropped connection or an unreadable 2xx reply may have been charged: the estimate stands.
            refused = failure.status is not None and failure.status >= 300
            spent: Spent = (0, 0) if refused else UNKNOWN
            return failure.kind, failure.retry_after, spent
        except TimeoutError:
            return "timeout", None, UNKNOWN
        spent = (reply.prompt_tokens, reply.completion_tokens)
        try:
            return schema.model_validate(json_object(reply.text)), None, spent
        except (ValueError, ValidationError, RecursionError):
            # The provider's envelope was fine (the adapter read it): the model's text is what failed.
            return "invalid_content", None, spent
