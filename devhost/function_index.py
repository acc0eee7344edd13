"""Function indexing: what the app registers on its FunctionApp, read the way the host reads it."""

import inspect
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

import azure.functions as func

from devhost.ncrontab import CrontabSchedule
from devhost.startup_error import StartupError

DEFAULT_STORAGE_CONNECTION = "AzureWebJobsStorage"
_HTTP_RETURN_BINDING_TYPE = "http"
_APP_SETTING_REFERENCE = re.compile(r"%(\w+)%")


class UnsupportedFunction(StartupError, ValueError):
    """The app registers a function the devhost cannot host faithfully."""


@dataclass(frozen=True)
class HttpTrigger:
    route: str
    methods: tuple[str, ...]
    """Upper-case HTTP methods; empty means any method."""
    auth_level: func.AuthLevel


@dataclass(frozen=True)
class QueueTrigger:
    queue_name: str
    connection: str
    """Name of the app setting holding the storage connection string."""


@dataclass(frozen=True)
class TimerTrigger:
    schedule: CrontabSchedule
    run_on_startup: bool


TriggerT = TypeVar("TriggerT", HttpTrigger, QueueTrigger, TimerTrigger)


@dataclass(frozen=True)
class HostedFunction(Generic[TriggerT]):
    name: str
    user_function: Callable[..., Any]
    argument_name: str
    """The parameter that receives the trigger payload."""
    trigger: TriggerT


@dataclass(frozen=True)
class FunctionIndex:
    http: list[HostedFunction[HttpTrigger]]
    queues: list[HostedFunction[QueueTrigger]]
    timers: list[HostedFunction[TimerTrigger]]


def index_functions(app: func.FunctionApp) -> FunctionIndex:
    """Read the app's functions. FunctionApp.get_functions() may be called only once per app."""
    index = FunctionIndex(http=[], queues=[], timers=[])
    for function in app.get_functions():
        name = _name(function)
        bindings = function.get_bindings_dict()["bindings"]
        trigger_binding = _single_trigger_binding(name, bindings)
        trigger_type = trigger_binding["type"]
        if trigger_type == "httpTrigger":
            index.http.append(_hosted(function, trigger_binding, _http_trigger(name, trigger_binding)))
        elif trigger_type == "queueTrigger":
            index.queues.append(_hosted(function, trigger_binding, _queue_trigger(name, trigger_binding)))
        elif trigger_type == "timerTrigger":
            index.timers.append(_hosted(function, trigger_binding, _timer_trigger(name, trigger_binding)))
        else:
            raise UnsupportedFunction(
                f"Function '{name}': the devhost does not host {trigger_type} functions"
            )
    return index


def _single_trigger_binding(name: str, bindings: list[dict[str, Any]]) -> dict[str, Any]:
    triggers = [binding for binding in bindings if binding["type"].endswith("Trigger")]
    if len(triggers) != 1:
        raise UnsupportedFunction(
            f"Function '{name}' has {len(triggers)} triggers; a function needs exactly one"
        )
    others = [
        binding["type"]
        for binding in bindings
        if binding is not triggers[0] and binding["type"] != _HTTP_RETURN_BINDING_TYPE
    ]
    if others:
        raise UnsupportedFunction(
            f"Function '{name}' uses {', '.join(others)} bindings; the devhost hosts triggers only "
            "(use the storage SDK from the function instead)"
        )
    return triggers[0]


def _name(function: func.Function) -> str:
    name = function.get_function_name()
    if not name:
        raise UnsupportedFunction(f"A function of the app has no name: {function.get_user_function()!r}")
    return name


def _hosted(
    function: func.Function, trigger_binding: dict[str, Any], trigger: TriggerT
) -> HostedFunction[TriggerT]:
    name = _name(function)
    user_function = function.get_user_function()
    argument_name = trigger_binding["name"]
    parameters = inspect.signature(user_function).parameters
    unexpected = [
        parameter
        for parameter, spec in parameters.items()
        if parameter != argument_name and spec.default is inspect.Parameter.empty
    ]
    if argument_name not in parameters or unexpected:
        raise UnsupportedFunction(
            f"Function '{name}' must take exactly the trigger parameter '{argument_name}'; "
            f"it takes ({', '.join(parameters)})"
        )
    return HostedFunction(
        name=name, user_function=user_function, argument_name=argument_name, trigger=trigger
    )


def _text(value: Any) -> str:
    """Binding values are enums when set through decorators and strings when set by hand."""
    return str(value.value if isinstance(value, Enum) else value)


def _resolve_app_settings(name: str, value: str) -> str:
    """Expand %Setting% references, as the host does in queue names and schedules."""

    def setting(reference: re.Match[str]) -> str:
        if reference[1] not in os.environ:
            raise UnsupportedFunction(
                f"Function '{name}' refers to app setting '{reference[1]}', which is not set"
            )
        return os.environ[reference[1]]

    return _APP_SETTING_REFERENCE.sub(setting, value)


def _http_trigger(name: str, binding: dict[str, Any]) -> HttpTrigger:
    return HttpTrigger(
        route=(binding.get("route") or name).strip("/"),
        methods=tuple(_text(method).upper() for method in binding.get("methods") or ()),
        auth_level=func.AuthLevel(_text(binding.get("authLevel", func.AuthLevel.FUNCTION)).lower()),
    )


def _queue_trigger(name: str, binding: dict[str, Any]) -> QueueTrigger:
    return QueueTrigger(
        queue_name=_resolve_app_settings(name, binding["queueName"]),
        connection=binding.get("connection") or DEFAULT_STORAGE_CONNECTION,
    )


def _timer_trigger(name: str, binding: dict[str, Any]) -> TimerTrigger:
    try:
        schedule = CrontabSchedule(_resolve_app_settings(name, binding["schedule"]))
    except ValueError as error:
        raise UnsupportedFunction(f"Function '{name}': invalid timer schedule: {error}") from error
    return TimerTrigger(schedule=schedule, run_on_startup=bool(binding.get("runOnStartup", False)))
