"""The one settings object, read from the environment (App Settings on Azure, local.settings.json locally)."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    storage_connection: str = Field(description="AzureWebJobsStorage: queues and the durable tables.")
    redis_url: str = Field(description="REDIS_URL: cache, coordination and counters; never the record.")
    # Checked where Redis is first used, so tools that only touch storage (the poison CLI) run without it.
    public_api_base: str = Field(description="PUBLIC_API_BASE: how clients reach the API, for poll URLs.")
    interviews_table: str
    usage_table: str
    queue_message_encoding: str = Field(description="Must match host.json extensions.queues.messageEncoding.")
    evaluation_cache_ttl: int = Field(description="Seconds a cached evaluation of an answer lives.")
    max_wait_seconds: int = Field(description="Longest long-poll a client may ask for.")
    retry_after_seconds: int


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"the setting {name} is required (see local.settings.json.example)")
    return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        storage_connection=_env("AzureWebJobsStorage"),
        redis_url=_env("REDIS_URL", ""),
        public_api_base=_env("PUBLIC_API_BASE", "/api").rstrip("/"),
        interviews_table=_env("INTERVIEWS_TABLE", "interviews"),
        usage_table=_env("USAGE_TABLE", "usage"),
        queue_message_encoding=_env("QUEUE_MESSAGE_ENCODING", "base64"),
        evaluation_cache_ttl=int(_env("EVALUATION_CACHE_TTL", str(7 * 24 * 3600))),
        max_wait_seconds=int(_env("MAX_WAIT_SECONDS", "25")),
        retry_after_seconds=int(_env("RETRY_AFTER_SECONDS", "1")),
    )
