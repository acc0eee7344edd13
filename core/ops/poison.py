"""Ops on the poison queue: list what failed, and replay it onto the jobs queue (from the ops endpoints,
or from a shell with `python -m handlers.poison_cli list|replay`)."""

from __future__ import annotations

import base64
import binascii

from pydantic import BaseModel

from core.infra.connections import connections
from core.infra.job_queue import JOBS_QUEUE, POISON_QUEUE
from core.settings import get_settings

BATCH = 32


class PoisonMessage(BaseModel):
    id: str
    inserted_on: str | None
    body: str


class Replayed(BaseModel):
    replayed: int


def _readable(text: str) -> str:
    if get_settings().queue_message_encoding != "base64":
        return text
    try:
        return base64.b64decode(text, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return text


async def list_poison(limit: int = BATCH) -> list[PoisonMessage]:
    queue = await connections().queue(POISON_QUEUE, raw=True)
    peeked = await queue.peek_messages(max_messages=min(limit, BATCH))
    return [
        PoisonMessage(
            id=message.id,
            inserted_on=message.inserted_on.isoformat() if message.inserted_on else None,
            body=_readable(message.content),
        )
        for message in peeked
    ]


async def replay_poison() -> Replayed:
    """Move every poisoned message back to the jobs queue, as stored, so its encoding stays as it was."""
    poison = await connections().queue(POISON_QUEUE, raw=True)
    jobs = await connections().queue(JOBS_QUEUE, raw=True)
    replayed = 0
    while True:
        batch = [
            message
            async for message in poison.receive_messages(
                max_messages=BATCH, messages_per_page=BATCH, visibility_timeout=60
            )
        ]
        if not batch:
            return Replayed(replayed=replayed)
        for message in batch:
            await jobs.send_message(message.content)
            await poison.delete_message(message)
            replayed += 1
