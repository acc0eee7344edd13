"""Timer triggers: the daily roll-overs of the usage counters and of the providers' quotas, and the
hourly deletion of expired interviews."""

from __future__ import annotations

import logging
from datetime import timedelta

import azure.functions as func

from core.infra import usage
from core.interview.retention import sweep_expired
from core.providers.rollover import roll_over

bp = func.Blueprint()
log = logging.getLogger(__name__)


# Five minutes past midnight UTC, so the finished day's last counts are in.
@bp.timer_trigger(arg_name="timer", schedule="0 5 0 * * *", run_on_startup=False)
async def record_daily_usage(timer: func.TimerRequest) -> None:
    usage.note(function_executions=1)
    day = usage.today() - timedelta(days=1)
    counters = await usage.record_day(day)
    log.info("usage of %s recorded: %s", day, counters)


# Hourly: providers reset at their own midnights (Gemini: Pacific, most others: UTC), DST included.
# Not on start-up: Azure starts instances often (scale-out, cold starts), and a missed run costs nothing
# but a late record, since the counters are keyed by each provider's own date.
@bp.timer_trigger(arg_name="timer", schedule="0 1 * * * *", run_on_startup=False)
async def roll_over_provider_quotas(timer: func.TimerRequest) -> None:
    usage.note(function_executions=1)
    recorded = await roll_over()
    if recorded:
        log.info("provider days recorded: %s", recorded)


# Hourly, at 17 past (away from the roll-overs above): an interview outlives its RETENTION_DAYS by at most
# an hour in storage, and not at all through the API (its token stops working at its expiry). Not on
# start-up, for the reason above; a missed run is caught up by the next, which finds every interview
# created before its cutoff.
@bp.timer_trigger(arg_name="timer", schedule="0 17 * * * *", run_on_startup=False)
async def delete_expired_interviews(timer: func.TimerRequest) -> None:
    usage.note(function_executions=1)
    deleted = await sweep_expired()
    log.info("expired interviews deleted: %s", deleted)
