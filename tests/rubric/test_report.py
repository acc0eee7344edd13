"""The local report aggregates the turns correctly and deterministically, and its strengths and
improvements point at real turns and real content."""

from __future__ import annotations

import re

from core.models import CRITERIA, CriterionScore, Evaluation, InterviewSetup
from core.rubric.evaluator import evaluate_answer, rounded_mean
from core.rubric.report import write_report
from tests.rubric.test_evaluator import (
    DECENT_STAR,
    EXCELLENT_STAR,
    EXCELLENT_TECHNICAL,
    PERFORMANCE,
    RETRY_SAFE,
    SHORT_TECHNICAL,
    VAGUE,
)

SETUP = InterviewSetup(role="backend", level="mid", kind="mixed", questions=4, candidate_name="Alex")
NO_RESULT_STORY = (
    "At my previous job our nightly import took six hours and often ran into the morning. I was responsible "
    "for the pipeline, so I profiled it, found that every row triggered its own query, and rewrote the import "
    "to load rows in batches of 1000 with a single COPY into PostgreSQL."
)


def _turns(*answers: tuple) -> list:
    return [
        (number, question, answer, evaluate_answer(question, answer))
        for number, (question, answer) in enumerate(answers, start=1)
    ]


MIXED_TURNS = _turns(
    (PERFORMANCE, EXCELLENT_STAR),
    (RETRY_SAFE, SHORT_TECHNICAL),
    (PERFORMANCE, NO_RESULT_STORY),
    (RETRY_SAFE, EXCELLENT_TECHNICAL),
)


def _remote(evaluation: Evaluation) -> Evaluation:
    return evaluation.model_copy(update={"scored_by": "remote-model"})


def _turn_numbers(text: str) -> set[int]:
    """Every number in "turn 2", "turns 1 and 3", "turns 1, 2 and 4"."""
    mentions = re.findall(r"turns? ((?:\d+(?:, | and )?)+)", text)
    return {int(number) for mention in mentions for number in re.findall(r"\d+", mention)}


def test_criteria_and_overall_are_means_to_one_decimal():
    report = write_report("Backend engineer", SETUP, MIXED_TURNS)
    evaluations = [evaluation for *_, evaluation in MIXED_TURNS]

    for criterion in CRITERIA:
        expected = sum(evaluation.score_of(criterion) for evaluation in evaluations) / len(evaluations)
        assert abs(report.criteria[criterion] - expected) <= 0.05
        assert report.criteria[criterion] == rounded_mean(e.score_of(criterion) for e in evaluations)
    assert report.overall == rounded_mean(evaluation.overall for evaluation in evaluations)
    assert report.written_by == "local"


def test_one_answer_summary_per_turn_in_turn_order():
    report = write_report("Backend engineer", SETUP, list(reversed(MIXED_TURNS)))

    assert [answer.turn for answer in report.answers] == [1, 2, 3, 4]
    for answer, (number, question, _, evaluation) in zip(report.answers, MIXED_TURNS, strict=True):
        assert (answer.turn, answer.question) == (number, question.text)
        assert (answer.overall, answer.improvement, answer.scored_by) == (
            evaluation.overall,
            evaluation.improvement,
            evaluation.scored_by,
        )


def test_report_is_deterministic_and_independent_of_turn_order():
    first = write_report("Backend engineer", SETUP, MIXED_TURNS)

    assert write_report("Backend engineer", SETUP, MIXED_TURNS) == first
    assert (
        write_report(
            "Backend engineer", SETUP, [MIXED_TURNS[2], MIXED_TURNS[0], MIXED_TURNS[3], MIXED_TURNS[1]]
        )
        == first
    )


def test_strengths_and_improvements_are_two_to_four_items_about_real_turns():
    report = write_report("Backend engineer", SETUP, MIXED_TURNS)

    assert 2 <= len(report.strengths) <= 4
    assert 2 <= len(report.improvements) <= 4
    for item in report.strengths + report.improvements:
        assert _turn_numbers(item), item
        assert _turn_numbers(item) <= {1, 2, 3, 4}, item


def test_strengths_rest_on_evidence_from_the_best_turns():
    report = write_report("Backend engineer", SETUP, MIXED_TURNS)
    impact = next(strength for strength in report.strengths if strength.startswith("Impact"))

    assert "5/5 in turns 1 and 4" in impact
    assert "72%" in impact
    assert any("“Measured before optimising”" in strength for strength in report.strengths)


def test_improvements_name_missed_key_points_and_missing_star_results():
    report = write_report("Backend engineer", SETUP, MIXED_TURNS)
    text = " ".join(report.improvements)

    assert "“Handling timeouts and partial failure” (turn 2)" in text
    assert "turn 3 had no clear result" in text
    assert "End with the outcome, measured" in text


def test_scored_locally_lists_the_turns_the_local_evaluator_scored():
    turns = [
        (number, question, answer, _remote(evaluation) if number % 2 == 0 else evaluation)
        for number, question, answer, evaluation in MIXED_TURNS
    ]
    report = write_report("Backend engineer", SETUP, turns)

    assert report.scored_locally == [1, 3]
    assert [answer.scored_by for answer in report.answers] == [
        "local",
        "remote-model",
        "local",
        "remote-model",
    ]


def test_summary_addresses_the_candidate_with_role_level_and_score():
    report = write_report("Backend engineer", SETUP, MIXED_TURNS)

    assert report.summary.startswith("Alex, you answered 4 questions")
    assert "backend" in report.summary
    assert "mid-level" in report.summary
    assert f"{report.overall} out of 5" in report.summary
    assert 2 <= report.summary.count(". ") + 1 <= 3


def test_summary_without_a_name_uses_the_role_title():
    setup = InterviewSetup(role="data-scientist", level="senior", kind="behavioral")
    report = write_report("Data scientist", setup, _turns((PERFORMANCE, DECENT_STAR)))

    assert report.summary.startswith("You answered 1 question in this behavioral interview")
    assert "senior data scientist" in report.summary


def test_a_title_keeps_its_acronyms_inside_a_sentence():
    setup = InterviewSetup(role="devops-sre", level="mid", kind="technical")
    report = write_report("DevOps / SRE engineer", setup, _turns((RETRY_SAFE, SHORT_TECHNICAL)))

    assert "mid-level DevOps / SRE engineer role" in report.summary


def test_a_single_turn_report_mirrors_its_evaluation():
    turns = _turns((PERFORMANCE, VAGUE))
    (_, _, _, evaluation) = turns[0]
    report = write_report("Backend engineer", SETUP, turns)

    assert report.criteria == {criterion: float(evaluation.score_of(criterion)) for criterion in CRITERIA}
    assert report.overall == evaluation.overall
    assert report.scored_locally == [1]
    assert len(report.answers) == 1
    assert 2 <= len(report.strengths) <= 4 and 2 <= len(report.improvements) <= 4
    assert all(_turn_numbers(item) == {1} for item in report.strengths + report.improvements)


def test_an_even_record_still_gets_two_strengths_and_two_improvements():
    even = Evaluation(
        **{criterion: CriterionScore(score=3, reason=f"Middling {criterion}.") for criterion in CRITERIA},
        overall=3.0,
        evidence=[],
        improvement="Say what you did yourself.",
        covered_points=["Idempotency keys or idempotent operations"],
        missed_points=[],
        scored_by="remote-model",
    )
    report = write_report("Backend engineer", SETUP, [(1, RETRY_SAFE, SHORT_TECHNICAL, even)])

    assert len(report.strengths) == 2 and 2 <= len(report.improvements) <= 4
    assert report.scored_locally == []
    assert "even across all five criteria" in report.summary


def test_no_turns_gives_an_empty_report():
    report = write_report("Backend engineer", SETUP, [])

    assert report.overall == 0
    assert report.answers == [] and report.scored_locally == []
    assert "No answers" in report.summary
