"""What `make chaos` counts after each fault, from what the client saw and what the fakes received: answers
lost, model calls spent twice, and how long the system took to recover. Pure functions, no I/O."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from testing.model_replies import batch_sections, prompt_text

_ANSWER = re.compile(r"<candidate_answer>\n(.*?)\n</candidate_answer>", re.S)
# Lines this long are prompt text (instructions, questions, answers), not a wire's own short strings
# ("user", "json_object", a model's name), so a job sent over two wire formats has one fingerprint.
_PROMPT_LINE = 30


@dataclass(frozen=True)
class Acked:
    """An answer the client got 200 or 202 for: the app said it has it."""

    interview_id: str
    token: str
    turn: int
    answer: str


@dataclass(frozen=True)
class Losses:
    missing: int  # not in the transcript, or another text in its place
    unscored: int  # in the transcript, never scored

    @property
    def lost(self) -> int:
        return self.missing + self.unscored


def losses(acked: Iterable[Acked], transcripts: Mapping[str, Sequence[Mapping[str, Any]] | None]) -> Losses:
    """Compare every acknowledged answer with its interview's final transcript (GET /api/interviews/{id}
    `transcript`; None when the interview could not be read at all, which loses all its answers)."""
    missing = unscored = 0
    for answer in acked:
        entries = transcripts.get(answer.interview_id)
        entry = next((e for e in entries or () if e.get("turn") == answer.turn), None)
        if entry is None or (entry.get("answer") or "") != answer.answer:
            missing += 1
        elif entry.get("status") != "done" or not entry.get("feedback"):
            unscored += 1
    return Losses(missing, unscored)


def job_fingerprints(body: Any) -> list[str]:
    """The jobs one provider request carries: one per answer for an evaluation (batched or not), else one
    for the prompt (a report, a custom role's questions), whichever provider and wire it went to."""
    sections = batch_sections(body)
    if sections:
        return ["evaluate:" + _digest(text) for _, text in sections]
    text = prompt_text(body)
    if "LlmEvaluation" in text and (found := _ANSWER.search(text)):
        return ["evaluate:" + _digest(found.group(1))]
    kind = "report" if "LlmReview" in text else "questions" if "LlmQuestions" in text else "other"
    lines = sorted({line for line in text.splitlines() if len(line) >= _PROMPT_LINE})
    return [f"{kind}:" + _digest("\n".join(lines))]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Twice:
    jobs: int  # jobs a provider answered more than once
    calls: int  # the calls spent on a job already answered
    calls_by_kind: dict[str, int]  # the same calls by kind of job (evaluate, report, questions)


def calls_twice(answered: Iterable[Any]) -> Twice:
    """Given the bodies of the provider calls that were answered (the fakes' "ok" requests), what was
    answered more than once."""
    seen: Counter[str] = Counter()
    for body in answered:
        seen.update(job_fingerprints(body))
    again = {job: count - 1 for job, count in seen.items() if count > 1}
    by_kind: Counter[str] = Counter()
    for job, surplus in again.items():
        by_kind[job.split(":", 1)[0]] += surplus
    return Twice(len(again), sum(again.values()), dict(by_kind))


@dataclass(frozen=True)
class Attempt:
    """One HTTP request of an interview: when it started and ended (seconds on the run's clock)."""

    started: float
    ended: float
    ok: bool


@dataclass(frozen=True)
class Wait:
    """One thing a candidate waited for: a new interview, a turn's feedback (answer to result), a report."""

    started: float
    ended: float


def recovery_seconds(attempts: Sequence[Attempt], waits: Sequence[Wait], since: float) -> float:
    """Seconds from `since` (the fault's end; a kill's moment) until the system is whole again: no request
    fails after it, and everything a candidate was already waiting for at `since` has arrived."""
    last_failure = max((a.ended for a in attempts if not a.ok and a.ended >= since), default=since)
    last_owed = max((w.ended for w in waits if w.started <= since <= w.ended), default=since)
    return max(0.0, max(last_failure, last_owed) - since)


@dataclass(frozen=True)
class Row:
    scenario: str
    started: int
    completed: int
    failed: int
    acked: int
    lost: int
    jobs_twice: int
    calls_twice: int
    redelivered: int
    recovery: float


COLUMNS = (
    "scenario",
    "interviews",
    "completed",
    "failed",
    "answers acked",
    "lost",
    "jobs twice",
    "model calls twice",
    "redelivered",
    "recovery s",
)


def render(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table."""
    cells = [
        [
            row.scenario,
            str(row.started),
            str(row.completed),
            str(row.failed),
            str(row.acked),
            str(row.lost),
            str(row.jobs_twice),
            str(row.calls_twice),
            str(row.redelivered),
            f"{row.recovery:.1f}",
        ]
        for row in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(COLUMNS)]

    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    rule = "| " + " | ".join("-" * w for w in widths) + " |"
    return "\n".join([line(COLUMNS), rule, *(line(c) for c in cells)])
