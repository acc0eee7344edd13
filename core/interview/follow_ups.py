"""Follow-up questions: one per question at most, asked when an answer misses a result, a key point or a
part of a STAR story, chosen deterministically from what the evaluation found missing.

The gap, in this order (the first that applies is asked about):
1. `key_point` — relevance is 2 or less (most of what the question expects is missing, and the other
   scores are capped for it): the first missed key point, in the bank's order;
2. `result` (behavioral) — the impact score is 2 or less: no outcome, or only a soft one;
   `impact` (technical) — the impact score is 1: no consequences, trade-offs or numbers;
3. `key_point` — relevance is 3 and a key point was missed;
4. `action`, `situation`, `task` (behavioral) — that STAR part is missing from the answer.
No follow-up at all for an answer scoring STRONG_OVERALL or more, for a template's feedback (a declined
question), or for an answer flagged as gaming the scorer (addresses the grader, a list of terms).

The bank holds two untagged follow-ups per question; the one that fits the gap is the one sharing most
word stems (the first five letters of each word of four letters or more, stop words left out) with
the gap's words: for `key_point` the missed point's text, terms and paraphrases, otherwise the gap's
word list in data/follow_ups.json. Ties go to the bank's order. When neither shares a stem with the gap,
the gap's own template in data/follow_ups.json is asked instead, so the question always aims at what
is missing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from core.interview.question_bank import interview_question
from core.models import Evaluation, FollowUp, FollowUpGap, InterviewRecord, KeyPoint, Question, StrictModel
from core.rubric.evaluator import missing_star_parts
from core.settings import DATA_DIR

# An answer this good gets no follow-up, whatever it missed: the interviewer moves on.
STRONG_OVERALL = 4.0
MAX_RESULT_IMPACT = 2
MAX_TECHNICAL_IMPACT = 1
MAX_KEY_POINT_RELEVANCE = 3
# Below this the answer is mostly beside the point: that comes before what it lacks otherwise.
MAX_OFF_POINT_RELEVANCE = 2
NO_FOLLOW_UP_FLAGS = frozenset({"addresses_grader", "term_list"})
STAR_GAPS: tuple[FollowUpGap, ...] = ("action", "situation", "task")
STEM_LETTERS = 5
MIN_WORD_LETTERS = 4
_WORD = re.compile(r"[a-z]+")


class FollowUpRules(StrictModel):
    gap_words: dict[str, list[str]]
    templates: dict[str, str]
    reasons: dict[str, str]
    stop_words: list[str]


@lru_cache(maxsize=1)
def rules() -> FollowUpRules:
    return FollowUpRules.model_validate_json((DATA_DIR / "follow_ups.json").read_text("utf-8"))


def stems(texts: Iterable[str]) -> frozenset[str]:
    """The word stems of some texts, as the fit of a follow-up to a gap compares them."""
    stop = frozenset(rules().stop_words)
    return frozenset(
        word[:STEM_LETTERS]
        for text in texts
        for word in _WORD.findall(text.casefold())
        if len(word) >= MIN_WORD_LETTERS and word not in stop
    )


def best_fit(candidates: list[str], gap: frozenset[str]) -> str | None:
    """The candidate sharing most stems with the gap (the first on a tie); None when none shares any."""
    scored = [(len(stems([text]) & gap), -index, text) for index, text in enumerate(candidates)]
    best = max(scored, default=None)
    return best[2] if best and best[0] > 0 else None


def _gap(
    question: Question, answer: str, evaluation: Evaluation
) -> tuple[FollowUpGap, KeyPoint | None] | None:
    behavioral = question.kind == "behavioral"
    missed = set(evaluation.missed_points)
    point = next((point for point in question.key_points if point.text in missed), None)
    if point is not None and evaluation.relevance.score <= MAX_OFF_POINT_RELEVANCE:
        return "key_point", point
    if behavioral and evaluation.impact.score <= MAX_RESULT_IMPACT:
        return "result", None
    if not behavioral and evaluation.impact.score <= MAX_TECHNICAL_IMPACT:
        return "impact", None
    if point is not None and evaluation.relevance.score <= MAX_KEY_POINT_RELEVANCE:
        return "key_point", point
    if behavioral:
        missing = set(missing_star_parts(answer))
        part = next((part for part in STAR_GAPS if part in missing), None)
        if part is not None:
            return part, None
    return None


def choose_follow_up(question: Question, answer: str, evaluation: Evaluation) -> FollowUp | None:
    """The follow-up to ask on this answer, or None when it misses nothing worth one."""
    if (
        evaluation.scored_by == "template"
        or evaluation.overall >= STRONG_OVERALL
        or NO_FOLLOW_UP_FLAGS & set(evaluation.flags)
    ):
        return None
    found = _gap(question, answer, evaluation)
    if found is None:
        return None
    gap, point = found
    words = [point.text, *point.terms, *point.paraphrases] if point else rules().gap_words[gap]
    text = best_fit(question.follow_ups, stems(words))
    point_text = point.text if point else ""
    if text is None:
        text = rules().templates[gap].format(point=point_text)
    reason = rules().reasons[gap].format(point=point_text, detail=evaluation.impact.reason)
    written_by = "bank" if text in question.follow_ups else "template"
    return FollowUp(
        text=text, reason=reason, gap=gap, point=point.text if point else None, written_by=written_by
    )


def gap_text(follow_up: FollowUp) -> str:
    """What a follow-up's answer missed, in words a model is asked about and its reply is cached by:
    the same for every answer to the question that misses the same thing."""
    if follow_up.point:
        return f"the key point “{follow_up.point}”"
    return GAP_WORDS[follow_up.gap]


GAP_WORDS: dict[FollowUpGap, str] = {
    "result": "the result of the story: how it ended, ideally measured",
    "impact": "what the approach buys and costs: consequences, trade-offs or numbers",
    "key_point": "a key point of the question",
    "situation": "the situation: the context and what was at stake",
    "task": "the task: what the candidate was responsible for",
    "action": "the candidate's own actions, in the first person",
}


def follow_up_for(record: InterviewRecord, turn: int, evaluation: Evaluation, answer: str) -> FollowUp | None:
    """The follow-up on a turn's answer, unless the interview turned them off."""
    if not record.setup.follow_ups:
        return None
    return choose_follow_up(interview_question(record, record.question_ids[turn - 1]), answer, evaluation)
