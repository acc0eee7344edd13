"""The example answer's outline, built from a question's key points: a STAR outline for a behavioral
question, the points in order for a technical one; a model's example is labelled with its provider."""

from __future__ import annotations

from core.interview.example_answers import OUTLINE_LABEL, model_example, outline
from core.interview.question_bank import question_bank
from core.models import ExampleAuthor, Question


def _first(kind: str) -> Question:
    return next(question for question in question_bank().all_questions() if question.kind == kind)


def test_a_behavioral_outline_is_a_star_story_with_every_key_point_among_the_actions() -> None:
    question = _first("behavioral")
    example = outline(question)
    lines = example.text.splitlines()
    assert example.kind == "outline" and example.written_by is None and example.label == OUTLINE_LABEL
    parts = [line.split(":", 1)[0] for line in lines if not line.startswith("- ")]
    assert parts == ["Situation", "Task", "Action", "Result"]
    action, result = lines.index(next(line for line in lines if line.startswith("Action:"))), len(lines) - 1
    assert lines[action + 1 : result] == [f"- {point.text}" for point in question.key_points]


def test_a_technical_outline_is_the_key_points_in_the_banks_order() -> None:
    question = _first("technical")
    lines = outline(question).text.splitlines()
    points = [point.text for point in question.key_points]
    assert lines[: len(points)] == [f"{number}. {text}" for number, text in enumerate(points, start=1)]
    assert len(lines) == len(points) + 1  # and a closing line, the same for every question


def test_every_bank_question_has_an_outline_and_it_is_the_same_every_time() -> None:
    for question in question_bank().all_questions():
        first = outline(question)
        assert first == outline(question)
        assert all(point.text in first.text for point in question.key_points)


def test_a_models_example_says_which_provider_wrote_it_and_that_it_is_one_way_among_others() -> None:
    example = model_example("An answer.", ExampleAuthor(provider="groq", model="llama"))
    assert example.kind == "model" and example.written_by == ExampleAuthor(provider="groq", model="llama")
    assert example.label == "Written by a model (groq): one way to answer, not the only one"
