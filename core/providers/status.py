"""What ops see of the pool: per provider and key, today's use against its limit, its state and health."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field
from redis.asyncio.client import Pipeline

from core.infra.connections import connections
from core.providers.catalogue import configured_slots, load_catalogue
from core.providers.quota import (
    BREAKER_THRESHOLD,
    breaker_key,
    day_key,
    local_date,
    now_ms,
    slot_key,
    stats_key,
    tokens_day_key,
)

SlotState = Literal["ok", "cooling", "exhausted", "open", "half-open", "disabled", "no key"]


class SlotStatus(BaseModel):
    provider: str
    key: int | None
    model: str
    state: SlotState
    until: str | None = None
    local_date: str | None = None
    owner: str = Field(description="What the limits are counted under; keys of one owner share them.")
    used_today: int = 0
    limit_per_day: int | None = Field(description="Requests a day, where the provider limits them.")
    remaining_today: int | None
    limit_per_minute: int
    tokens_today: int = 0
    tokens_per_day: int | None = None
    tokens_per_minute: int | None = None
    latency_ms: int | None = None
    calls_today: int = 0
    errors_today: int = Field(default=0, description="Failed calls, invalid_content_today among them.")
    invalid_content_today: int = Field(
        default=0,
        description="Replies the provider delivered whose model text was not JSON or broke the schema: "
        "errors of the model, not the provider's, so they never open its breaker.",
    )
    error_rate: float | None = None
    notes: str = ""


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def _state(
    slot_marks: list[bytes | None], breaker: list[bytes | None], at: int
) -> tuple[SlotState, str | None]:
    cool, exhausted = (int(value or 0) for value in slot_marks)
    failures, open_until = (int(value or 0) for value in breaker)
    if exhausted > at:
        return "exhausted", _iso(exhausted)
    if open_until > at:
        return "open", _iso(open_until)
    if cool > at:
        return "cooling", _iso(cool)
    return ("half-open", None) if failures >= BREAKER_THRESHOLD else ("ok", None)


async def slot_statuses() -> list[SlotStatus]:
    at = now_ms()
    slots = list(configured_slots())

    def read_all(pipe: Pipeline) -> None:
        for slot in slots:
            today = local_date(slot, at)
            pipe.get(day_key(slot, today))
            pipe.get(tokens_day_key(slot, today))
            pipe.hmget(slot_key(slot), "cool_until", "exhausted_until")
            pipe.hmget(breaker_key(slot.entry.name), "failures", "open_until")
            pipe.hmget(stats_key(slot, today), "calls", "errors", "latency_ms", "invalid_content")

    replies = await connections().redis().pipeline(read_all)
    statuses = []
    for index, slot in enumerate(slots):
        used, tokens, marks, breaker, (calls, errors, latency, invalid) = replies[5 * index : 5 * index + 5]
        rpd = slot.entry.rpd
        state, until = _state(marks, breaker, at)
        calls_today, errors_today = int(calls or 0), int(errors or 0)
        statuses.append(
            SlotStatus(
                provider=slot.entry.name,
                key=slot.key_index,
                model=slot.entry.model,
                state=state,
                until=until,
                local_date=local_date(slot, at),
                owner=slot.owner_id,
                used_today=int(used or 0),
                limit_per_day=rpd,
                remaining_today=max(0, rpd - int(used or 0)) if rpd else None,
                limit_per_minute=slot.entry.rpm,
                tokens_today=int(tokens or 0),
                tokens_per_day=slot.entry.tpd,
                tokens_per_minute=slot.entry.tpm,
                latency_ms=int(latency) if latency else None,
                calls_today=calls_today,
                errors_today=errors_today,
                invalid_content_today=int(invalid or 0),
                error_rate=round(errors_today / calls_today, 3) if calls_today else None,
                notes=slot.entry.notes,
            )
        )
    active = {slot.entry.name for slot in slots}
    for entry in load_catalogue():
        if entry.name not in active:
            unused: SlotState = (
                "disabled" if not entry.enabled else "ok" if entry.adapter == "local" else "no key"
            )
            limit = entry.rpd
            statuses.append(
                SlotStatus(
                    provider=entry.name,
                    key=None,
                    model=entry.model or entry.adapter,
                    state=unused,
                    owner=entry.quota_id or entry.name,
                    limit_per_day=limit,
                    remaining_today=limit,
                    limit_per_minute=entry.rpm,
                    tokens_per_day=entry.tpd,
                    tokens_per_minute=entry.tpm,
                    notes=entry.notes,
                )
            )
    return statuses
