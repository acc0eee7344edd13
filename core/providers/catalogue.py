"""The provider catalogue: data/providers.json, with keys and overrides from the environment."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.settings import DATA_DIR

AdapterName = Literal["openai", "gemini", "cloudflare", "local"]
log = logging.getLogger(__name__)


class ProviderEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9-]+$")
    adapter: AdapterName
    base_url: str = ""
    model: str = ""
    key_settings: list[str] = Field(default_factory=list, description="Environment settings, one key each.")
    account_setting: str | None = Field(
        default=None, description="Cloudflare: the setting with the account id."
    )
    rpm: int = Field(ge=1, description="Requests per minute, per key.")
    rpd: int = Field(ge=1, description="Requests per day, per key.")
    reset_timezone: str = "UTC"
    timeout_seconds: float = 12.0
    enabled: bool = True
    notes: str = ""

    @field_validator("reset_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.reset_timezone)


@dataclass(frozen=True)
class Slot:
    """One provider with one key: the unit that quotas, cool-downs and stats are kept for."""

    entry: ProviderEntry
    key_index: int
    api_key: str
    account_id: str | None

    @property
    def id(self) -> str:
        return f"{self.entry.name}#{self.key_index}"


def _override(entry: dict[str, Any], name: str) -> dict[str, Any]:
    prefix = f"PROVIDER_{name.upper().replace('-', '_')}_"
    fields = {"ENABLED": "enabled", "BASE_URL": "base_url", "MODEL": "model", "RPM": "rpm", "RPD": "rpd"}
    for suffix, field in fields.items():
        value = os.environ.get(prefix + suffix)
        if value is not None:
            entry[field] = value.lower() in ("1", "true", "yes") if field == "enabled" else value
    return entry


def load_catalogue(path: Path | None = None) -> list[ProviderEntry]:
    source = path or Path(os.environ.get("PROVIDERS_FILE") or DATA_DIR / "providers.json")
    raw = json.loads(source.read_text("utf-8"))["providers"]
    return [ProviderEntry.model_validate(_override(dict(entry), entry["name"])) for entry in raw]


def slots_of(entries: list[ProviderEntry]) -> list[Slot]:
    """Every usable (provider, key); an entry without its keys is skipped with one log line."""
    slots: list[Slot] = []
    for entry in entries:
        if not entry.enabled or entry.adapter == "local":
            continue
        keys = [(index, os.environ.get(setting, "")) for index, setting in enumerate(entry.key_settings)]
        present = [(index, key) for index, key in keys if key]
        account = os.environ.get(entry.account_setting, "") if entry.account_setting else None
        if not present or account == "":
            missing = [setting for setting, (_, key) in zip(entry.key_settings, keys, strict=True) if not key]
            if account == "":
                missing.append(entry.account_setting or "")
            log.info("provider %s skipped: no %s set", entry.name, " / ".join(missing))
            continue
        slots.extend(Slot(entry, index, key, account) for index, key in present)
    return slots


@lru_cache(maxsize=1)
def configured_slots() -> tuple[Slot, ...]:
    return tuple(slots_of(load_catalogue()))
