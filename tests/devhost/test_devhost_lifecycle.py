"""Process lifecycle: start-up failures, graceful shutdown with messages in flight, no orphaned children."""

import base64
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devhost.stack import PROJECT_ROOT, ServiceFailed, free_ports, start_azurite, start_devhost
from tests.devhost.sample_stack import existing_queue

# Starts its own hosts and Azurite: not in the fast tier.
pytestmark = pytest.mark.service

STUCK_APP = """
import asyncio
import time

import azure.functions as func

app = func.FunctionApp()


@app.queue_trigger(arg_name="msg", queue_name="stuck-async", connection="AzureWebJobsStorage")
async def stuck_async(msg: func.QueueMessage) -> None:
    await asyncio.sleep(600)


@app.queue_trigger(arg_name="msg", queue_name="stuck-sync", connection="AzureWebJobsStorage")
def stuck_sync(msg: func.QueueMessage) -> None:
    time.sleep(600)
"""


WORK_APP = """
import azure.functions as func

app = func.FunctionApp()


@app.queue_trigger(arg_name="msg", queue_name="work", connection="AzureWebJobsStorage")
def work(msg: func.QueueMessage) -> None: ...
"""


def _write_app(script_root: Path, source: str) -> None:
    (script_root / "function_app.py").write_text(textwrap.dedent(source), encoding="utf-8")


def _process_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in {"Z", "X"}


def test_invalid_schedule_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    _write_app(
        tmp_path,
        """
        import azure.functions as func

        app = func.FunctionApp()


        @app.timer_trigger(arg_name="timer", schedule="*/5 * * * *")
        def five_fields(timer: func.TimerRequest) -> None: ...
        """,
    )

    with pytest.raises(
        ServiceFailed, match=r"(?s)devhost exited with code 1.*has 5 fields; Azure Functions needs 6"
    ):
        start_devhost(tmp_path, {})


def test_import_error_in_the_app_is_reported_with_its_traceback(tmp_path: Path) -> None:
    _write_app(tmp_path, "import module_that_does_not_exist\n")

    with pytest.raises(ServiceFailed, match="No module named 'module_that_does_not_exist'"):
        start_devhost(tmp_path, {})


def test_shutdown_abandons_running_messages_so_they_reappear(
    tmp_path: Path, eventually: Callable[..., Any]
) -> None:
    _write_app(tmp_path, STUCK_APP)
    log_path = tmp_path / "devhost.log"
    with (
        start_azurite(tmp_path / "azurite", in_memory=True) as azurite,
        start_devhost(tmp_path, {"AzureWebJobsStorage": azurite.url}, log_path=log_path) as devhost,
    ):
        queues = [existing_queue(azurite.url, name) for name in ("stuck-async", "stuck-sync")]
        for queue in queues:
            queue.send_message(base64.b64encode(b"never finishes").decode())
        eventually(lambda: log_path.read_text().count("Executing 'Functions.stuck_") == 2)

        devhost.stop()

        # A clean exit (0, not the -9 of the kill after stop()'s timeout), with both messages visible again
        # at once instead of after the 10-minute processing lease (peek sees only visible messages).
        assert devhost.process.returncode == 0
        for queue in queues:
            (message,) = queue.peek_messages()
            assert message.dequeue_count == 1
            queue.close()
    assert "Exiting with 1 synchronous function(s) still running" in log_path.read_text()


def test_poller_rides_out_a_storage_restart(tmp_path: Path, eventually: Callable[..., Any]) -> None:
    _write_app(tmp_path, WORK_APP)
    (tmp_path / "host.json").write_text(
        json.dumps({"version": "2.0", "extensions": {"queues": {"maxPollingInterval": "00:00:01"}}})
    )
    log_path = tmp_path / "devhost.log"
    ports = (blob_port, queue_port, table_port) = tuple(free_ports(3))

    def executions() -> int:
        return log_path.read_text().count("Executed 'Functions.work' (Succeeded")

    with (
        start_azurite(tmp_path / "azurite", ports, in_memory=True) as storage,
        start_devhost(tmp_path, {"AzureWebJobsStorage": storage.url}, log_path=log_path),
    ):
        with existing_queue(storage.url, "work") as queue:
            queue.send_message(base64.b64encode(b"before the restart").decode())
        eventually(lambda: executions() == 1)

        storage.stop()
        eventually(lambda: "Queue 'work' unavailable" in log_path.read_text())
        # In memory, the restarted emulator has lost the queue: the poller must create it again.
        with start_azurite(tmp_path / "azurite", (blob_port, queue_port, table_port), in_memory=True):
            with existing_queue(storage.url, "work") as queue:
                queue.send_message(base64.b64encode(b"after the restart").decode())
            eventually(lambda: executions() == 2)


def test_children_do_not_outlive_a_killed_parent(tmp_path: Path, eventually: Callable[..., Any]) -> None:
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from devhost.stack import start_redis; "
            "print(start_redis(Path(sys.argv[1])).process.pid, flush=True); time.sleep(60)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert parent.stdout is not None
    redis_pid = int(parent.stdout.readline())
    assert not _process_gone(redis_pid)

    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()

    eventually(lambda: _process_gone(redis_pid), 5.0)
