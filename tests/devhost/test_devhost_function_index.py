"""Reading a FunctionApp's registrations: triggers, routes, methods, auth levels, and what is refused."""

import azure.functions as func
import pytest

from devhost.function_index import UnsupportedFunction, index_functions
from devhost.http_server import UnsupportedRoute, function_path


def test_http_queue_and_timer_functions_are_indexed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBS_QUEUE_NAME", "jobs")
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

    @app.route(route="/things/{id}/", methods=[func.HttpMethod.GET, "post"])
    def things(req: func.HttpRequest) -> func.HttpResponse: ...

    @app.route(auth_level=func.AuthLevel.ADMIN)
    async def default_route(req: func.HttpRequest) -> func.HttpResponse: ...

    @app.queue_trigger(arg_name="msg", queue_name="%JOBS_QUEUE_NAME%", connection="")
    async def job(msg: func.QueueMessage) -> None: ...

    @app.timer_trigger(arg_name="timer", schedule="0 */5 * * * *", run_on_startup=True)
    def tick(timer: func.TimerRequest) -> None: ...

    index = index_functions(app)

    things_fn, default_fn = index.http
    assert (things_fn.trigger.route, things_fn.trigger.methods) == ("things/{id}", ("GET", "POST"))
    assert things_fn.trigger.auth_level is func.AuthLevel.FUNCTION
    assert (default_fn.name, default_fn.argument_name) == ("default_route", "req")
    assert (default_fn.trigger.route, default_fn.trigger.methods) == ("default_route", ())
    assert default_fn.trigger.auth_level is func.AuthLevel.ADMIN
    (job_fn,) = index.queues
    assert (job_fn.trigger.queue_name, job_fn.trigger.connection) == ("jobs", "AzureWebJobsStorage")
    (tick_fn,) = index.timers
    assert str(tick_fn.trigger.schedule) == "0 */5 * * * *"
    assert tick_fn.trigger.run_on_startup


def test_function_must_take_the_trigger_parameter_by_its_binding_name() -> None:
    app = func.FunctionApp()

    # @app.route names the binding "req"; the worker passes the payload by that name.
    @app.route(route="renamed")
    def renamed(request: func.HttpRequest) -> func.HttpResponse: ...

    with pytest.raises(UnsupportedFunction, match="must take exactly the trigger parameter 'req'"):
        index_functions(app)


def test_output_bindings_are_refused() -> None:
    app = func.FunctionApp()

    @app.route(route="enqueue")
    @app.queue_output(arg_name="out", queue_name="jobs", connection="AzureWebJobsStorage")
    def enqueue(req: func.HttpRequest, out: func.Out[str]) -> func.HttpResponse: ...

    with pytest.raises(UnsupportedFunction, match="uses queue bindings; the devhost hosts triggers only"):
        index_functions(app)


def test_invalid_timer_schedule_is_refused_at_indexing() -> None:
    app = func.FunctionApp()

    @app.timer_trigger(arg_name="timer", schedule="*/5 * * * *")
    def five_fields(timer: func.TimerRequest) -> None: ...

    with pytest.raises(UnsupportedFunction, match=r"five_fields': invalid timer schedule: .* has 5 fields"):
        index_functions(app)


@pytest.mark.parametrize(
    ("prefix", "route", "path"),
    [
        ("api", "interviews/{id}/turns/{n}", "/api/interviews/{id}/turns/{n}"),
        ("api", "items/{n:int}/{slug:alpha:maxlength(8)}", "/api/items/{n}/{slug}"),
        ("api", "files/{*path}", "/api/files/{path:.*}"),
        ("", "health", "/health"),
    ],
)
def test_route_templates_become_aiohttp_paths(prefix: str, route: str, path: str) -> None:
    assert function_path(prefix, route) == path


def test_optional_route_parameters_are_refused() -> None:
    with pytest.raises(UnsupportedRoute, match="optional parameters"):
        function_path("api", "items/{id?}")
