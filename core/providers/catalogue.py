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

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.settings import DATA_DIR

AdapterName = Literal["openai", "gemini", "cloudflare", "local"]
log = logging.getLogger(__name__)


# Who a provider counts a limit for: every key alone, or all keys of one organisation, Cloud project or
# account together (then more keys add no quota, and the counters are shared).
LimitOwner = Literal["key", "organisation", "project", "account"]
BudgetUnit = Literal["requests", "tokens", "neurons"]
BudgetPeriod = Literal["day", "month"]
# How a provider is asked for JSON: OpenAI's json_object mode, Gemini's responseMimeType, Cloudflare's
# JSON mode (response_format with a schema), or only by the prompt.
JsonMode = Literal["json_object", "gemini", "cloudflare", "prompt"]


class Budget(BaseModel):
    """A daily or monthly allowance beside the rate limits: requests, tokens or Cloudflare neurons."""

    model_config = ConfigDict(extra="forbid")

    unit: BudgetUnit
    per: BudgetPeriod
    amount: int = Field(ge=1)


class NeuronRates(BaseModel):
    """Cloudflare Workers AI prices a call in neurons by its tokens, per model."""

    model_config = ConfigDict(extra="forbid")

    input_per_million: float = Field(gt=0)
    output_per_million: float = Field(gt=0)


class ProviderEntry(BaseModel):
    """One model of one provider, with its free-tier limits as the provider states them."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9-]+$")
    provider: str = Field(default="", description="The vendor; entries of one vendor share its keys.")
    adapter: AdapterName
    base_url: str = ""
    model: str = ""
    key_settings: list[str] = Field(default_factory=list, description="Environment settings, one key each.")
    account_setting: str | None = Field(
        default=None, description="Cloudflare: the setting with the account id."
    )
    limit_owner: LimitOwner = Field(
        default="key", description="What the limits are counted per: keys of one owner share them."
    )
    quota_id: str | None = Field(
        default=None,
        description="Entries that spend one shared limit (OpenRouter's :free models) name the same id.",
    )
    rpm: int = Field(ge=1, description="Requests per minute.")
    rpd: int | None = Field(default=None, ge=1, description="Requests per day, if limited.")
    tpm: int | None = Field(default=None, ge=1, description="Tokens per minute (input and output).")
    tpd: int | None = Field(default=None, ge=1, description="Tokens per day.")
    budgets: list[Budget] = Field(default_factory=list)
    neurons: NeuronRates | None = None
    context_tokens: int = Field(default=8192, ge=1024, description="The model's context window.")
    json_mode: JsonMode = "json_object"
    reset_timezone: str = "UTC"
    timeout_seconds: float = 12.0
    enabled: bool = True
    source: str = Field(default="", description="Where the limits come from.")
    checked_on: str = Field(default="", description="When the limits were last checked (YYYY-MM-DD).")
    notes: str = ""

    @field_validator("reset_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)
        return value

    @model_validator(mode="after")
    def _limits_known_to_be_enabled(self) -> ProviderEntry:
        # A free tier with no stated daily or monthly bound is a guess: it stays off until one is known.
        if self.enabled and self.adapter != "local" and not (self.rpd or self.tpd or self.budgets):
            raise ValueError(f"{self.name}: enabled with no daily or monthly limit; set one or disable it")
        if any(budget.unit == "neurons" for budget in self.budgets) and self.neurons is None:
            raise ValueError(f"{self.name}: a neuron budget needs the model's neuron rates")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.reset_timezone)

    @property
    def vendor(self) -> str:
        return self.provider or self.name


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

    @property
    def owner_id(self) -> str:
        """The id the limits are counted under: the key's own, or the owner's that every key shares."""
        shared = self.entry.quota_id or self.entry.name
        return f"{shared}#{self.key_index}" if self.entry.limit_owner == "key" else shared


def _override(entry: dict[str, Any], name: str) -> dict[str, Any]:
    prefix = f"PROVIDER_{name.upper().replace('-', '_')}_"
    fields = {
        "ENABLED": "enabled",
        "BASE_URL": "base_url",
        "MODEL": "model",
        "RPM": "rpm",
        "RPD": "rpd",
        "TPM": "tpm",
        "TPD": "tpd",
    }
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
