"""What a strong answer looks like: one example answer per question, shown only after a candidate's own
feedback on it.

A model writes it once per question, from the question's text and key points only (never from a
candidate's answer), when there is spare capacity for it; it is stored in Table storage and shared by
every candidate who gets the question, labelled as a model's. Until one exists the example is an outline
built deterministically from the key points: a STAR outline for a behavioral question, the points in the
bank's order for a technical one."""

from __future__ import annotations

import logging
import math
import time

from core.infra import store
from core.infra.job_queue import enqueue_once
from core.interview.question_bank import interview_question
from core.models import ExampleAnswer, ExampleAuthor, ExampleJob, InterviewRecord, Question
from core.providers.catalogue import configured_slots
from core.providers.governor import app_governor
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
    """Whether a model may be asked for an example answer now: THE one place that decides it. Providers
    must be configured; under a fixed policy (REMOTE_JOBS set) the kind `example` must be in it; under the
    governor (REMOTE_JOBS unset) it is the budget's lowest tier: only quota that every other kind's
    forecast leaves unused, in the hours before the reset (core/providers/governor.py SPARE_KINDS)."""
    if not examples_allowed():
        return False
    return get_settings().remote_jobs is not None or (await app_governor().decide("example")).model


def examples_allowed() -> bool:
    """Whether example answers may be written by a model at all (no grant taken): the worker's check
    before its call, since the grant was taken when the job was queued."""
    fixed = get_settings().remote_jobs
    return bool(configured_slots()) and (fixed is None or EXAMPLE_KIND in fixed)


# Stored examples read by this process, by question id: a few hundred bank questions, and generated ones.
MAX_KEPT_EXAMPLES = 5_000
_stored_examples: dict[str, ExampleAnswer] = {}


async def example_for(question: Question) -> ExampleAnswer:
    """The question's model-written example once one is stored; its outline until then (and while the
    store cannot be read: the example is an extra, never a reason for a turn's result to fail). A stored
    example never changes (the first one written stays), so once read it is kept in this process: every
    scored answer shows it, and a storage read on each would sit on the answer's path."""
    if (known := _stored_examples.get(question.id)) is not None:
        return known
    try:
        stored = await store.load_example(question.id)
    except Exception:
        log.exception("could not read the example answer of question %s", question.id)
        return outline(question)
    if stored is None:
        return outline(question)
    if len(_stored_examples) >= MAX_KEPT_EXAMPLES:
        _stored_examples.clear()
    _stored_examples[question.id] = stored
    return stored


# A question whose example this process asked for is not asked about again for this long: under the
# governor every ask is a Redis command and a counted demand, and one ask per question is what matters.
ASK_AGAIN_SECONDS = 600.0
_asked: dict[str, float] = {}


def _due(question_id: str) -> bool:
    now = time.monotonic()
    if now - _asked.get(question_id, -math.inf) < ASK_AGAIN_SECONDS:
        return False
    if len(_asked) > 10_000:  # the bank has a few hundred questions; generated ones come and go
        _asked.clear()
    _asked[question_id] = now
    return True


async def offer_example(record: InterviewRecord, question_id: str) -> ExampleAnswer:
    """The example for a question a candidate's answer was just scored on; without a model's yet, and
    with spare capacity, a job is queued to have one written (at most one per question at a time)."""
    question = interview_question(record, question_id)
    example = await example_for(question)
    if example.kind == "outline" and _due(question.id) and await spare_capacity_for_examples():
        try:
            await enqueue_once(ExampleJob(interview_id=record.id, question_id=question.id))
        except Exception:  # the outline stands in; the next answer to the question queues it again
            log.exception("could not queue the example answer of question %s", question.id)
    return example
