"""Typed models at every boundary: the HTTP API, the durable records, the queue jobs."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
    model_validator,
)

BankRole = Literal[
    "backend",
    "frontend",
    "data-scientist",
    "data-analyst",
    "devops-sre",
    "product-manager",
    "qa",
    "engineering-manager",
]
# "custom": a role the bank does not have, named by the candidate; its questions are generated.
Role = Literal[BankRole, "custom"]
Level = Literal["junior", "mid", "senior"]
InterviewKind = Literal["behavioral", "technical", "mixed"]
QuestionKind = Literal["behavioral", "technical"]
Criterion = Literal["relevance", "structure", "specificity", "impact", "clarity"]
CRITERIA: tuple[Criterion, ...] = ("relevance", "structure", "specificity", "impact", "clarity")

# Where a turn's feedback came from: the cost accounting of the saving layers starts here.
FeedbackSource = Literal["template", "local", "cache", "provider"]

MAX_ANSWER_BYTES = 8 * 1024
# C0 control characters but tab and newline, and lone surrogates (which JSON can carry but UTF-8
# cannot encode, so such text could be accepted and then never stored).
_NOT_ALLOWED = re.compile(r"[\x00-\x08\x0b-\x1f]|[\ud800-\udfff]")


def _allowed_text(value: str) -> str:
    if found := _NOT_ALLOWED.search(value):
        raise ValueError(f"character {found.group()!r} at {found.start()} is not allowed in text")
    return value


# Text a client sends: any character a person can type, none that breaks storage or a log line.
ClientText = Annotated[str, AfterValidator(_allowed_text)]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- the question bank -------------------------------------------------------------------


class KeyPoint(StrictModel):
    text: str
    terms: list[str] = Field(min_length=1)
    paraphrases: list[str] = Field(
        default_factory=list,
        description="The same idea in other words, for the local evaluator: plain phrases whose words must "
        "occur close together in one sentence, in any order (see core/rubric/meaning.py).",
    )


class Question(StrictModel):
    id: str
    kind: QuestionKind
    levels: list[Level] = Field(min_length=1)
    text: str
    key_points: list[KeyPoint] = Field(min_length=1)
    follow_ups: list[str]


class RoleQuestions(StrictModel):
    role: BankRole
    title: str
    questions: list[Question]


class Phrases(StrictModel):
    greetings: list[str] = Field(min_length=1)
    transitions: list[str] = Field(min_length=1)
    closings: list[str] = Field(min_length=1)
    skip_feedback: list[str] = Field(min_length=1)


# --- feedback ----------------------------------------------------------------------------


class CriterionScore(StrictModel):
    score: int = Field(ge=1, le=5)
    reason: str


ScorerKind = Literal["model", "built-in", "template"]


class Scorer(StrictModel):
    """Who gave an answer's scores: a model (its provider and model), the built-in evaluator, or a template."""

    kind: ScorerKind
    provider: str | None = Field(default=None, max_length=80)
    model: str | None = Field(default=None, max_length=120)


def scorer_of(scored_by: str, model: str | None = None) -> Scorer:
    """The scorer a `scored_by` names: 'local' is the built-in evaluator, 'template' a template's words."""
    if scored_by == "local":
        return Scorer(kind="built-in")
    if scored_by == "template":
        return Scorer(kind="template")
    return Scorer(kind="model", provider=scored_by, model=model or None)


class Evaluation(StrictModel):
    """Feedback on one answer."""

    relevance: CriterionScore
    structure: CriterionScore
    specificity: CriterionScore
    impact: CriterionScore
    clarity: CriterionScore
    overall: float = Field(ge=1, le=5)
    evidence: list[str] = Field(description="Verbatim quotes from the answer that the scores rest on.")
    improvement: str = Field(description="One concrete thing to do better next time.")
    covered_points: list[str]
    missed_points: list[str]
    scored_by: str = Field(description="The provider that scored the answer, e.g. 'local'.")
    flags: list[str] = Field(
        default_factory=list,
        description="What the scorer noticed about the answer itself, e.g. 'addresses_grader', 'term_list', "
        "'off_topic'.",
    )
    scorer: Scorer = Field(
        description="Who gave these scores: a model (provider and model), the built-in evaluator or a template."
    )

    @model_validator(mode="before")
    @classmethod
    def _scorer_from_scored_by(cls, data: object) -> object:
        # Evaluations stored before `scorer` existed say who scored them in `scored_by` alone.
        if isinstance(data, dict) and "scorer" not in data and isinstance(data.get("scored_by"), str):
            return {**data, "scorer": scorer_of(data["scored_by"])}
        return data

    def score_of(self, criterion: Criterion) -> int:
        score: CriterionScore = getattr(self, criterion)
        return score.score


class AnswerSummary(StrictModel):
    turn: int
    question: str
    overall: float
    improvement: str
    scored_by: str
    scorer: Scorer | None = Field(default=None, description="Who gave this answer's scores.")
    comment: str | None = Field(
        default=None, description="A model's note on this answer, written with the report in the same call."
    )


class Report(StrictModel):
    overall: float = Field(ge=0, le=5)
    criteria: dict[Criterion, float]
    strengths: list[str]
    improvements: list[str]
    answers: list[AnswerSummary]
    summary: str
    written_by: str = Field(description="The provider that wrote the report.")
    scored_locally: list[int] = Field(
        description="Turns whose feedback came from the built-in local evaluator."
    )


# --- the HTTP API ------------------------------------------------------------------------


class InterviewSetup(StrictModel):
    role: Role
    custom_role: ClientText | None = Field(
        default=None,
        min_length=3,
        max_length=80,
        description="With role 'custom': the job title to interview for, e.g. 'Data engineer (Spark)'.",
    )
    level: Level
    kind: InterviewKind
    questions: StrictInt = Field(default=5, ge=3, le=15, description="How many questions the interview asks.")
    candidate_name: ClientText | None = Field(default=None, max_length=80)

    @field_validator("candidate_name")
    @classmethod
    def _strip_name(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("custom_role")
    @classmethod
    def _strip_custom_role(cls, value: str | None) -> str | None:
        if value is not None and len(value.strip()) < 3:
            raise ValueError("a custom role needs a title of at least 3 characters")
        return value.strip() if value is not None else None

    @model_validator(mode="after")
    def _custom_role_only_with_custom(self) -> InterviewSetup:
        if (self.role == "custom") != (self.custom_role is not None):
            raise ValueError("custom_role is required with role 'custom' and not allowed with any other role")
        return self


class AnswerIn(StrictModel):
    turn: StrictInt = Field(ge=1, le=100, description="The number of the question being answered, from 1.")
    answer: ClientText = Field(min_length=1)

    @field_validator("answer")
    @classmethod
    def _limit_size(cls, value: str) -> str:
        if len(value.encode("utf-8")) > MAX_ANSWER_BYTES:
            raise ValueError(f"the answer is over {MAX_ANSWER_BYTES} bytes")
        return value


class RoleOut(StrictModel):
    role: BankRole
    title: str


class RolesOut(StrictModel):
    roles: list[RoleOut] = Field(description="The bank's roles, with the titles the page shows.")


class QuestionOut(StrictModel):
    turn: int
    of: int
    text: str
    kind: QuestionKind


class InterviewCreated(StrictModel):
    id: str
    token: str = Field(description="Secret: send it as 'Authorization: Bearer <token>'.")
    greeting: str
    question: QuestionOut


class TurnPending(StrictModel):
    turn: int
    status: Literal["pending"] = "pending"
    poll_url: str
    retry_after: int


class TurnResult(StrictModel):
    turn: int
    status: Literal["done"] = "done"
    question: str
    answer: str
    feedback: Evaluation
    source: FeedbackSource
    provisional: bool = Field(
        default=False,
        description="The built-in evaluator's score, shown at once while a model's is on its way: poll "
        "GET .../turns/{n}?wait= for the final one.",
    )
    transition: str | None = None
    next_question: QuestionOut | None = None
    closing: str | None = None
    report_url: str | None = None


class TranscriptEntry(StrictModel):
    turn: int
    question: str
    answer: str | None
    status: Literal["unanswered", "pending", "done"]
    feedback: Evaluation | None = None


class InterviewState(StrictModel):
    id: str
    setup: InterviewSetup
    status: Literal["active", "finished"]
    greeting: str
    current_question: QuestionOut | None
    transcript: list[TranscriptEntry]
    report_status: Literal["not_ready", "pending", "done"]
    report_url: str


class ReportPending(StrictModel):
    status: Literal["pending"] = "pending"
    retry_after: int


class ErrorBody(StrictModel):
    code: str
    message: str


class ErrorOut(StrictModel):
    error: ErrorBody


# --- the durable records -----------------------------------------------------------------


class InterviewRecord(StrictModel):
    id: str
    setup: InterviewSetup
    token_hash: str
    created_at: datetime
    question_ids: list[str]
    # A custom role's generated questions; the bank holds every other question id.
    generated: list[Question] = []
    questions_pending: bool = Field(
        default=False, description="Generated questions are on their way to replace the unasked ones."
    )
    greeting: str
    answered: int = 0
    evaluated: int = 0
    report_done: bool = False

    @property
    def total(self) -> int:
        return len(self.question_ids)

    @property
    def finished(self) -> bool:
        return self.answered >= self.total


class TurnRecord(StrictModel):
    turn: int
    question_id: str
    answer: str
    answered_at: datetime
    feedback: Evaluation | None = None
    source: FeedbackSource | None = None
    provisional: bool = False  # the built-in evaluator's feedback until a model's replaces it


# --- the queue ---------------------------------------------------------------------------


class EvaluateJob(StrictModel):
    kind: Literal["evaluate"] = "evaluate"
    interview_id: str
    turn: int = Field(ge=1)


class ReportJob(StrictModel):
    kind: Literal["report"] = "report"
    interview_id: str


class QuestionsJob(StrictModel):
    """Generate a custom role's questions; they replace the interview's questions not yet asked."""

    kind: Literal["questions"] = "questions"
    interview_id: str


class JobMessage(StrictModel):
    """The body of a queue message: references only; the data stays in the durable store."""

    job: EvaluateJob | ReportJob | QuestionsJob = Field(discriminator="kind")
