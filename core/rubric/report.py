"""The local final report: the per-answer evaluations rolled up into scores, strengths, improvements and a
summary addressed to the candidate. Deterministic, like the evaluator it summarises."""

from __future__ import annotations

from core.models import CRITERIA, AnswerSummary, Criterion, Evaluation, InterviewSetup, Question, Report
from core.rubric.cues import IMPROVEMENT_PRIORITY, STAR_ADVICE
from core.rubric.evaluator import (
    missing_star_parts,
    rounded_mean,
    weakest_criterion,
)
from core.rubric.matching import join_words, quoted

WRITTEN_BY = "local"
STRONG_SCORE = 4
MAX_ITEMS = 4
MAX_NAMED_POINTS = 3
MAX_NAMED_TURNS = 2

Turn = tuple[int, Question, str, Evaluation]

# Ties for the best criterion go to the one that says most about the candidate.
STRENGTH_PRIORITY: tuple[Criterion, ...] = ("impact", "specificity", "relevance", "structure", "clarity")
LEVEL_TITLES = {"junior": "junior", "mid": "mid-level", "senior": "senior"}
# Used when the weakest answer's own improvement aimed at another criterion.
CRITERION_ADVICE: dict[Criterion, str] = {
    "relevance": "Check each answer against what the question asks before adding detail.",
    "structure": "Give every answer a shape: context, what you did and the result, or for technical questions "
    "steps, reasons and trade-offs.",
    "specificity": "Name the systems, tools and numbers instead of describing them in general terms.",
    "impact": "Close every answer with its effect: the measured outcome of a story, or what a technical choice "
    "buys and costs.",
    "clarity": "Aim for 150-300 words per answer, in short sentences without filler words.",
}


def write_report(title: str, setup: InterviewSetup, turns: list[Turn]) -> Report:
    """`title` names the role as the question bank does ("Backend engineer"), or the custom title."""
    ordered = sorted(turns, key=lambda turn: turn[0])
    if not ordered:
        return _empty_report(title, setup)
    criteria = {
        criterion: rounded_mean(turn[3].score_of(criterion) for turn in ordered) for criterion in CRITERIA
    }
    overall = rounded_mean(turn[3].overall for turn in ordered)
    return Report(
        overall=overall,
        criteria=criteria,
        strengths=_strengths(ordered, criteria),
        improvements=_improvements(ordered, criteria),
        answers=[
            AnswerSummary(
                turn=number,
                question=question.text,
                overall=evaluation.overall,
                improvement=evaluation.improvement,
                scored_by=evaluation.scored_by,
                scorer=evaluation.scorer,
            )
            for number, question, _, evaluation in ordered
        ],
        summary=_summary(title, setup, ordered, criteria, overall),
        written_by=WRITTEN_BY,
        scored_locally=[number for number, _, _, evaluation in ordered if evaluation.scored_by == "local"],
    )


def _empty_report(title: str, setup: InterviewSetup) -> Report:
    return Report(
        overall=0,
        criteria=dict.fromkeys(CRITERIA, 0.0),
        strengths=[],
        improvements=["Answer at least one question to get feedback."],
        answers=[],
        summary=f"No answers were recorded in this {_interview(title, setup)}, so there is nothing to score yet.",
        written_by=WRITTEN_BY,
        scored_locally=[],
    )


# --- strengths ----------------------------------------------------------------------------


def _strengths(turns: list[Turn], criteria: dict[Criterion, float]) -> list[str]:
    """The criteria with the best scores, with the turns that showed them, and the key points covered well
    (which is how relevance shows). A weak interview still gets its relatively best areas."""
    by_best = sorted(STRENGTH_PRIORITY, key=lambda criterion: -_best_score(turns, criterion))
    strong = [c for c in by_best if c != "relevance" and _best_score(turns, c) >= STRONG_SCORE]
    strong = strong[: MAX_ITEMS - 1]  # leaves room for the key points
    strengths = [_criterion_strength(turns, criterion) for criterion in strong]
    covered = _key_point_strength(turns, STRONG_SCORE) or _key_point_strength(turns, 1)
    strengths += [covered] if covered else []
    by_mean = sorted(STRENGTH_PRIORITY, key=lambda criterion: -criteria[criterion])
    relative = [_relative_strength(turns, criteria, c) for c in by_mean if c not in strong]
    return strengths + relative[: max(0, 2 - len(strengths))]


def _criterion_strength(turns: list[Turn], criterion: Criterion) -> str:
    best = _best_score(turns, criterion)
    best_turns = [turn for turn in turns if turn[3].score_of(criterion) == best]
    reason = getattr(best_turns[0][3], criterion).reason
    return (
        f"{criterion.capitalize()} ({best}/5 in {_turns_phrase([turn[0] for turn in best_turns])}): {reason}"
    )


def _relative_strength(turns: list[Turn], criteria: dict[Criterion, float], criterion: Criterion) -> str:
    best = _best_score(turns, criterion)
    best_turns = [turn[0] for turn in turns if turn[3].score_of(criterion) == best]
    return (
        f"Relatively strongest: {criterion} ({criteria[criterion]}/5 on average, {best}/5 in "
        f"{_turns_phrase(best_turns)})."
    )


def _key_point_strength(turns: list[Turn], min_relevance: int) -> str | None:
    per_turn = [
        f"{quoted(evaluation.covered_points)} (turn {number})"
        for number, _, _, evaluation in turns
        if evaluation.covered_points and evaluation.relevance.score >= min_relevance
    ]
    if not per_turn:
        return None
    label = "Key points covered well" if min_relevance >= STRONG_SCORE else "Key points you did cover"
    hidden = len(per_turn) - MAX_NAMED_TURNS
    more = f"; plus {hidden} more turn{'s' if hidden > 1 else ''}" if hidden > 0 else ""
    return f"{label}: {'; '.join(per_turn[:MAX_NAMED_TURNS])}{more}."


# --- improvements -------------------------------------------------------------------------


def _improvements(turns: list[Turn], criteria: dict[Criterion, float]) -> list[str]:
    """The weakest criterion first, then the missed key points and missing STAR parts, then the next
    weakest criteria while they are below strong."""
    ranked = sorted(
        CRITERIA, key=lambda criterion: (criteria[criterion], IMPROVEMENT_PRIORITY.index(criterion))
    )
    items = [_criterion_improvement(turns, criteria, ranked[0])]
    items += [item for item in (_missed_points_improvement(turns), _star_improvement(turns)) if item]
    for criterion in ranked[1:]:
        if len(items) >= 2 and criteria[criterion] >= STRONG_SCORE:
            break
        items.append(_criterion_improvement(turns, criteria, criterion))
    return list(dict.fromkeys(items))[:MAX_ITEMS]


def _criterion_improvement(turns: list[Turn], criteria: dict[Criterion, float], criterion: Criterion) -> str:
    # Missed key points and missing STAR parts are the most concrete form of these two criteria.
    pattern = {"relevance": _missed_points_improvement, "structure": _star_improvement}.get(criterion)
    if pattern and (concrete := pattern(turns)):
        return concrete
    number, _, _, worst = min(turns, key=lambda turn: (turn[3].score_of(criterion), turn[0]))
    if weakest_criterion(worst) == criterion:
        advice = worst.improvement
    else:
        advice = f"{getattr(worst, criterion).reason} {CRITERION_ADVICE[criterion]}"
    return f"{criterion.capitalize()} ({criteria[criterion]}/5 on average) — turn {number}: {advice}"


def _missed_points_improvement(turns: list[Turn]) -> str | None:
    """The most often missed key points, by name, with the turns that missed them."""
    missed_in: dict[str, list[int]] = {}
    for number, _, _, evaluation in turns:
        for point in evaluation.missed_points:
            missed_in.setdefault(point, []).append(number)
    if not missed_in:
        return None
    most_missed = sorted(missed_in, key=lambda point: (-len(missed_in[point]), missed_in[point][0]))
    named = [f"“{point}” ({_turns_phrase(missed_in[point])})" for point in most_missed[:MAX_NAMED_POINTS]]
    return f"Prepare the key points you missed: {join_words(named)}."


def _star_improvement(turns: list[Turn]) -> str | None:
    """The STAR part the behavioral answers most often lacked, with what to do about it."""
    lacking: dict[str, list[int]] = {part: [] for part in STAR_ADVICE}
    for number, question, answer, _ in turns:
        if question.kind == "behavioral":
            for part in missing_star_parts(answer):
                lacking[part].append(number)
    # STAR_ADVICE lists the parts most worth adding first, so ties go to them.
    part = max(lacking, key=lambda part: len(lacking[part]))
    if not lacking[part]:
        return None
    return f"Your stories in {_turns_phrase(lacking[part])} had no clear {part}. {STAR_ADVICE[part]}"


# --- summary and wording ------------------------------------------------------------------


def _summary(
    title: str, setup: InterviewSetup, turns: list[Turn], criteria: dict[Criterion, float], overall: float
) -> str:
    you = f"{setup.candidate_name}, you" if setup.candidate_name else "You"
    questions = f"{len(turns)} question{'s' if len(turns) > 1 else ''}"
    first = f"{you} answered {questions} in this {_interview(title, setup)} and scored {overall} out of 5 overall."
    strongest = max(STRENGTH_PRIORITY, key=lambda criterion: criteria[criterion])
    weakest = min(IMPROVEMENT_PRIORITY, key=lambda criterion: criteria[criterion])
    if criteria[strongest] == criteria[weakest]:
        return f"{first} Your scores were even across all five criteria, at {criteria[weakest]} out of 5."
    return (
        f"{first} Your strongest area was {strongest} ({criteria[strongest]}/5); "
        f"work on {weakest} ({criteria[weakest]}/5) first."
    )


def _interview(title: str, setup: InterviewSetup) -> str:
    role = title if setup.role == "custom" else _in_sentence(title)
    return f"{setup.kind} interview for a {LEVEL_TITLES[setup.level]} {role} role"


def _in_sentence(title: str) -> str:
    """A bank title inside a sentence: "Backend engineer" -> "backend engineer"; "QA engineer" and
    "DevOps / SRE engineer" keep their capitals."""
    first, _, rest = title.partition(" ")
    return f"{first.lower() if first[1:].islower() else first} {rest}".strip()


def _best_score(turns: list[Turn], criterion: Criterion) -> int:
    return max(evaluation.score_of(criterion) for _, _, _, evaluation in turns)


def _turns_phrase(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"turn {numbers[0]}"
    return f"turns {join_words([str(number) for number in numbers])}"
