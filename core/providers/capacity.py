"""Free capacity computed from the catalogue, not summed: how many calls a day each limit owner allows.

For each owner (a key alone, or the organisation, project or account its keys share), the calls a day
are the minimum over its limits of what each allows for a call of a given size:
  rpd;  rpm x 1,440;  tpd / tokens per call;  tpm x 1,440 / tokens per call;
  a daily budget / cost per call;  a monthly budget / 30 / cost per call.
Owners that share one limit (one quota_id) count once; more keys of a shared owner add nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import BaseModel, Field

from core.providers.catalogue import ProviderEntry, Slot
from core.providers.quota import CallSize, budget_cost

MINUTES_PER_DAY = 1_440
DAYS_PER_MONTH = 30


@dataclass(frozen=True)
class CallTokens:
    """The tokens one call of a kind of job spends, prompt and completion."""

    prompt: int
    completion: int

    @property
    def total(self) -> int:
        return self.prompt + self.completion

    def size(self) -> CallSize:
        """The call as the pool sizes one: this completion is its typical reply."""
        return CallSize(self.prompt, self.completion, typical_output_tokens=self.completion)


@dataclass(frozen=True)
class OwnerCapacity:
    owner: str
    entries: tuple[str, ...]
    keys: int
    calls_per_day: int
    binding: str  # the limit that allows the fewest calls
    by_limit: dict[str, int]  # calls a day each limit alone would allow


def calls_by_limit(entry: ProviderEntry, call: CallTokens) -> dict[str, int]:
    """What each of the entry's limits alone allows, in calls a day of this size."""
    allowed = {"rpm": entry.rpm * MINUTES_PER_DAY}
    if entry.rpd:
        allowed["rpd"] = entry.rpd
    if entry.tpd:
        allowed["tpd"] = entry.tpd // call.total
    if entry.tpm:
        allowed["tpm"] = entry.tpm * MINUTES_PER_DAY // call.total
    for budget in entry.budgets:
        cost = max(1, budget_cost(entry, budget, call.prompt, call.completion))
        per_day = budget.amount if budget.per == "day" else budget.amount // DAYS_PER_MONTH
        allowed[f"{budget.unit}/{budget.per}"] = per_day // cost
    return allowed


def owner_capacity(entry: ProviderEntry, call: CallTokens, keys: int, owner: str) -> OwnerCapacity:
    allowed = calls_by_limit(entry, call)
    binding = min(allowed, key=lambda limit: allowed[limit])
    return OwnerCapacity(owner, (entry.name,), keys, allowed[binding], binding, allowed)


def capacity(entries: Iterable[tuple[ProviderEntry, int]], call: CallTokens) -> list[OwnerCapacity]:
    """Per owner, for entries with how many keys each has: entries and keys that share an owner count
    once; a key-owned limit counts once per key."""
    owners: dict[str, OwnerCapacity] = {}
    for entry, keys in entries:
        if not entry.enabled or entry.adapter == "local" or keys == 0:
            continue
        shared = entry.quota_id or entry.name
        if entry.limit_owner == "key":
            for index in range(keys):
                found = owner_capacity(entry, call, 1, f"{shared}#{index}")
                owners[found.owner] = found
            continue
        found = owner_capacity(entry, call, keys, shared)
        if shared in owners:  # another model spending the same shared limit
            first = owners[shared]
            found = OwnerCapacity(
                shared,
                (*first.entries, entry.name),
                max(first.keys, keys),
                min(first.calls_per_day, found.calls_per_day),
                first.binding if first.calls_per_day <= found.calls_per_day else found.binding,
                first.by_limit if first.calls_per_day <= found.calls_per_day else found.by_limit,
            )
        owners[shared] = found
    return sorted(owners.values(), key=lambda owner: -owner.calls_per_day)


def catalogue_keys(entries: Iterable[ProviderEntry]) -> list[tuple[ProviderEntry, int]]:
    """Every entry with one key per key setting it names: the catalogue as shipped, all keys set."""
    return [(entry, len(entry.key_settings)) for entry in entries]


def configured_keys(slots: Iterable[Slot]) -> list[tuple[ProviderEntry, int]]:
    """The entries of the configured slots, with the keys actually set."""
    counted: dict[str, tuple[ProviderEntry, int]] = {}
    for slot in slots:
        entry, keys = counted.get(slot.entry.name, (slot.entry, 0))
        counted[slot.entry.name] = (entry, keys + 1)
    return list(counted.values())


def total_calls(owners: Iterable[OwnerCapacity]) -> int:
    return sum(owner.calls_per_day for owner in owners)


# Tokens per call of each kind of job, measured by `make bench-tokens` on 2026-11-30 (prompt tokens at
# 4 characters a token; completion tokens the size of a typical valid reply).
MEASURED_ON = "2026-11-30"
EVALUATION_CALL = CallTokens(prompt=512, completion=204)
BATCH_OF_8_CALL = CallTokens(prompt=8 * 308, completion=8 * 207)
REPORT_CALL = CallTokens(prompt=1873, completion=169)  # an interview of 6 answers, reviewed in one call
# The same review when it also scores the six answers (those only the built-in evaluator scored: most of
# them on a day the models cannot score every answer), measured on 2026-12-01. The room every owner
# keeps in the pool (`Quota(kept=...)`): a report as the governor's default sends one on such a day.
SCORING_REPORT_CALL = CallTokens(prompt=2069, completion=1081)
QUESTIONS_CALL = CallTokens(prompt=137, completion=1400)


class OwnerRow(BaseModel):
    owner: str
    entries: list[str]
    keys: int
    binding: str
    report_calls_per_day: int
    evaluation_calls_per_day: int = Field(description="Batched calls of 8 answers each.")


class CapacityView(BaseModel):
    """The day's free capacity by owner, for the ops page and the README's claims."""

    catalogue_checked_on: str
    tokens_measured_on: str
    tokens_per_call: dict[str, int]
    owners: list[OwnerRow]
    reports_per_day: int = Field(description="Interviews whose report a model can write in a day.")
    answers_per_day: int = Field(description="Answers a model can score in a day, in batches of 8.")


def capacity_view(entries: list[tuple[ProviderEntry, int]]) -> CapacityView:
    reports = {row.owner: row for row in capacity(entries, REPORT_CALL)}
    batches = {row.owner: row for row in capacity(entries, BATCH_OF_8_CALL)}
    owners = [
        OwnerRow(
            owner=owner,
            entries=list(row.entries),
            keys=row.keys,
            binding=row.binding,
            report_calls_per_day=row.calls_per_day,
            evaluation_calls_per_day=batches[owner].calls_per_day,
        )
        for owner, row in reports.items()
    ]
    checked = sorted({entry.checked_on for entry, _ in entries if entry.checked_on and entry.enabled})
    return CapacityView(
        catalogue_checked_on=checked[-1] if checked else "unknown",
        tokens_measured_on=MEASURED_ON,
        tokens_per_call={
            "evaluation": EVALUATION_CALL.total,
            "evaluation batch of 8": BATCH_OF_8_CALL.total,
            "report": REPORT_CALL.total,
            "questions": QUESTIONS_CALL.total,
        },
        owners=owners,
        reports_per_day=total_calls(reports.values()),
        answers_per_day=8 * total_calls(batches.values()),
    )
