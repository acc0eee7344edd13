"""Ops on the poison queue: list what failed, and replay it onto the jobs queue (from the ops endpoints,
or from a shell with `python -m handlers.poison_cli list|replay`)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import time

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.queue import QueueMessage
from azure.storage.queue.aio import QueueClient
from pydantic import BaseModel

from core.infra.connections import connections
from core.infra.job_queue import JOBS_QUEUE, POISON_QUEUE
from core.settings import get_settings

BATCH = 32
# How long a received message stays hidden from other replays (and from this one's next receive). A slow
# batch (a storage retry on each send) can outlast it; so a message whose hold has less than
# RENEW_WITHIN_SECONDS left is held again before it is moved (its own send and delete take far less).
MOVE_SECONDS = 60
RENEW_WITHIN_SECONDS = 30.0


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


async def _still_held(poison: QueueClient, message: QueueMessage, held_until: float) -> str | None:
    """The pop receipt that lets this replay delete `message` for a while yet: the one it received it
    with while enough of its hold is left, else a renewed one; None when the hold ran out and another
    replay received the message since (or deleted it), which then moves it instead."""
    if held_until - time.monotonic() > RENEW_WITHIN_SECONDS:
        return str(message.pop_receipt)
    try:
        renewed = await poison.update_message(
            message.id, pop_receipt=message.pop_receipt, visibility_timeout=MOVE_SECONDS
        )
    except ResourceNotFoundError:
        return None  # deleted by another replay
    except HttpResponseError as error:
        if error.status_code == 400:  # PopReceiptMismatch: received again, by another replay
            return None
        raise
    return str(renewed.pop_receipt)


async def replay_poison() -> Replayed:
    """Move the poisoned messages back to the jobs queue, as stored, so their encoding stays as it was.

    A snapshot: at most the messages that were there when it started, each once, so a job that fails
    again and comes back to the poison queue meanwhile is not replayed in a loop. Two replays at once
    share the work: each message is invisible to the other while one moves it, and a message the other
    already deleted is skipped rather than sent twice. A batch slower than its hold (MOVE_SECONDS) stays
    exact: each message is held again before it is moved when its hold is running out, and one whose
    hold already ran out and that another replay received meanwhile is left to that replay."""
    poison = await connections().queue(POISON_QUEUE, raw=True)
    jobs = await connections().queue(JOBS_QUEUE, raw=True)
    waiting = (await poison.get_queue_properties()).approximate_message_count or 0
    moved: set[str] = set()
    while len(moved) < waiting:
        size = min(BATCH, waiting - len(moved))
        held_until = time.monotonic() + MOVE_SECONDS
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
            receipt = await _still_held(poison, message, held_until)
            if receipt is None:
                continue
            moved.add(message.id)
            await jobs.send_message(message.content)
            with contextlib.suppress(ResourceNotFoundError):
                await poison.delete_message(message.id, receipt)
    return Replayed(replayed=len(moved))
