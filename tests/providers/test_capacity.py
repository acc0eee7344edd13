"""Capacity is computed per limit owner from the catalogue's limits, never summed per key."""

from __future__ import annotations

from typing import Any

from core.providers.capacity import (
    REPORT_CALL,
    SCORING_REPORT_CALL,
    CallTokens,
    capacity,
    capacity_view,
    catalogue_keys,
    total_calls,
)
from core.providers.catalogue import Budget, NeuronRates, ProviderEntry, load_catalogue

CALL = CallTokens(prompt=3_000, completion=700)  # 3,700 tokens


def entry(name: str, **limits: Any) -> ProviderEntry:
    return ProviderEntry(name=name, adapter="openai", **({"rpm": 30} | limits))


def test_the_tightest_limit_binds() -> None:
    (groq,) = capacity(
        [(entry("groq", rpd=14_400, tpm=6_000, tpd=500_000, limit_owner="organisation"), 2)], CALL
    )
    assert (groq.calls_per_day, groq.binding) == (135, "tpd")  # 500,000 / 3,700, not 14,400 x 2
    assert groq.by_limit["rpd"] == 14_400 and groq.by_limit["tpm"] == 6_000 * 1_440 // 3_700


def test_keys_add_quota_only_when_each_key_owns_its_limits() -> None:
    shared = capacity([(entry("org", rpd=50, limit_owner="organisation"), 3)], CALL)
    per_key = capacity([(entry("keys", rpd=50, limit_owner="key"), 3)], CALL)
    assert total_calls(shared) == 50 and total_calls(per_key) == 150


def test_entries_that_share_one_quota_count_once() -> None:
    first = entry("free-a", rpd=50, limit_owner="account", quota_id="openrouter-free")
    second = entry("free-b", rpd=50, limit_owner="account", quota_id="openrouter-free")
    (owner,) = capacity([(first, 1), (second, 1)], CALL)
    assert owner.calls_per_day == 50 and owner.entries == ("free-a", "free-b")


def test_budgets_by_month_and_neurons_by_day() -> None:
    monthly = entry("cohere", budgets=[Budget(unit="requests", per="month", amount=1_000)])
    rates = NeuronRates(input_per_million=4_119, output_per_million=34_868)
    neurons = entry("cf", neurons=rates, budgets=[Budget(unit="neurons", per="day", amount=10_000)])
    found = {row.owner: row for row in capacity([(monthly, 1), (neurons, 1)], CALL)}
    assert found["cohere#0"].calls_per_day == 33
    assert found["cf#0"].calls_per_day == 10_000 // 37  # 12.4 + 24.4 = 36.8, so 37 neurons a call


def test_disabled_and_keyless_entries_add_nothing() -> None:
    assert capacity([(entry("off", rpd=99, enabled=False), 1), (entry("nokey", rpd=99), 0)], CALL) == []


def test_the_shipped_catalogue_has_a_dated_source_for_every_enabled_entry() -> None:
    entries = load_catalogue()
    for found in entries:
        if found.enabled and found.adapter != "local":
            assert found.source and found.checked_on, found.name
    view = capacity_view(catalogue_keys(entries))
    assert view.reports_per_day == sum(row.report_calls_per_day for row in view.owners) > 0


def test_the_kept_report_is_a_review_that_scores_six_answers_as_the_prompts_size_one() -> None:
    """The room every owner keeps (`Quota(kept=...)`) must hold the report the governor sends on a short
    day: its reply as the review request tells the pool, within a tenth."""
    from bench.tokens import measure

    row = measure(6)["report (6 reviewed and scored)"]
    kept = SCORING_REPORT_CALL.size()
    assert abs(kept.expected_output_tokens - row["told"]) <= row["told"] / 10
    assert abs(kept.prompt_tokens - row["prompt"]) <= row["prompt"] / 10
    assert kept.expected_tokens > REPORT_CALL.total  # it scores the answers too
