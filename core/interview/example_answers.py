"""What a strong answer looks like: one example answer per question, shown only after a candidate's own
feedback on it.

A model writes it once per question, from the question's text and key points only (never from a
candidate's answer), when there is spare capacity for it; it is stored in Table storage and shared by
every candidate who gets the question, labelled as a model's. Until one exists the example is an outline
built deterministically from the key points: a STAR outline for a behavioral question, the points in the
bank's order for a technical one."""

from __future__ import annotations

import logging

from core.infra import store
from core.infra.job_queue import enqueue_once
from core.interview.question_bank import interview_question
from core.models import ExampleAnswer, ExampleAuthor, ExampleJob, InterviewRecord, Question
from core.providers.catalogue import configured_slots
from core.settings import get_settings

log = logging.getLogger(__name__)

OUTLINE_LABEL = "An outline from the question's key points"
EXAMPLE_KIND = "example"


def model_label(provider: str) -> str:
    return f"Written by a model ({provider}): one way to answer, not the only one"


def outline(question: Question) -> ExampleAnswer:
    """The key points as the skeleton of an answer: where each belongs in a STAR story, or in order."""
    points = [point.text for point in question.key_points]
    if question.kind == "behavioral":
        lines = [
            "Situation: set the scene in a sentence or two: where you were and what was at stake.",
            "Task: what you were responsible for.",
            "Action: what you did yourself, in the first person, covering:",
            *(f"- {point}" for point in points),
            "Result: how it ended, measured if you can, and what you learned.",
        ]
    else:
        lines = [
            *(f"{number}. {point}" for number, point in enumerate(points, start=1)),
            "Close with a trade-off or an example from your own work.",
        ]
    return ExampleAnswer(kind="outline", text="\n".join(lines), written_by=None, label=OUTLINE_LABEL)


def model_example(text: str, author: ExampleAuthor) -> ExampleAnswer:
    return ExampleAnswer(kind="model", text=text, written_by=author, label=model_label(author.provider))


async def spare_capacity_for_examples() -> bool:
    """Whether a model may be asked for an example answer now: THE one place that decides it.

    For now the standing policy: the kind `example` is in REMOTE_JOBS (not by default) and providers are
    configured. Meant to become the budget governor's lowest tier (quota that would otherwise expire)."""
    return EXAMPLE_KIND in get_settings().remote_jobs and bool(configured_slots())


async def example_for(question: Question) -> ExampleAnswer:
    """The question's model-written example once one is stored; its outline until then (and while the
    store cannot be read: the example is an extra, never a reason for a turn's result to fail)."""
    try:
        stored = await store.load_example(question.id)
    except Exception:
        log.exception("could not read the example answer of question %s", question.id)
        return outline(question)
    return stored if stored is not None else outline(question)


async def offer_example(record: InterviewRecord, question_id: str) -> ExampleAnswer:
    """The example for a question a candidate's answer was just scored on; without a model's yet, and
    with spare capacity, a job is queued to have one written (at most one per question at a time)."""
    question = interview_question(record, question_id)
    example = await example_for(question)
    if example.kind == "outline" and await spare_capacity_for_examples():
        try:
            await enqueue_once(ExampleJob(interview_id=record.id, question_id=question.id))
        except Exception:  # the outline stands in; the next answer to the question queues it again
            log.exception("could not queue the example answer of question %s", question.id)
    return example
