"""Ops on failed callbacks: list the events given up after every retry, and replay them (each starts its
retries again, so a receiver that is still down puts it back here)."""

from __future__ import annotations

import contextlib

from azure.core.exceptions import ResourceNotFoundError
from pydantic import BaseModel, ValidationError

from core.infra.callback_queue import CALLBACKS_QUEUE, FAILED_QUEUE, event_id
from core.infra.connections import connections
from core.models import CallbackJob

BATCH = 32
# Long enough to send and delete a batch: another replay cannot see a message while it is moved.
MOVE_SECONDS = 60


class FailedCallback(BaseModel):
    event_id: str
    failed_on: str | None
    event: CallbackJob


class FailedCallbacks(BaseModel):
    waiting: int
    callbacks: list[FailedCallback]
    # Messages of the queue that are not events (hand-written, or from another version): left for a person.
    unreadable: int = 0


class Replayed(BaseModel):
    replayed: int
    unreadable: int = 0


async def list_failed(limit: int = BATCH) -> FailedCallbacks:
    """The oldest failed events (up to BATCH) and how many wait in all."""
    queue = await connections().queue(FAILED_QUEUE)
    waiting = (await queue.get_queue_properties()).approximate_message_count or 0
    found, unreadable = [], 0
    for message in await queue.peek_messages(max_messages=min(limit, BATCH)):
        try:
            job = CallbackJob.model_validate_json(message.content)
        except ValidationError:
            unreadable += 1  # one bad message must not hide the others
            continue
        failed_on = message.inserted_on.isoformat() if message.inserted_on else None
        found.append(FailedCallback(event_id=event_id(job), failed_on=failed_on, event=job))
    return FailedCallbacks(waiting=waiting, callbacks=found, unreadable=unreadable)


async def replay_failed() -> Replayed:
    """Move the failed events back to the callbacks queue with their attempts reset: a snapshot, each at
    most once, like the poison replay (core/ops/poison.py); two replays at once share the work."""
    failed = await connections().queue(FAILED_QUEUE)
    callbacks = await connections().queue(CALLBACKS_QUEUE)
    waiting = (await failed.get_queue_properties()).approximate_message_count or 0
    moved: set[str] = set()
    unreadable = 0
    while len(moved) < waiting:
        size = min(BATCH, waiting - len(moved))
        batch = [
            message
            async for message in failed.receive_messages(
                max_messages=size, messages_per_page=size, visibility_timeout=MOVE_SECONDS
            )
        ]
        fresh = [message for message in batch if message.id not in moved]
        if not fresh:
            break
        for message in fresh:
            moved.add(message.id)
            try:
                job = CallbackJob.model_validate_json(message.content)
            except ValidationError:
                unreadable += 1
                # Not an event: left where it is, and visible again at once, for a person to look at.
                with contextlib.suppress(ResourceNotFoundError):
                    await failed.update_message(message, visibility_timeout=0)
                continue
            again = job.model_copy(update={"attempts": 0, "waited_since": None})
            await callbacks.send_message(again.model_dump_json().encode())
            with contextlib.suppress(ResourceNotFoundError):
                await failed.delete_message(message)
    return Replayed(replayed=len(moved) - unreadable, unreadable=unreadable)
