"""The graded corpus that bench/feedback.py measures the evaluator against has the shape the grading
guide asks for: enough answers, questions and roles, every kind of answer for every question, grades 1-5,
and the answers that try to game the grader graded as non-answers. Fast: reads files, runs no service."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from core.interview.question_bank import question_bank
from core.rubric.matching import matches_term

CORPUS = Path(__file__).resolve().parents[2] / "data" / "graded" / "answers.jsonl"
FIELDS = {"question_id", "answer", "grade", "kind", "note"}
KINDS = {
    "strong",
    "good",
    "general",
    "vague",
    "non_answer",
    "plain_strong",
    "keyword_list",
    "off_topic",
    "addresses_grader",
    "rambling",
    "very_short",
    "very_long",
}
GAMING_KINDS = {"keyword_list", "off_topic", "addresses_grader"}
# The grade each kind must have where the kind itself fixes it (the others depend on what the answer says).
FIXED_GRADES = {
    "strong": 5,
    "good": 4,
    "general": 3,
    "vague": 2,
    "non_answer": 1,
    "keyword_list": 1,
    "off_topic": 1,
}


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    lines = CORPUS.read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_every_record_has_the_fields_and_a_grade_from_1_to_5(records: list[dict[str, Any]]) -> None:
    for record in records:
        assert record.keys() >= FIELDS, record
        assert isinstance(record["grade"], int) and 1 <= record["grade"] <= 5, record
        assert record["kind"] in KINDS, record
        assert record["answer"].strip() and record["note"].strip(), record
        assert "\n" not in record["note"], record


def test_ids_are_unique(records: list[dict[str, Any]]) -> None:
    ids = [record["id"] for record in records if "id" in record]
    assert len(ids) == len(set(ids))


def test_size_questions_and_roles(records: list[dict[str, Any]]) -> None:
    bank = question_bank()
    question_ids = {record["question_id"] for record in records}
    questions = [bank.question(question_id) for question_id in question_ids]  # KeyError: not in the bank
    roles = {question.id.rsplit("-", 2)[0] for question in questions}
    assert len(records) >= 150
    assert len(question_ids) >= 12
    assert len(roles) >= 5
    assert {question.kind for question in questions} == {"behavioral", "technical"}


def test_every_question_has_every_kind_and_every_grade(records: list[dict[str, Any]]) -> None:
    kinds: dict[str, set[str]] = defaultdict(set)
    grades: dict[str, set[int]] = defaultdict(set)
    for record in records:
        kinds[record["question_id"]].add(record["kind"])
        grades[record["question_id"]].add(record["grade"])
    for question_id in kinds:
        assert kinds[question_id] == KINDS, (question_id, KINDS - kinds[question_id])
        assert grades[question_id] == {1, 2, 3, 4, 5}, question_id


def test_gaming_answers_are_graded_1_or_2(records: list[dict[str, Any]]) -> None:
    for record in records:
        if record["kind"] in GAMING_KINDS:
            assert record["grade"] in (1, 2), record


def test_kinds_that_fix_the_grade_have_it(records: list[dict[str, Any]]) -> None:
    for record in records:
        if record["kind"] in FIXED_GRADES:
            assert record["grade"] == FIXED_GRADES[record["kind"]], record
        if record["kind"] == "plain_strong":
            assert record["grade"] >= 4, record


def test_plain_strong_answers_avoid_the_key_points_terms(records: list[dict[str, Any]]) -> None:
    """They show the idea without the term: none contains any of the question's key-point terms."""
    bank = question_bank()
    for record in records:
        if record["kind"] != "plain_strong":
            continue
        terms = [term for point in bank.question(record["question_id"]).key_points for term in point.terms]
        used = [term for term in terms if matches_term(record["answer"], term)]
        assert not used, (record.get("id"), used)


def test_off_topic_answers_belong_to_the_same_role(records: list[dict[str, Any]]) -> None:
    """Each names, in its note, the other question of the same role that it answers."""
    bank = question_bank()
    known = {question.id for question in bank.all_questions()}
    for record in records:
        if record["kind"] != "off_topic":
            continue
        named = [word.strip("(),.;:") for word in record["note"].split()]
        others = [word for word in named if word in known and word != record["question_id"]]
        assert others, record
        assert all(other.rsplit("-", 2)[0] == record["question_id"].rsplit("-", 2)[0] for other in others)


def test_the_corpus_is_balanced_enough_to_rank(records: list[dict[str, Any]]) -> None:
    counts = Counter(record["grade"] for record in records)
    assert min(counts[grade] for grade in range(1, 6)) >= 12, counts
