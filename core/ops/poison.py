"""Ops on the poison queue: list what failed, and replay it onto the jobs queue.

`python -m core.ops.poison list|replay` does the same from a shell, with the app's settings in the environment."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import os
import sys
from pathlib import Path

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


def _load_local_settings() -> None:
    """As the Functions host does: local.settings.json (or its example) fills what the environment lacks."""
    for name in ("local.settings.json", "local.settings.json.example"):
        path = Path(name)
        if path.exists():
            for key, value in json.loads(path.read_text("utf-8")).get("Values", {}).items():
                os.environ.setdefault(key, value)
            return


async def _main(command: str) -> None:
    try:
        if command == "list":
            print(json.dumps([message.model_dump() for message in await list_poison()], indent=2))
        else:
            print((await replay_poison()).model_dump_json())
    finally:
        await connections().close()


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in ("list", "replay"):
        sys.exit("usage: python -m core.ops.poison list|replay")
    _load_local_settings()
    asyncio.run(_main(sys.argv[1]))
