"""The jobs whose results may serve other interviews, as cache jobs: an answer's evaluation (per question)
and a custom role's questions (per title and level), and what finding one saved, in counter names."""

from __future__ import annotations

from core.infra.counters import Counts
from core.models import Evaluation, InterviewSetup, Question
from core.providers.answerer import model_class
from core.providers.prompts import LlmQuestions, to_questions
from core.saving.cache import ResultKey
from core.saving.coalescing import Found

SAVED_BY: dict[Found, Counts] = {
    "cache": {"cache_hits": 1},
    "near": {"cache_hits": 1, "near_duplicate_hits": 1},
    "coalesced": {"dedup_merges": 1},
    "computed": {},
}


def evaluation_key(question: Question, answer: str) -> ResultKey:
    return ResultKey("evaluate", model_class(), question.id, answer, ordered=True)


def questions_key(setup: InterviewSetup) -> ResultKey:
    """A custom role's questions, per level and title (in any word order); a job ad's, per level and the
    ad's text (case and spacing aside), whatever the role chosen."""
    if setup.job_description:
        return ResultKey("questions", model_class(), f"{setup.level}:ad", setup.job_description, ordered=True)
    return ResultKey("questions", model_class(), setup.level, setup.custom_role or "", ordered=False)


def follow_up_key(question: Question, gap: str) -> ResultKey:
    """A model-written follow-up, per question and gap (core/interview/follow_ups.py gap_text)."""
    return ResultKey("follow_up", model_class(), question.id, gap, ordered=True)


def generated_questions(job: ResultKey, setup: InterviewSetup, payload: bytes) -> list[Question]:
    """The questions of a cached or new reply; their ids come from the job, so every interview given
    them shares the cache of their answers' evaluations."""
    return to_questions(LlmQuestions.model_validate_json(payload), setup.level, f"gen-{job.digest[:16]}")


def evaluation_for(payload: bytes, answer: str) -> Evaluation:
    """A shared evaluation as feedback on this answer: its evidence must quote this answer verbatim, and
    the answer it was written for may differ in case, spacing or a typo."""
    evaluation = Evaluation.model_validate_json(payload)
    return evaluation.model_copy(
        update={"evidence": [quote for quote in evaluation.evidence if quote in answer]}
    )
