"""A primary Redis and an optional backup Redis that is used only while the primary is unhealthy.

The backup is metered (a free Upstash database has a small monthly command budget), so a primary command
that fails or times out is re-run on the backup in the same call, the primary is skipped for
`retry_primary_after` seconds, and then one call probes it again. The backup holds only what was written
during the outage: partial cache entries and counters, acceptable because cache entries can be recomputed
and counters are approximate during an outage. Commands are counted (commands spent are a reported cost).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import redis.exceptions
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript

T = TypeVar("T")

log = logging.getLogger(__name__)

# Outages only: a ResponseError (WRONGTYPE, NOSCRIPT, ...) is the caller's bug or business, and the
# backup would answer it the same way. OSError covers builtin and asyncio TimeoutError.
_OUTAGE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class FailoverRedis:
    def __init__(
        self,
        primary: Redis,
        backup: Redis | None = None,
        *,
        retry_primary_after: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._primary = primary
        self._backup = backup
        self._retry_after = retry_primary_after
        self._clock = clock
        self._down_until: float | None = None  # None while the primary is healthy
        self._counts: Counter[str] = Counter()
        self._scripts: dict[str, AsyncScript] = {}
        if backup is not None:
            # redis-py 8 retries a failed command 10 times with backoff by default, which costs seconds
            # (11 socket timeouts) against a dead primary; with a backup, failing over is the retry.
            primary.set_retry(Retry(NoBackoff(), 0))

    async def run(self, command: Callable[[Redis], Awaitable[T]]) -> T:
        self._counts["redis_commands"] += 1

        async def one(client: Redis) -> T:
            self._counts["redis_backup_commands"] += 1 if client is self._backup else 0
            return await command(client)

        return await self._call(one)

    async def pipeline(self, build: Callable[[Pipeline], object]) -> list[Any]:
        size = 0

        async def execute(client: Redis) -> list[Any]:
            nonlocal size
            pipe = client.pipeline(transaction=False)
            build(pipe)
            size = len(pipe)
            self._counts["redis_backup_commands"] += size if client is self._backup else 0
            return await pipe.execute()

        try:
            return await self._call(execute)
        finally:
            self._counts["redis_commands"] += size

    async def script(self, source: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run a Lua script: one command on metered services, however much it does."""
        registered = self._scripts.get(source)
        if registered is None:
            registered = self._scripts[source] = self._primary.register_script(source)
        # redis-py loads the script into whichever server it is sent to, on that server's NOSCRIPT.
        return await self.run(lambda client: registered(keys=list(keys), args=list(args), client=client))

    def active(self) -> Redis:
        return self._backup if self._backup is not None and self.on_backup else self._primary

    @property
    def on_backup(self) -> bool:
        return self._down_until is not None

    def take_counts(self) -> dict[str, int]:
        counts, self._counts = {name: n for name, n in self._counts.items() if n}, Counter()
        return counts

    async def aclose(self) -> None:
        try:
            await self._primary.aclose()
        finally:
            if self._backup is not None:
                await self._backup.aclose()

    async def _call(self, command: Callable[[Redis], Awaitable[T]]) -> T:
        if self._backup is None:
            return await command(self._primary)
        probed = self._primary_due()
        if probed:
            try:
                result = await command(self._primary)
            except _OUTAGE as error:
                self._mark_down(error)
            else:
                self._mark_up()
                return result
        try:
            return await command(self._backup)
        except _OUTAGE as backup_error:
            if probed:
                raise
            # The primary is still in its window, but it may be back, and it is the only hope left.
            try:
                result = await command(self._primary)
            except _OUTAGE:
                raise backup_error from None
            self._mark_up()
            return result

    def _primary_due(self) -> bool:
        if self._down_until is None:
            return True
        now = self._clock()
        if now < self._down_until:
            return False
        # Re-arm before probing: concurrent calls stay on the backup rather than all wait on a dead primary.
        self._down_until = now + self._retry_after
        return True

    def _mark_down(self, error: BaseException) -> None:
        if self._down_until is None:
            self._counts["redis_failovers"] += 1
            # redis-py 8's repr of its errors drops the message ("network:TimeoutError").
            log.warning("primary Redis failed (%s: %s); using the backup", type(error).__name__, error)
        self._down_until = self._clock() + self._retry_after

    def _mark_up(self) -> None:
        if self._down_until is not None:
            self._down_until = None
            log.info("primary Redis answers again; back from the backup")


async def or_default(what: str, call: Awaitable[T], default: T) -> T:
    """For Redis work that only saves effort (cache, counters, signals): when Redis fails, even both
    servers, or refuses a write when full, the request goes on without that saving."""
    try:
        return await call
    except (redis.exceptions.RedisError, *_OUTAGE) as error:
        log.warning("%s skipped: Redis failed (%s: %s)", what, type(error).__name__, error)
        return default
