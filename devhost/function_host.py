"""The running host: HTTP server, queue pollers and timers for one FunctionApp, and their orderly shutdown."""

import asyncio
import logging
import os
from collections.abc import Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import azure.functions as func
from aiohttp import web

from devhost.cors import CorsPolicy
from devhost.function_index import FunctionIndex, UnsupportedFunction, index_functions
from devhost.function_keys import FunctionKeys
from devhost.host_config import HostConfig
from devhost.http_server import build_http_app, function_path
from devhost.invoker import Invoker
from devhost.queue_poller import QueuePoller
from devhost.settings_file import LocalSettings
from devhost.timer_scheduler import TimerScheduler

STATIC_FOLDER = "web"
# Reachable from this machine only, unless asked otherwise (python -m devhost --host).
DEFAULT_BIND_ADDRESS = "127.0.0.1"
# Time given to running queue messages and HTTP requests before they are abandoned at shutdown.
SHUTDOWN_GRACE = timedelta(seconds=5)

logger = logging.getLogger("devhost")


class FunctionHost:
    def __init__(
        self,
        app: func.FunctionApp,
        script_root: Path,
        settings: LocalSettings,
        port: int,
        bind_address: str = DEFAULT_BIND_ADDRESS,
    ) -> None:
        """Index the app's functions and check their configuration; raises StartupError on problems."""
        self._config = HostConfig.load(script_root)
        self._index: FunctionIndex = index_functions(app)
        self._port = port
        self._bind_address = bind_address
        self._invoker = Invoker()
        self._check_storage_connections()
        keys = FunctionKeys.from_environment()
        keys.warn_about_missing_keys({function.trigger.auth_level for function in self._index.http})
        static_root = script_root / STATIC_FOLDER
        self._http_app = build_http_app(
            self._index.http,
            self._invoker,
            self._config.route_prefix,
            keys,
            settings.cors or CorsPolicy.localhost_only(),
            static_root if static_root.is_dir() else None,
        )

    async def serve(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set, then shut down: stop timers and polling, drain, close."""
        runner = web.AppRunner(
            self._http_app, access_log=None, shutdown_timeout=SHUTDOWN_GRACE.total_seconds()
        )
        await runner.setup()
        await web.TCPSite(runner, self._bind_address, self._port).start()

        pollers = [
            QueuePoller(function, self._config.queues, self._invoker, SHUTDOWN_GRACE)
            for function in self._index.queues
        ]
        timers = [TimerScheduler(function, self._invoker) for function in self._index.timers]
        self._log_functions(timers)
        polling = [_supervised(poller.run(), "queue poller") for poller in pollers]
        timing = [_supervised(timer.run(), "timer") for timer in timers]
        logger.info("Host started. Listening on http://%s:%d", self._bind_address, self._port)

        await stop.wait()
        logger.info("Stopping the host")
        for task in timing:
            task.cancel()
        for poller in pollers:
            poller.stop()
        await asyncio.gather(runner.cleanup(), _finish(polling), _finish(timing))

    def close(self) -> int:
        """Release the thread pool; return the number of synchronous functions still running."""
        return self._invoker.close()

    def _check_storage_connections(self) -> None:
        for function in self._index.queues:
            if not os.environ.get(function.trigger.connection):
                raise UnsupportedFunction(
                    f"Function '{function.name}': storage connection setting "
                    f"'{function.trigger.connection}' is not set"
                )

    def _log_functions(self, timers: list[TimerScheduler]) -> None:
        lines = ["Functions:", ""]
        for function in self._index.http:
            methods = ",".join(function.trigger.methods) or "ALL"
            path = function_path(self._config.route_prefix, function.trigger.route)
            lines.append(
                f"\t{function.name}: [{methods}] http://localhost:{self._port}{path} "
                f"(authLevel {function.trigger.auth_level.value})"
            )
        for queued in self._index.queues:
            lines.append(f"\t{queued.name}: queueTrigger (queue '{queued.trigger.queue_name}')")
        for timed, timer in zip(self._index.timers, timers, strict=True):
            lines.append(
                f"\t{timed.name}: timerTrigger (schedule '{timed.trigger.schedule}', "
                f"next {timer.next_occurrence().isoformat()})"
            )
        logger.info("\n".join(lines))


def _supervised(work: Coroutine[Any, Any, None], role: str) -> asyncio.Task[None]:
    task = asyncio.create_task(work)

    def report_crash(finished: asyncio.Task[None]) -> None:
        if not finished.cancelled() and finished.exception() is not None:
            logger.error("A %s stopped unexpectedly", role, exc_info=finished.exception())

    task.add_done_callback(report_crash)
    return task


async def _finish(tasks: list[asyncio.Task[None]]) -> None:
    """Wait for tasks asked to stop; cancel those that outlive the grace period (plus time to abandon)."""
    if not tasks:
        return
    _, late = await asyncio.wait(tasks, timeout=2 * SHUTDOWN_GRACE.total_seconds())
    for task in late:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
