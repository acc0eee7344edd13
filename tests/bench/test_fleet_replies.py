"""The simulation's fakes answer every kind of prompt the app sends with a reply the app accepts: a reply
of the wrong shape is invalid content, which the pool fails over up to three calls, so a simulated day
would spend three calls on a job that costs one and measure the wrong capacity."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from bench.fleet import job_kind, reply
from core.interview.question_bank import question_bank
from core.providers.adapters.chat import ChatRequest
from core.providers.prompts import (
    LlmEvaluation,
    LlmExample,
    LlmFollowUp,
    LlmQuestions,
    evaluation_request,
    example_request,
    follow_up_request,
    json_object,
    questions_request,
)

QUESTION = question_bank().all_questions()[0]
ANSWER = "I measured the pipeline's stages, replaced a slow join with an incremental load, and cut the run."


@pytest.mark.parametrize(
    ("request_", "schema", "kind"),
    [
        (evaluation_request(QUESTION, ANSWER), LlmEvaluation, "evaluate"),
        (questions_request("Backend engineer", "mid"), LlmQuestions, "questions"),
        (follow_up_request(QUESTION, "the result"), LlmFollowUp, "follow_up"),
        (example_request(QUESTION), LlmExample, "example"),
    ],
    ids=["evaluate", "questions", "follow_up", "example"],
)
def test_each_kind_of_prompt_gets_a_reply_its_schema_accepts(
    request_: ChatRequest, schema: type[BaseModel], kind: str
) -> None:
    body = {
        "messages": [
            {"role": "system", "content": request_.system},
            {"role": "user", "content": request_.user},
        ]
    }
    schema.model_validate(json_object(reply(body)))
    assert job_kind(body) == kind
