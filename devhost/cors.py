"""CORS for the HTTP server, configured like Core Tools by local.settings.json Host.CORS."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

_PREFLIGHT_MAX_AGE_SECONDS = "86400"
LOCAL_HOSTNAMES = frozenset({"localhost", "127.0.0.1", "::1"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class CorsPolicy:
    """Origins allowed to call the host from a browser; "*" allows any origin. Without a configured list
    (local.settings.json Host.CORS), pages served from this machine only (`localhost_only`)."""

    allowed_origins: frozenset[str]
    allow_credentials: bool = False
    allow_localhost: bool = False

    @classmethod
    def localhost_only(cls) -> "CorsPolicy":
        """http(s)://localhost, 127.0.0.1 or [::1], on any port."""
        return cls(frozenset(), allow_localhost=True)

    @classmethod
    def parse(cls, origins: str, allow_credentials: bool = False) -> "CorsPolicy":
        """Parse Host.CORS: comma-separated origins, or "*"."""
        return cls(
            frozenset(origin.strip().rstrip("/") for origin in origins.split(",") if origin.strip()),
            allow_credentials,
        )

    def allows(self, origin: str) -> bool:
        if "*" in self.allowed_origins or origin.rstrip("/") in self.allowed_origins:
            return True
        return self.allow_localhost and _is_local(origin)

    def response_headers(self, origin: str) -> dict[str, str]:
        # A credentialed response may not use the wildcard, so the origin is echoed.
        any_origin = "*" in self.allowed_origins and not self.allow_credentials
        headers: dict[str, str] = {hdrs.ACCESS_CONTROL_ALLOW_ORIGIN: "*" if any_origin else origin}
        if not any_origin:
            headers[hdrs.VARY] = hdrs.ORIGIN
        if self.allow_credentials:
            headers[hdrs.ACCESS_CONTROL_ALLOW_CREDENTIALS] = "true"
        return headers

    def middleware(self) -> Middleware:
        """aiohttp middleware answering preflights and decorating responses for allowed origins."""

        @web.middleware
        async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            origin = request.headers.get(hdrs.ORIGIN)
            if origin is None or not self.allows(origin):
                return await handler(request)
            requested_method = request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_METHOD)
            if request.method == hdrs.METH_OPTIONS and requested_method:
                preflight = web.Response(status=204, headers=self.response_headers(origin))
                preflight.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = requested_method
                requested_headers = request.headers.get(hdrs.ACCESS_CONTROL_REQUEST_HEADERS)
                if requested_headers:
                    preflight.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = requested_headers
                preflight.headers[hdrs.ACCESS_CONTROL_MAX_AGE] = _PREFLIGHT_MAX_AGE_SECONDS
                return preflight
            try:
                response = await handler(request)
            except web.HTTPException as error:
                error.headers.update(self.response_headers(origin))
                raise
            response.headers.update(self.response_headers(origin))
            return response

        return cors_middleware


def _is_local(origin: str) -> bool:
    try:
        parts = urlsplit(origin)
        return (
            parts.scheme in ("http", "https")
            and parts.hostname in LOCAL_HOSTNAMES
            and not parts.path.strip("/")
        )
    except ValueError:  # a malformed port or address
        return False
