"""A poison replay deletes what it moved: looked at once the replay's visibility timeout has passed.

Right after a replay every message it received is invisible (for MOVE_SECONDS) whether or not it was
deleted, so a queue that looks empty then proves nothing: a replay that never deletes passes that look,
and its messages come back, to be replayed again and again. Here the timeout is made short and waited
out before looking.

The replay runs between two queues of this test's own, so neither the stack's host (which would take
the replayed messages from the jobs queue and fail them back into the poison queue) nor another test's
messages are in the way.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from core.infra.connections import connections
from core.ops import poison
from testing.app_stack import Services

# Far longer than moving a handful of messages takes, far shorter than the real minute.
MOVE_SECONDS = 2


@pytest.fixture
async def own_queues(services: Services, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[str, str]]:
    tag = uuid.uuid4().hex[:12]
    names = (f"replay-test-poison-{tag}", f"replay-test-jobs-{tag}")
    monkeypatch.setattr(poison, "POISON_QUEUE", names[0])
    monkeypatch.setattr(poison, "JOBS_QUEUE", names[1])
    monkeypatch.setattr(poison, "MOVE_SECONDS", MOVE_SECONDS)
    yield names
    for name in names:
        await (await connections().queue(name, raw=True)).delete_queue()


async def test_the_poison_queue_is_empty_after_the_replays_visibility_timeout(
    own_queues: tuple[str, str],
) -> None:
    poison_queue = await connections().queue(own_queues[0], raw=True)
    jobs_queue = await connections().queue(own_queues[1], raw=True)
    sent = {f"replay-deletes-{index}" for index in range(5)}
    for body in sent:
        await poison_queue.send_message(body)

    replayed = await poison.replay_poison()

    assert replayed.replayed == len(sent)
    await asyncio.sleep(MOVE_SECONDS + 1)  # anything received and not deleted is visible again by now
    assert [message.content for message in await poison_queue.peek_messages(max_messages=32)] == []
    assert (await poison_queue.get_queue_properties()).approximate_message_count == 0
    assert {message.content for message in await jobs_queue.peek_messages(max_messages=32)} == sent
