"""Fires a timer-triggered function on its NCRONTAB schedule (UTC)."""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

from azure.functions.timer import TimerRequest

from devhost.function_index import HostedFunction, TimerTrigger
from devhost.invoker import InvocationFailed, Invoker

# The host flags an invocation as past due when it starts this much after its scheduled time.
PAST_DUE_AFTER = timedelta(seconds=1)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TimerScheduler:
    def __init__(self, function: HostedFunction[TimerTrigger], invoker: Invoker) -> None:
        self._function = function
        self._invoker = invoker

    def next_occurrence(self) -> datetime:
        return self._function.trigger.schedule.next_after(_utcnow())

    async def run(self) -> None:
        """Invoke on start-up if configured, then on schedule, one invocation at a time, until cancelled."""
        if self._function.trigger.run_on_startup:
            await self._fire(past_due=False, reason="Timer fired on startup.")
        previous = _utcnow()
        while True:
            # Computed from the later of now and the last occurrence, so an early wake-up cannot fire twice.
            occurrence = self._function.trigger.schedule.next_after(max(previous, _utcnow()))
            await asyncio.sleep((occurrence - _utcnow()).total_seconds())
            started = _utcnow()
            await self._fire(
                past_due=started - occurrence > PAST_DUE_AFTER,
                reason=f"Timer fired at {started.isoformat()}",
            )
            previous = occurrence

    async def _fire(self, past_due: bool, reason: str) -> None:
        # Already logged; a failing run never stops the schedule.
        with contextlib.suppress(InvocationFailed):
            await self._invoker.invoke(self._function, TimerRequest(past_due=past_due), reason)
