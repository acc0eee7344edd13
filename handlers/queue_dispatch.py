"""The queue trigger: one jobs-queue message in, one worker call."""

from __future__ import annotations

import logging

import azure.functions as func

from core.infra import usage
from core.infra.job_queue import JOBS_QUEUE
from core.interview.worker import handle_message

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.queue_trigger(arg_name="msg", queue_name=JOBS_QUEUE, connection="AzureWebJobsStorage")
async def dispatch_job(msg: func.QueueMessage) -> None:
    log.info("job %s (delivery %s)", msg.id, msg.dequeue_count)
    usage.note(function_executions=1)
    await handle_message(msg.get_body())
