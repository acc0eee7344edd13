"""Ops on the poison queue: list what failed, and replay it onto the jobs queue (from the ops endpoints,
or from a shell with `python -m handlers.poison_cli list|replay`)."""

from __future__ import annotations

import base64
import binascii
import contextlib

from azure.core.exceptions import ResourceNotFoundError
from pydantic import BaseModel

from core.infra.connections import connections
from core.infra.job_queue import JOBS_QUEUE, POISON_QUEUE
from core.settings import get_settings

BATCH = 32
# Long enough to send and delete a batch: another replay cannot see a message while it is moved.
MOVE_SECONDS = 60


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
    """Move the poisoned messages back to the jobs queue, as stored, so their encoding stays as it was.

    A snapshot: at most the messages that were there when it started, each once, so a job that fails
    again and comes back to the poison queue meanwhile is not replayed in a loop. Two replays at once
    share the work: each message is invisible to the other while one moves it, and a message the other
    already deleted is skipped rather than sent twice."""
    poison = await connections().queue(POISON_QUEUE, raw=True)
    jobs = await connections().queue(JOBS_QUEUE, raw=True)
    waiting = (await poison.get_queue_properties()).approximate_message_count or 0
    moved: set[str] = set()
    while len(moved) < waiting:
        size = min(BATCH, waiting - len(moved))
        batch = [
            message
            async for message in poison.receive_messages(
                max_messages=size,
                messages_per_page=size,
                visibility_timeout=MOVE_SECONDS,
            )
        ]
        fresh = [message for message in batch if message.id not in moved]
        if not fresh:
            break
        for message in fresh:
            moved.add(message.id)
            await jobs.send_message(message.content)
            with contextlib.suppress(ResourceNotFoundError):
                await poison.delete_message(message)
    return Replayed(replayed=len(moved))
