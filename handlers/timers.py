"""Timer triggers: the daily roll-over of the usage counters into the durable usage table."""

from __future__ import annotations

import logging
from datetime import timedelta

import azure.functions as func

from core import usage

bp = func.Blueprint()
log = logging.getLogger(__name__)


# Five minutes past midnight UTC, so the finished day's last counts are in.
@bp.timer_trigger(arg_name="timer", schedule="0 5 0 * * *", run_on_startup=False)
async def record_daily_usage(timer: func.TimerRequest) -> None:
    day = usage.today() - timedelta(days=1)
    counters = await usage.record_day(day)
    log.info("usage of %s recorded: %s", day, counters)
