"""Runs user functions the way the Python worker does, with the host's invocation log lines."""

import asyncio
import concurrent.futures
import functools
import inspect
import logging
import os
import time
import uuid
from typing import Any

from devhost.function_index import HostedFunction

logger = logging.getLogger("devhost.functions")

# The Python worker sizes its pool for synchronous functions from this app setting.
THREAD_COUNT_SETTING = "PYTHON_THREADPOOL_THREAD_COUNT"


class InvocationFailed(Exception):
    """The user function raised; the traceback has already been logged."""


class Invoker:
    """Awaits async functions on the host's loop and runs sync ones in a thread pool."""

    def __init__(self) -> None:
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._running_threads: set[concurrent.futures.Future[Any]] = set()

    async def invoke(self, function: HostedFunction[Any], payload: Any, reason: str) -> Any:
        """Run the function with its trigger payload and return its result, or raise InvocationFailed."""
        invocation_id = uuid.uuid4()
        logger.info("Executing 'Functions.%s' (Reason='%s', Id=%s)", function.name, reason, invocation_id)
        started = time.perf_counter()
        outcome = "Failed"
        try:
            result = await self._call(function, {function.argument_name: payload})
            outcome = "Succeeded"
            return result
        except asyncio.CancelledError:
            outcome = "Cancelled"
            raise
        except Exception as error:
            logger.exception("Function '%s' raised (Id=%s)", function.name, invocation_id)
            raise InvocationFailed(f"Function '{function.name}' failed: {error!r}") from error
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000)
            logger.log(
                logging.INFO if outcome == "Succeeded" else logging.ERROR,
                "Executed 'Functions.%s' (%s, Id=%s, Duration=%dms)",
                function.name,
                outcome,
                invocation_id,
                duration_ms,
            )

    async def _call(self, function: HostedFunction[Any], arguments: dict[str, Any]) -> Any:
        if inspect.iscoroutinefunction(function.user_function):
            return await function.user_function(**arguments)
        future = self._thread_pool().submit(functools.partial(function.user_function, **arguments))
        self._running_threads.add(future)
        future.add_done_callback(self._running_threads.discard)
        return await asyncio.wrap_future(future)

    def _thread_pool(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._executor is None:
            configured = os.environ.get(THREAD_COUNT_SETTING)
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=int(configured) if configured else None,
                thread_name_prefix="function",
            )
        return self._executor

    def close(self) -> int:
        """Stop accepting work; return how many synchronous functions are still running (threads cannot be cancelled)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        return sum(not future.done() for future in list(self._running_threads))
