"""Ready signals for long-polling: the worker publishes when a result lands, waiting requests wake.

One pattern subscription per process serves every waiting request, instead of a Redis connection
per waiter. A lost signal costs at most RECHECK_SECONDS: waiters look at the store again by then."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from core.infra.connections import connections
from core.infra.redis_failover import or_default

CHANNEL_PREFIX = "ready:"
RECHECK_SECONDS = 2.0
log = logging.getLogger(__name__)
T = TypeVar("T")


def channel(subject: str) -> str:
    return f"{CHANNEL_PREFIX}{subject}"


async def announce(subject: str) -> None:
    """Wake whoever waits for `subject` (a turn's feedback, a report, a shared result)."""
    # A lost signal costs waiters at most RECHECK_SECONDS, so a failed publish fails nothing.
    publish = connections().redis().run(lambda redis: redis.publish(channel(subject), b"1"))
    await or_default("ready signal", publish, None)


class _Listener:
    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._subscribed.clear()
            self._task = asyncio.create_task(self._listen())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._subscribed.wait(), timeout=1.0)

    async def _listen(self) -> None:
        while True:
            try:
                # Listen where publishers publish: the primary, or the backup while the primary is down,
                # and follow them when that changes.
                client = connections().redis().active()
                async with client.pubsub() as pubsub:
                    await pubsub.psubscribe(f"{CHANNEL_PREFIX}*")
                    self._subscribed.set()
                    while client is connections().redis().active():
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                        if message:
                            self._wake(message["channel"].decode())
            except asyncio.CancelledError:
                raise
            except Exception:  # a dropped connection must not end long-polling for the process
                log.exception("ready-signal listener lost its connection; reconnecting")
                self._subscribed.clear()
                await asyncio.sleep(0.5)

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, timeout=2.0)
        self._task = None

    def _wake(self, name: str) -> None:
        for event in self._waiters.get(name, ()):
            event.set()

    @contextlib.asynccontextmanager
    async def watching(self, name: str) -> AsyncIterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiters.setdefault(name, set()).add(event)
        try:
            yield event
        finally:
            self._waiters[name].discard(event)
            if not self._waiters[name]:
                del self._waiters[name]


_listeners: dict[asyncio.AbstractEventLoop, _Listener] = {}


async def stop_listening() -> None:
    """End this event loop's listener, before its Redis goes away (a worker shutting down, a test
    session ending): otherwise it keeps reconnecting to a server that is gone."""
    listener = _listeners.pop(asyncio.get_running_loop(), None)
    if listener is not None:
        await listener.stop()


async def wait_for(subject: str, seconds: float, check: Callable[[], Awaitable[T | None]]) -> T | None:
    """Run `check` until it returns something or `seconds` pass, waking early on the subject's signal."""
    result = await check()
    if result is not None or seconds <= 0:
        return result
    listener = _listeners.setdefault(asyncio.get_running_loop(), _Listener())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    async with listener.watching(channel(subject)) as ready:
        await listener.ensure_running()
        # Checked again after subscribing: a result that landed in between would otherwise be missed.
        result = await check()
        while result is None and (remaining := deadline - loop.time()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ready.wait(), timeout=min(remaining, RECHECK_SECONDS))
            ready.clear()
            result = await check()
    return result
