"""Function and master keys guarding HTTP functions whose authLevel is not anonymous."""

import hmac
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

import azure.functions as func
from aiohttp import web

FUNCTION_KEY_SETTING = "DEVHOST_FUNCTION_KEY"
MASTER_KEY_SETTING = "DEVHOST_MASTER_KEY"
KEY_HEADER = "x-functions-key"
KEY_QUERY_PARAMETER = "code"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FunctionKeys:
    function_key: str | None
    master_key: str | None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> "FunctionKeys":
        return cls(environ.get(FUNCTION_KEY_SETTING) or None, environ.get(MASTER_KEY_SETTING) or None)

    def warn_about_missing_keys(self, auth_levels: set[func.AuthLevel]) -> None:
        """Say at start-up why protected routes will answer 401 to every caller."""
        if self.master_key is None and func.AuthLevel.ADMIN in auth_levels:
            logger.warning("%s is not set: admin-level functions reject every request", MASTER_KEY_SETTING)
        if self.function_key is None and func.AuthLevel.FUNCTION in auth_levels:
            accepted = "reject every request" if self.master_key is None else "accept only the master key"
            logger.warning("%s is not set: function-level functions %s", FUNCTION_KEY_SETTING, accepted)

    def authorizes(self, level: func.AuthLevel, request: web.Request) -> bool:
        if level == func.AuthLevel.ANONYMOUS:
            return True
        presented = request.headers.get(KEY_HEADER) or request.query.get(KEY_QUERY_PARAMETER)
        if presented is None:
            return False
        accepted = (
            [self.master_key] if level == func.AuthLevel.ADMIN else [self.function_key, self.master_key]
        )
        return any(
            key is not None and hmac.compare_digest(presented.encode(), key.encode()) for key in accepted
        )
