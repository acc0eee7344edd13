"""The callbacks queue's trigger: one event in, one delivery attempt (core/interview/callbacks.py)."""

from __future__ import annotations

import logging

import azure.functions as func

from core.infra import usage
from core.infra.callback_queue import CALLBACKS_QUEUE
from core.interview.callbacks import handle_message

bp = func.Blueprint()
log = logging.getLogger(__name__)


@bp.queue_trigger(arg_name="msg", queue_name=CALLBACKS_QUEUE, connection="AzureWebJobsStorage")
async def deliver_callback(msg: func.QueueMessage) -> None:
    log.info("callback %s (delivery %s)", msg.id, msg.dequeue_count)
    usage.note(function_executions=1)
    await handle_message(msg.get_body())
