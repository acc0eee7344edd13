"""The one settings object, read from the environment (App Settings on Azure, local.settings.json locally)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, Field, SecretStr

# The data shipped with the app: the question bank, the interviewer's phrases, the provider catalogue.
DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class Settings(BaseModel):
    storage_connection: str = Field(
        description="AzureWebJobsStorage: a connection string (Azurite, keys); empty with identity."
    )
    storage_queue_uri: str = Field(description="AzureWebJobsStorage__queueServiceUri, with identity.")
    storage_table_uri: str = Field(description="AzureWebJobsStorage__tableServiceUri, with identity.")
    storage_client_id: str = Field(
        description="AzureWebJobsStorage__clientId: the user-assigned identity; empty: the default one."
    )
    # Checked where Redis is first used, so tools that only touch storage (the poison CLI) run without it.
    redis_url: str = Field(description="REDIS_URL: cache, coordination and counters; never the record.")
    redis_backup_url: str = Field(description="REDIS_BACKUP_URL: used only while the primary is down.")
    redis_timeout_seconds: float = Field(description="How long a Redis command may take before failover.")
    redis_retry_primary_seconds: float = Field(
        description="How long the backup serves before the primary is tried."
    )
    public_api_base: str = Field(description="PUBLIC_API_BASE: how clients reach the API, for poll URLs.")
    interviews_table: str
    usage_table: str
    queue_message_encoding: str = Field(description="Must match host.json extensions.queues.messageEncoding.")
    cache_ttl_seconds: dict[str, int] = Field(description="Seconds a cached result lives, by kind of job.")
    coalesce_wait_seconds: float = Field(
        description="How long a job waits for an identical job in flight before calling a provider itself."
    )
    remote_jobs: frozenset[str] | None = Field(
        description="REMOTE_JOBS: a fixed policy, the kinds of job sent to remote LLMs (the local evaluator "
        "does the rest); unset: the governor decides per job within the day's budget."
    )
    governor_margin: float = Field(
        description="GOVERNOR_MARGIN: the share of the day's free capacity the governor never grants."
    )
    governor_day_seconds: float = Field(
        description="GOVERNOR_DAY_SECONDS: the governor's day (86400); shorter only to compress a simulation."
    )
    governor_day_origin: float = Field(
        description="GOVERNOR_DAY_ORIGIN: when the governor's first day starts, in epoch seconds (0: UTC days)."
    )
    max_wait_seconds: int = Field(description="Longest long-poll a client may ask for.")
    usage_flush_seconds: float = Field(
        description="USAGE_FLUSH_SECONDS: counts are written together this long after the first (0: at once)."
    )
    retry_after_seconds: int
    ops_key: SecretStr = Field(
        description="OPS_KEY: the ops endpoints' own key, sent as X-Ops-Key; empty: the ops endpoints answer 503."
    )
    # Per client (core/infra/client_limits.py); 0 turns a limit off.
    rate_limit_per_minute: float = Field(
        description="RATE_LIMIT_PER_MINUTE: writes (new interviews, answers) a client may send a minute."
    )
    rate_limit_burst: int = Field(description="RATE_LIMIT_BURST: writes a client may send at once.")
    daily_interviews_per_client: int = Field(
        description="DAILY_INTERVIEWS_PER_CLIENT: interviews a client may start a UTC day."
    )
    daily_custom_roles_per_client: int = Field(
        description="DAILY_CUSTOM_ROLES_PER_CLIENT: interviews for a custom role a client may start a UTC day."
    )
    retention_days: float = Field(
        description="RETENTION_DAYS: days an interview and its answers are kept after it was created; then its "
        "token stops working at once and the hourly sweep deletes it."
    )
    model_call_share_per_client: float = Field(
        description="MODEL_CALL_SHARE_PER_CLIENT: the share of the day's model calls (the free capacity of the "
        "configured keys) one client's interviews may cause; past it their jobs use the built-in evaluator."
    )
    # Callbacks (core/interview/callbacks.py): signed events POSTed to an interview's callback_url.
    callback_signing_key: SecretStr = Field(
        description="CALLBACK_SIGNING_KEY: each interview's callback secret is derived from it (never stored); "
        "empty: callbacks off (a callback_url is refused)."
    )
    callback_allowed_hosts: tuple[str, ...] = Field(
        description="CALLBACK_ALLOWED_HOSTS: host suffixes a callback_url must match (comma-separated); empty: any."
    )
    callback_retry_seconds: tuple[int, ...] = Field(
        description="CALLBACK_RETRY_SECONDS: the waits before each retry of a failed delivery; then it is failed."
    )
    callback_order_wait_seconds: int = Field(
        description="CALLBACK_ORDER_WAIT_SECONDS: how long an event waits for the earlier events of its interview."
    )
    callback_insecure_origins: frozenset[str] = Field(
        description="CALLBACK_INSECURE_ORIGINS: test and development only, refused on Azure: exact origins "
        "(scheme://host:port) exempt from the https and public-address checks, e.g. a local receiver."
    )


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"the setting {name} is required (see local.settings.json.example)")
    return value


def _storage_connection() -> str:
    """The connection string, unless the Functions host's identity-based settings are given instead."""
    if _env("AzureWebJobsStorage__queueServiceUri", ""):
        if not _env("AzureWebJobsStorage__tableServiceUri", ""):
            raise RuntimeError("AzureWebJobsStorage__tableServiceUri is required with __queueServiceUri")
        return ""
    return _env("AzureWebJobsStorage")


# follow_up: a model writes follow-up questions per question and gap, for the cache.
# example: a model writes one example answer per question, stored for every candidate who gets it.
REMOTE_JOB_KINDS = ("evaluate", "questions", "report", "follow_up", "example")


def _remote_jobs(raw: str | None) -> frozenset[str] | None:
    if raw is None or not raw.strip():
        return None  # no fixed policy: the governor decides
    kinds = frozenset(kind.strip() for kind in raw.split(",") if kind.strip())
    if unknown := kinds - set(REMOTE_JOB_KINDS):
        raise RuntimeError(f"REMOTE_JOBS may name only {', '.join(REMOTE_JOB_KINDS)}; not {sorted(unknown)}")
    return kinds


Number = TypeVar("Number", int, float)


def _non_negative(name: str, value: Number) -> Number:
    if value < 0:
        raise RuntimeError(f"the setting {name} must be 0 (off) or more, not {value}")
    return value


def _positive(name: str, value: float) -> float:
    if not value > 0:  # also refuses NaN
        raise RuntimeError(f"the setting {name} must be more than 0, not {value}")
    return value


def _host_suffixes(raw: str) -> tuple[str, ...]:
    return tuple(suffix.strip().lower().strip(".") for suffix in raw.split(",") if suffix.strip().strip("."))


def _retry_seconds(raw: str) -> tuple[int, ...]:
    try:
        waits = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError as error:
        raise RuntimeError(
            f"CALLBACK_RETRY_SECONDS must be whole seconds, comma-separated, not {raw!r}"
        ) from error
    # A storage queue hides a message for at most 7 days.
    if any(not 0 <= wait <= 7 * 24 * 3600 for wait in waits):
        raise RuntimeError(f"CALLBACK_RETRY_SECONDS must each be 0 to 604800 seconds, not {raw!r}")
    return waits


# Set by Azure on every App Service and Functions instance: what tells a deployed app from a local one.
AZURE_INSTANCE_SETTING = "WEBSITE_INSTANCE_ID"


def _insecure_origins(raw: str) -> frozenset[str]:
    """Exact origins a local receiver may use (tests and development only): never on Azure, where a
    mistaken setting would let a candidate's callback reach the app's own network."""
    origins = frozenset(origin.strip().lower().rstrip("/") for origin in raw.split(",") if origin.strip())
    if origins and os.environ.get(AZURE_INSTANCE_SETTING):
        raise RuntimeError("CALLBACK_INSECURE_ORIGINS is for tests and development only; unset it on Azure")
    return origins


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(
        storage_connection=_storage_connection(),
        storage_queue_uri=_env("AzureWebJobsStorage__queueServiceUri", ""),
        storage_table_uri=_env("AzureWebJobsStorage__tableServiceUri", ""),
        storage_client_id=_env("AzureWebJobsStorage__clientId", ""),
        redis_url=_env("REDIS_URL", ""),
        public_api_base=_env("PUBLIC_API_BASE", "/api").rstrip("/"),
        interviews_table=_env("INTERVIEWS_TABLE", "interviews"),
        usage_table=_env("USAGE_TABLE", "usage"),
        queue_message_encoding=_env("QUEUE_MESSAGE_ENCODING", "base64"),
        redis_backup_url=_env("REDIS_BACKUP_URL", ""),
        redis_timeout_seconds=float(_env("REDIS_TIMEOUT_SECONDS", "1.0")),
        redis_retry_primary_seconds=float(_env("REDIS_RETRY_PRIMARY_SECONDS", "5")),
        cache_ttl_seconds={
            "evaluate": int(_env("CACHE_TTL_EVALUATE", str(14 * 24 * 3600))),
            "questions": int(_env("CACHE_TTL_QUESTIONS", str(30 * 24 * 3600))),
            "follow_up": int(_env("CACHE_TTL_FOLLOW_UP", str(30 * 24 * 3600))),
        },
        coalesce_wait_seconds=float(_env("COALESCE_WAIT_SECONDS", "15")),
        remote_jobs=_remote_jobs(_env("REMOTE_JOBS", "")),
        governor_margin=_non_negative("GOVERNOR_MARGIN", float(_env("GOVERNOR_MARGIN", "0.03"))),
        governor_day_seconds=float(_env("GOVERNOR_DAY_SECONDS", "86400")),
        governor_day_origin=float(_env("GOVERNOR_DAY_ORIGIN", "0")),
        max_wait_seconds=int(_env("MAX_WAIT_SECONDS", "25")),
        usage_flush_seconds=float(_env("USAGE_FLUSH_SECONDS", "2")),
        retry_after_seconds=int(_env("RETRY_AFTER_SECONDS", "1")),
        ops_key=SecretStr(_env("OPS_KEY", "")),
        rate_limit_per_minute=_non_negative(
            "RATE_LIMIT_PER_MINUTE", float(_env("RATE_LIMIT_PER_MINUTE", "30"))
        ),
        rate_limit_burst=_non_negative("RATE_LIMIT_BURST", int(_env("RATE_LIMIT_BURST", "10"))),
        daily_interviews_per_client=_non_negative(
            "DAILY_INTERVIEWS_PER_CLIENT", int(_env("DAILY_INTERVIEWS_PER_CLIENT", "20"))
        ),
        daily_custom_roles_per_client=_non_negative(
            "DAILY_CUSTOM_ROLES_PER_CLIENT", int(_env("DAILY_CUSTOM_ROLES_PER_CLIENT", "5"))
        ),
        retention_days=_positive("RETENTION_DAYS", float(_env("RETENTION_DAYS", "30"))),
        model_call_share_per_client=_non_negative(
            "MODEL_CALL_SHARE_PER_CLIENT", float(_env("MODEL_CALL_SHARE_PER_CLIENT", "0.05"))
        ),
        callback_signing_key=SecretStr(_env("CALLBACK_SIGNING_KEY", "")),
        callback_allowed_hosts=_host_suffixes(_env("CALLBACK_ALLOWED_HOSTS", "")),
        callback_retry_seconds=_retry_seconds(_env("CALLBACK_RETRY_SECONDS", "1,5,30,120,600")),
        callback_order_wait_seconds=_non_negative(
            "CALLBACK_ORDER_WAIT_SECONDS", int(_env("CALLBACK_ORDER_WAIT_SECONDS", "900"))
        ),
        callback_insecure_origins=_insecure_origins(_env("CALLBACK_INSECURE_ORIGINS", "")),
    )
