"""Queue and timer triggers through a real devhost, real Azurite and real Redis."""

import base64
import json
from collections.abc import Callable
from typing import Any

import redis

from tests.devhost.sample_stack import SampleStack

DELIVERIES = "deliveries"
POISON = "deliveries-poison"


def _deliveries(store: redis.Redis, body: str) -> list[dict[str, Any]]:
    return [json.loads(item) for item in store.lrange(f"deliveries:{body}", 0, -1)]


def _poison_contents(sample_stack: SampleStack) -> list[str]:
    with sample_stack.queue(POISON) as poison:
        return [message.content for message in poison.peek_messages(max_messages=32)]


def test_base64_message_is_delivered_decoded_with_its_dequeue_count(
    sample_stack: SampleStack, store: redis.Redis, eventually: Callable[..., Any]
) -> None:
    message_id = sample_stack.send_base64(DELIVERIES, b"plain-delivery")

    (delivery,) = eventually(lambda: _deliveries(store, "plain-delivery"))

    assert delivery == {"id": message_id, "body": "plain-delivery", "dequeue_count": 1}
    with sample_stack.queue(DELIVERIES) as queue:
        eventually(lambda: queue.get_queue_properties().approximate_message_count == 0)


def test_failing_message_is_retried_then_moved_to_poison_still_encoded(
    sample_stack: SampleStack, store: redis.Redis, eventually: Callable[..., Any]
) -> None:
    encoded = base64.b64encode(b"fail-always").decode("ascii")
    with sample_stack.queue(DELIVERIES) as queue:
        message_id = queue.send_message(encoded).id

    eventually(lambda: encoded in _poison_contents(sample_stack))

    # host.json: maxDequeueCount 2, so one retry after the visibility timeout, then poison.
    deliveries = _deliveries(store, "fail-always")
    assert [delivery["dequeue_count"] for delivery in deliveries] == [1, 2]
    assert {delivery["id"] for delivery in deliveries} == {message_id}
    log = sample_stack.devhost.log_tail(lines=400)
    assert f"Message {message_id} has reached MaxDequeueCount of 2" in log


def test_message_that_is_not_base64_goes_straight_to_poison(
    sample_stack: SampleStack, store: redis.Redis, eventually: Callable[..., Any]
) -> None:
    with sample_stack.queue(DELIVERIES) as queue:
        queue.send_message("not base64 at all!")

    eventually(lambda: "not base64 at all!" in _poison_contents(sample_stack))
    assert not store.keys("deliveries:not*")


def test_batches_run_concurrently_but_bounded(
    sample_stack: SampleStack, store: redis.Redis, eventually: Callable[..., Any]
) -> None:
    bodies = [f"work-{index}".encode() for index in range(12)]
    for body in bodies:
        sample_stack.send_base64("concurrency", body)

    eventually(lambda: store.llen("concurrency:done") == len(bodies), 20.0)

    assert sorted(store.lrange("concurrency:done", 0, -1)) == sorted(body.decode() for body in bodies)
    peak = max(int(running) for running in store.lrange("concurrency:running", 0, -1))
    # host.json: batchSize 4 and newBatchThreshold 2 allow at most 6 messages at once.
    assert 2 <= peak <= 6


def test_timer_fires_every_second(store: redis.Redis, eventually: Callable[..., Any]) -> None:
    eventually(lambda: store.llen("timer:every_second") >= 2, 5.0)

    runs = [json.loads(item) for item in store.lrange("timer:every_second", 0, -1)]
    assert all(run == {"past_due": False} for run in runs)


def test_run_on_startup_timer_fired_once_at_start(store: redis.Redis, eventually: Callable[..., Any]) -> None:
    eventually(lambda: store.llen("timer:on_startup") >= 1)

    assert store.lrange("timer:on_startup", 0, -1) == [json.dumps({"past_due": False})]


def test_invocations_are_logged_like_the_functions_host(
    sample_stack: SampleStack, store: redis.Redis, eventually: Callable[..., Any]
) -> None:
    sample_stack.send_base64(DELIVERIES, b"logged")
    eventually(lambda: _deliveries(store, "logged"))

    log = sample_stack.devhost.log_tail(lines=400)
    assert (
        "Executing 'Functions.record_delivery' (Reason='New queue message detected on 'deliveries'.', Id="
        in log
    )
    assert "Executed 'Functions.record_delivery' (Succeeded, Id=" in log
    assert "\trecord_delivery: queueTrigger (queue 'deliveries')" in log
