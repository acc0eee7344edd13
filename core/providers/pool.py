"""The provider pool: picks a provider and key with quota left, calls it, and fails over until a valid
reply or the job's deadline. It never raises for a provider's sake: None means "use the local evaluator"."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import TypeVar

import aiohttp
from pydantic import BaseModel, ValidationError

from core.infra import usage
from core.providers.adapters import ADAPTERS, Adapter
from core.providers.adapters.chat import ChatRequest, FailureKind, ProviderFailure
from core.providers.catalogue import Slot
from core.providers.prompts import json_object
from core.providers.quota import Quota

Reply = TypeVar("Reply", bound=BaseModel)

log = logging.getLogger(__name__)

# Failures that say something about the provider, not just one key: its other keys are skipped too.
PROVIDER_WIDE: frozenset[FailureKind] = frozenset(
    {"server", "timeout", "connection", "bad_reply", "bad_request"}
)
MIN_CALL_SECONDS = 0.5


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

    async def ask(self, request: ChatRequest, schema: type[Reply]) -> tuple[Reply, Slot] | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._deadline_seconds
        skipped: set[str] = set()
        while (remaining := deadline - loop.time()) > MIN_CALL_SECONDS:
            slot = await self._quota.reserve([s for s in self._slots if s.id not in skipped])
            if slot is None:
                return None
            started = loop.time()
            outcome, retry_after = await self._call(slot, request, schema, remaining)
            latency_ms = int((loop.time() - started) * 1000)
            await self._quota.record_outcome(
                slot, "ok" if isinstance(outcome, BaseModel) else outcome, latency_ms, retry_after
            )
            # Written with the job's own count: the quota script above was this call's round trip.
            usage.note_provider_call(slot.entry.name)
            if isinstance(outcome, BaseModel):
                return outcome, slot
            log.warning("provider %s failed (%s); failing over", slot.id, outcome)
            skipped |= (
                {s.id for s in self._slots if s.entry.name == slot.entry.name}
                if outcome in PROVIDER_WIDE
                else {slot.id}
            )
        return None

    async def _call(
        self, slot: Slot, request: ChatRequest, schema: type[Reply], remaining: float
    ) -> tuple[Reply | FailureKind, float | None]:
        adapter = self._adapters[slot.entry.adapter]
        try:
            reply = await asyncio.wait_for(adapter(self._session, slot, request), timeout=remaining)
            return schema.model_validate(json_object(reply.text)), None
        except ProviderFailure as failure:
            return failure.kind, failure.retry_after
        except (ValueError, ValidationError):
            return "bad_reply", None
        except TimeoutError:
            return "timeout", None
