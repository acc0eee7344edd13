"""A queue-triggered function's listener, with the Functions host's batching, retry and poison semantics."""

import asyncio
import base64
import binascii
import contextlib
import logging
import os
import random
from collections.abc import Awaitable, Callable
from datetime import timedelta

from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.functions.queue import QueueMessage as FunctionQueueMessage
from azure.storage.queue import QueueMessage as StorageQueueMessage
from azure.storage.queue.aio import QueueClient

from devhost.function_index import HostedFunction, QueueTrigger
from devhost.host_config import MIN_POLLING_INTERVAL, MessageEncoding, QueueOptions
from devhost.invoker import InvocationFailed, Invoker

POISON_SUFFIX = "-poison"
# Like the host, a message stays hidden from other consumers for this long while its function runs.
PROCESSING_VISIBILITY_TIMEOUT = timedelta(minutes=10)
# The SDK's default retries wait 15 s and more between attempts. The poller backs off by itself, so the
# client only retries quick hiccups, such as a keep-alive connection the server has just closed.


logger = logging.getLogger(__name__)

MessageAction = Callable[[StorageQueueMessage], Awaitable[None]]


class QueuePoller:
    def __init__(
        self,
        function: HostedFunction[QueueTrigger],
        options: QueueOptions,
        invoker: Invoker,
        shutdown_grace: timedelta,
    ) -> None:
        self._function = function
        self._options = options
        self._invoker = invoker
        self._shutdown_grace = shutdown_grace
        self._queue_name = function.trigger.queue_name
        self._poison_queue_name = self._queue_name + POISON_SUFFIX
        self._queue: QueueClient | None = None
        self._poison_queue: QueueClient | None = None
        self._queues_exist = False
        self._in_flight: set[asyncio.Task[None]] = set()
        self._back_off = BackOff(options.max_polling_interval)
        # Set whenever one of this poller's messages is finished: frees a slot for the next batch. Like
        # the host's, a back-off sleep is not cut short by it, nor by any other function's invocation: the
        # host's listener is woken early only when an output binding of the same host adds a message to
        # its queue (its SharedQueueWatcher), and the devhost supports no output bindings.
        self._message_finished = asyncio.Event()
        self._stop_requested = asyncio.Event()
        self._stopping = False

    def stop(self) -> None:
        """Ask run() to stop fetching; it returns once running messages are finished or abandoned."""
        self._stopping = True
        self._stop_requested.set()
        self._message_finished.set()

    def _stopped(self) -> bool:
        return self._stopping

    async def run(self) -> None:
        """Fetch and dispatch messages until stop(), then drain and close the clients."""
        try:
            await self._poll()
        finally:
            await self._drain()

    async def _poll(self) -> None:
        while not self._stopping:
            await self._wait_for_capacity()
            if self._stopped():  # stop() may have come while waiting
                break
            try:
                messages = await self._receive_batch()
            except AzureError as error:
                if isinstance(error, ResourceNotFoundError):
                    # An in-memory Azurite that restarted has lost the queues: create them again.
                    self._queues_exist = False
                delay = self._back_off.next_delay()
                logger.warning(
                    "Queue '%s' unavailable (%s); retrying in %.1fs",
                    self._queue_name,
                    type(error).__name__,
                    delay.total_seconds(),
                )
                await self._sleep(delay)
                continue
            if not messages:
                await self._sleep(self._back_off.next_delay())
                continue
            self._back_off.found_messages()
            for message in messages:
                task = asyncio.create_task(self._process(message))
                self._in_flight.add(task)
                task.add_done_callback(self._message_done)

    async def _drain(self) -> None:
        """Let running messages finish within the grace period; abandon the rest so they reappear at once."""
        if self._in_flight:
            _, unfinished = await asyncio.wait(self._in_flight, timeout=self._shutdown_grace.total_seconds())
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
        for client in (self._queue, self._poison_queue):
            if client is not None:
                await client.close()

    def _message_done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        self._message_finished.set()

    async def _wait_for_capacity(self) -> None:
        # A new batch is fetched once the running count falls to newBatchThreshold, so at most
        # batchSize + newBatchThreshold messages run at once.
        while len(self._in_flight) > self._options.new_batch_threshold and not self._stopping:
            self._message_finished.clear()
            await self._message_finished.wait()

    async def _sleep(self, delay: timedelta) -> None:
        """The back-off's wait before the next poll; only stop() ends it early."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_requested.wait(), delay.total_seconds())

    async def _clients(self) -> tuple[QueueClient, QueueClient]:
        if self._queue is None or self._poison_queue is None:
            connection_string = os.environ[self._function.trigger.connection]
            self._queue, self._poison_queue = (
                QueueClient.from_connection_string(
                    connection_string,
                    name,
                    retry_total=2,
                    initial_backoff=0,
                    increment_base=1,
                    random_jitter_range=0,
                )
                for name in (self._queue_name, self._poison_queue_name)
            )
        if not self._queues_exist:
            for client in (self._queue, self._poison_queue):
                with contextlib.suppress(ResourceExistsError):
                    await client.create_queue()
            self._queues_exist = True
        return self._queue, self._poison_queue

    async def _receive_batch(self) -> list[StorageQueueMessage]:
        queue, _ = await self._clients()
        batch_size = self._options.batch_size
        receiver = queue.receive_messages(
            max_messages=batch_size,
            messages_per_page=batch_size,
            visibility_timeout=int(PROCESSING_VISIBILITY_TIMEOUT.total_seconds()),
        )
        # One page is one request; reading further would ask the service again for the remainder.
        async for page in receiver.by_page():
            return [message async for message in page]
        return []

    async def _process(self, message: StorageQueueMessage) -> None:
        try:
            body = self._decode(message.content)
        except ValueError:
            logger.error(
                "Message %s on queue '%s' is not valid base64; moving it to '%s'",
                message.id,
                self._queue_name,
                self._poison_queue_name,
            )
            await self._settle(message, self._move_to_poison)
            return
        payload = FunctionQueueMessage(
            id=message.id,
            body=body,
            dequeue_count=message.dequeue_count,
            insertion_time=message.inserted_on,
            expiration_time=message.expires_on,
            time_next_visible=message.next_visible_on,
            pop_receipt=message.pop_receipt,
        )
        try:
            await self._invoker.invoke(
                self._function, payload, f"New queue message detected on '{self._queue_name}'."
            )
        except InvocationFailed:
            await self._settle(message, self._retry_or_poison)
        except asyncio.CancelledError:
            await self._settle(message, self._abandon)
            raise
        else:
            await self._settle(message, self._delete)

    def _decode(self, content: str) -> bytes:
        if self._options.message_encoding is MessageEncoding.NONE:
            return content.encode("utf-8")
        try:
            # .NET's base64 decoding, which the host uses, ignores whitespace such as line breaks.
            return base64.b64decode("".join(content.split()), validate=True)
        except binascii.Error as error:
            raise ValueError(str(error)) from error

    async def _settle(self, message: StorageQueueMessage, action: MessageAction) -> None:
        try:
            await action(message)
        except AzureError as error:
            logger.warning(
                "Could not settle message %s on queue '%s' (%s); it reappears when its visibility timeout ends",
                message.id,
                self._queue_name,
                error,
            )

    async def _delete(self, message: StorageQueueMessage) -> None:
        queue, _ = await self._clients()
        await queue.delete_message(message)

    async def _retry_or_poison(self, message: StorageQueueMessage) -> None:
        if message.dequeue_count is not None and message.dequeue_count >= self._options.max_dequeue_count:
            logger.warning(
                "Message %s has reached MaxDequeueCount of %d. Moving message to queue '%s'.",
                message.id,
                self._options.max_dequeue_count,
                self._poison_queue_name,
            )
            await self._move_to_poison(message)
            return
        await self._make_visible_after(message, self._options.visibility_timeout)

    async def _abandon(self, message: StorageQueueMessage) -> None:
        await self._make_visible_after(message, timedelta(0))

    async def _make_visible_after(self, message: StorageQueueMessage, delay: timedelta) -> None:
        queue, _ = await self._clients()
        # Passing the id, not the message, changes only the visibility instead of re-uploading the content.
        await queue.update_message(
            message.id, pop_receipt=message.pop_receipt, visibility_timeout=int(delay.total_seconds())
        )

    async def _move_to_poison(self, message: StorageQueueMessage) -> None:
        queue, poison_queue = await self._clients()
        # The text is copied as stored, still encoded, so it can be replayed onto the main queue as is.
        await poison_queue.send_message(message.content)
        await queue.delete_message(message)


class BackOff:
    """The host's polling delays (RandomizedExponentialBackoffStrategy of the WebJobs SDK): after a poll
    that found messages the next poll comes at once, and the first empty poll after it waits the minimum
    (100 ms); each further empty poll waits the minimum plus 2^(n-1) times the minimum, randomised by
    +/-20%, until maxPollingInterval, which then holds until messages are found again."""

    RANDOMIZATION = 0.2

    def __init__(self, maximum: timedelta, rng: random.Random | None = None) -> None:
        self._maximum = maximum
        self._rng = rng or random.Random()
        self._current = timedelta(0)
        self._exponent = 0
        self._found_since_last_delay = False

    def found_messages(self) -> None:
        self._found_since_last_delay = True

    def next_delay(self) -> timedelta:
        if self._found_since_last_delay:
            self._found_since_last_delay = False
            self._current, self._exponent = MIN_POLLING_INTERVAL, 1
        elif self._current != self._maximum:
            factor = self._rng.uniform(1 - self.RANDOMIZATION, 1 + self.RANDOMIZATION)
            increment = factor * 2 ** (self._exponent - 1) if self._exponent else 0.0
            delay = MIN_POLLING_INTERVAL * (1 + increment)
            if delay < self._maximum:
                self._current, self._exponent = delay, self._exponent + 1
            else:
                self._current = self._maximum
        return self._current
