"""The host's HTTP front end: HTTP-triggered functions, the health endpoint and the static web/ folder."""

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import azure.functions as func
from aiohttp import hdrs, web

from devhost.cors import CorsPolicy
from devhost.function_index import HostedFunction, HttpTrigger
from devhost.function_keys import FunctionKeys
from devhost.invoker import InvocationFailed, Invoker
from devhost.startup_error import StartupError

HOST_STATUS_PATH = "/admin/host/status"
FORWARDED_FOR = "X-Forwarded-For"
HTTP_REASON = "This function was programmatically called via the host APIs."

# The Functions host accepts request bodies up to 100 MB; aiohttp's default is 1 MB.
MAX_REQUEST_BODY_BYTES = 100 * 1024 * 1024
# {name}, {name:constraint} and the catch-all {*name}; constraints are not enforced.
_ROUTE_PARAMETER = re.compile(r"\{(?P<catch_all>\*)?(?P<name>\w+)(?P<optional>\?)?(?::[^{}]*)?\}")


class UnsupportedRoute(StartupError, ValueError):
    """A route template the devhost cannot translate."""


def function_path(route_prefix: str, route: str) -> str:
    """The URL path of a route template, in aiohttp's syntax."""

    def translate(parameter: re.Match[str]) -> str:
        if parameter["optional"]:
            raise UnsupportedRoute(
                f"Route '{route}': optional parameters like {parameter[0]} are not supported"
            )
        return f"{{{parameter['name']}:.*}}" if parameter["catch_all"] else f"{{{parameter['name']}}}"

    segments = [segment for segment in (route_prefix, _ROUTE_PARAMETER.sub(translate, route)) if segment]
    return "/" + "/".join(segments)


def build_http_app(
    functions: list[HostedFunction[HttpTrigger]],
    invoker: Invoker,
    route_prefix: str,
    keys: FunctionKeys,
    cors: CorsPolicy | None,
    static_root: Path | None,
) -> web.Application:
    """An aiohttp application serving the functions under /{route_prefix}/{route}."""
    middlewares = [cors.middleware()] if cors else []
    app = web.Application(
        middlewares=[*middlewares, _method_mismatch_is_not_found], client_max_size=MAX_REQUEST_BODY_BYTES
    )
    app.router.add_get(HOST_STATUS_PATH, _host_status)
    resources: dict[str, web.Resource] = {}
    for function in functions:
        path = function_path(route_prefix, function.trigger.route)
        if path not in resources:
            resources[path] = app.router.add_resource(path)
        resource = resources[path]
        handler = _function_handler(function, invoker, keys)
        for method in function.trigger.methods or (hdrs.METH_ANY,):
            resource.add_route(method, handler)
    if static_root is not None:
        index_page = static_root / "index.html"
        if index_page.exists():

            async def serve_index(_request: web.Request) -> web.FileResponse:
                return web.FileResponse(index_page)

            app.router.add_get("/", serve_index)
        app.router.add_static("/", static_root)
    return app


@web.middleware
async def _method_mismatch_is_not_found(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    # The Functions host treats methods as route constraints, so a request with another method matches no route.
    try:
        return await handler(request)
    except web.HTTPMethodNotAllowed:
        raise web.HTTPNotFound() from None


async def _host_status(_request: web.Request) -> web.Response:
    return web.json_response({"state": "Running"})


def _function_handler(
    function: HostedFunction[HttpTrigger], invoker: Invoker, keys: FunctionKeys
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        if not keys.authorizes(function.trigger.auth_level, request):
            return web.Response(status=401)
        http_request = func.HttpRequest(
            method=request.method,
            url=str(request.url),
            headers=forwarded_headers(request),
            params=dict(request.query),
            route_params=dict(request.match_info),
            body=await request.read(),
        )
        try:
            result = await invoker.invoke(function, http_request, HTTP_REASON)
        except InvocationFailed:
            return web.Response(status=500)
        return _aiohttp_response(result)

    return handle


def forwarded_headers(request: web.Request) -> dict[str, str]:
    """The request's headers as the app sees them behind Azure's front end, which appends the address of
    the client it took the connection from to X-Forwarded-For: here, the socket peer. What the client
    sent in that header stays in front of it, as on Azure."""
    headers = {
        name: value for name, value in request.headers.items() if name.lower() != FORWARDED_FOR.lower()
    }
    sent = [value.strip() for value in request.headers.getall(FORWARDED_FOR, []) if value.strip()]
    peer = request.remote or ""
    headers[FORWARDED_FOR] = ", ".join([*sent, peer] if peer else sent)
    if not headers[FORWARDED_FOR]:
        del headers[FORWARDED_FOR]
    return headers


def _aiohttp_response(result: func.HttpResponse | str | bytes | None) -> web.Response:
    # The worker accepts a bare body as the return value of an HTTP function, as a 200.
    response = result if isinstance(result, func.HttpResponse) else func.HttpResponse(result)
    headers = dict(response.headers)
    if not any(name.lower() == "content-type" for name in headers):
        content_type = response.mimetype
        if response.charset:
            content_type += f"; charset={response.charset}"
        headers[hdrs.CONTENT_TYPE] = content_type
    return web.Response(status=response.status_code, headers=headers, body=response.get_body())
