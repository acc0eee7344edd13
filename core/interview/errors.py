"""Errors a client can act on: each carries its HTTP status, a stable code and any headers it needs."""

from __future__ import annotations

from collections.abc import Mapping


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def conflict(code: str, message: str) -> ApiError:
    return ApiError(409, code, message)


def too_many(code: str, message: str, retry_after: int) -> ApiError:
    """429 with the seconds until the limit lets the client in again (Retry-After)."""
    return ApiError(429, code, message, {"Retry-After": str(max(1, retry_after))})
