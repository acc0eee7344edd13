"""The follow-up chosen for an answer: what the evaluation found missing decides the gap, and the bank's
follow-up sharing most word stems with the gap is asked, or the gap's own template when none does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.interview.follow_ups import (
    STRONG_OVERALL,
    best_fit,
    choose_follow_up,
    follow_up_for,
    rules,
    stems,
)
from core.interview.question_bank import question_bank
from core.models import CriterionScore, Evaluation, InterviewRecord, InterviewSetup, Question
from core.rubric.evaluator import evaluate_answer
from testing.interview_client import RESULT_SENTENCE, story_without_result


def _bank(question_id: str) -> Question:
    return question_bank().question(question_id)


def _scored(evaluation: Evaluation, **scores: int) -> Evaluation:
    """The evaluation with some criteria's scores set, to test one rule at a time."""
    changed = {
        name: CriterionScore(score=score, reason=f"{name} set to {score}") for name, score in scores.items()
    }
    return evaluation.model_copy(update=changed)


def test_a_story_without_its_result_gets_the_banks_follow_up_about_the_outcome() -> None:
    question = _bank("backend-b-01")  # its follow-ups: doing differently; how long to restore service
    story = story_without_result(question)
    evaluation = evaluate_answer(question, story)
    assert evaluation.impact.score == 1 and evaluation.relevance.score == 5

    follow_up = choose_follow_up(question, story, evaluation)

    assert follow_up is not None and follow_up.gap == "result"
    assert follow_up.text == "How long did it take to restore service?"
    assert "result" in follow_up.reason and evaluation.impact.reason in follow_up.reason


def test_the_same_story_with_its_result_gets_none() -> None:
    question = _bank("backend-b-01")
    story = f"{story_without_result(question)} {RESULT_SENTENCE}"
    evaluation = evaluate_answer(question, story)
    assert evaluation.overall >= STRONG_OVERALL
    assert choose_follow_up(question, story, evaluation) is None


def test_an_answer_that_misses_the_key_points_is_asked_about_the_first_missed_one() -> None:
    question = _bank("backend-t-01")
    answer = (
        "I would put a load balancer in front and log every request carefully, and I would add monitoring "
        "dashboards so that we see errors. Then I would write documentation for the clients."
    )
    evaluation = evaluate_answer(question, answer)
    assert evaluation.relevance.score <= 2

    follow_up = choose_follow_up(question, answer, evaluation)

    assert follow_up is not None and follow_up.gap == "key_point"
    first_missed = question.key_points[0]
    assert first_missed.text in evaluation.missed_points and first_missed.text in follow_up.reason
    # "request" is in the key point's paraphrases ("same request twice") and in this follow-up only.
    assert follow_up.text == "What happens if the client retries while the first request is still running?"


def test_with_no_bank_follow_up_sharing_a_stem_the_gaps_template_is_asked() -> None:
    question = _bank("backend-b-01").model_copy(update={"follow_ups": ["Anything else?", "Why?"]})
    story = story_without_result(question)
    follow_up = choose_follow_up(question, story, evaluate_answer(question, story))
    assert follow_up is not None and follow_up.text == rules().templates["result"]


def test_a_technical_answer_without_consequences_is_asked_what_it_buys_or_costs() -> None:
    question = _bank("backend-t-01")
    evaluation = _scored(evaluate_answer(question, "x"), relevance=4, impact=1).model_copy(
        update={"overall": 3.0, "scored_by": "local", "flags": [], "missed_points": []}
    )
    follow_up = choose_follow_up(question, "an answer", evaluation)
    assert follow_up is not None and follow_up.gap == "impact"
    # "happens" shares the stem of the impact words' "happen".
    assert follow_up.text == "What happens if the client retries while the first request is still running?"


def test_a_story_missing_its_first_person_action_is_asked_what_the_candidate_did() -> None:
    question = _bank("backend-b-01")
    story = (
        "Two years ago at a payments company the checkout was down during a sale. The team looked at the "
        "logs, rolled back the deploy and wrote a postmortem. As a result, errors dropped by 40%."
    )
    evaluation = _scored(evaluate_answer(question, story), relevance=4, impact=5).model_copy(
        update={"overall": 3.5, "flags": []}
    )
    follow_up = choose_follow_up(question, story, evaluation)
    assert follow_up is not None and follow_up.gap == "action"


@pytest.mark.parametrize(
    "change",
    [
        {"overall": STRONG_OVERALL},
        {"scored_by": "template"},
        {"flags": ["addresses_grader"]},
        {"flags": ["term_list"]},
    ],
)
def test_no_follow_up_on_strong_declined_or_gaming_answers(change: dict[str, object]) -> None:
    question = _bank("backend-b-01")
    story = story_without_result(question)
    evaluation = evaluate_answer(question, story)
    assert choose_follow_up(question, story, evaluation) is not None
    assert choose_follow_up(question, story, evaluation.model_copy(update=change)) is None


def test_an_interview_with_follow_ups_off_never_gets_one() -> None:
    question = _bank("backend-b-01")
    story = story_without_result(question)
    evaluation = evaluate_answer(question, story)
    record = InterviewRecord(
        id="i",
        setup=InterviewSetup(role="backend", level="mid", kind="behavioral", questions=3),
        token_hash="h",
        created_at=datetime.now(UTC),
        question_ids=[question.id, "backend-b-02", "backend-b-03"],
        greeting="hi",
    )
    assert follow_up_for(record, 1, evaluation, story) is not None
    off = record.model_copy(update={"setup": record.setup.model_copy(update={"follow_ups": False})})
    assert follow_up_for(off, 1, evaluation, story) is None


def test_stems_leave_out_short_and_stop_words_and_the_first_best_fit_wins() -> None:
    assert stems(["What would you measure, and how?"]) == frozenset({"measu"})
    gap = stems(["measured results"])
    assert best_fit(["How did you measure it?", "What were the results you measured?"], gap) == (
        "What were the results you measured?"
    )
    assert best_fit(["How did you measure it?", "Did you measure it?"], gap) == "How did you measure it?"
    assert best_fit(["Why?"], gap) is None


def test_every_bank_question_gets_a_follow_up_for_every_gap_it_can_have() -> None:
    for question in question_bank().all_questions():
        base = evaluate_answer(question, "x").model_copy(update={"overall": 2.0, "flags": []})
        impact_gap = _scored(base, relevance=5, impact=1).model_copy(update={"missed_points": []})
        point_gap = _scored(base, relevance=1, impact=5).model_copy(
            update={"missed_points": [question.key_points[-1].text]}
        )
        for evaluation in (impact_gap, point_gap):
            follow_up = choose_follow_up(question, "x", evaluation)
            assert follow_up is not None and follow_up.text and follow_up.reason
