"""One callback POST: the target checked again, short timeouts, no redirects, the response body unread."""

from __future__ import annotations

import aiohttp

from core.infra.callback_target import CallbackRefused, check_callback_url
from core.infra.connections import connections

# A receiver answers at once and does its work later (as every large webhook sender asks); one that does
# not is retried, not waited for.
TIMEOUT = aiohttp.ClientTimeout(total=5, connect=3)
USER_AGENT = "mock-interviews-callbacks/1"
MAX_ERROR_CHARS = 200


async def post(url: str, headers: dict[str, str], body: bytes) -> str | None:
    """None when the receiver took the event (any 2xx); otherwise why not, for the delivery's record.

    A redirect is a failure (it is not followed: it could point anywhere), and the response body is
    never read: only the status counts, so a receiver cannot make the app download anything."""
    try:
        await check_callback_url(url)
    except CallbackRefused as error:
        return f"refused: {error}"[:MAX_ERROR_CHARS]
    try:
        async with (
            connections()
            .callback_http()
            .post(
                url,
                data=body,
                headers={**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT},
                allow_redirects=False,
                timeout=TIMEOUT,
            ) as response
        ):
            return None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        return f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
