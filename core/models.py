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
MAX_CALLBACK_URL_LENGTH = 2048
MAX_JOB_DESCRIPTION_BYTES = 8 * 1024
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
    follow_up: str | None = Field(default=None, description="The follow-up question asked on this turn.")
    follow_up_answer: str | None = Field(
        default=None, description="The candidate's answer to it, scored together with the main answer."
    )
    scorer: Scorer | None = Field(default=None, description="Who gave this answer's scores.")
    comment: str | None = Field(
        default=None, description="A model's note on this answer, written with the report in the same call."
    )


class JobAd(StrictModel):
    """What a job ad reads as (core/interview/job_ad.py)."""

    role: BankRole = Field(description="The bank role the ad reads as.")
    level: Level = Field(description="The level the ad reads as (the interview's own level is the setup's).")
    skills: list[str] = Field(description="The skills of the vocabulary (data/skills.json) the ad names.")


class SkillsShown(StrictModel):
    shown: list[str] = Field(description="The ad's skills some answer showed.")
    not_shown: list[str] = Field(description="The ad's skills no answer showed.")


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
    ad_skills: SkillsShown | None = Field(
        default=None, description="With a job ad: which of its skills the answers showed."
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
    callback_url: ClientText | None = Field(
        default=None,
        max_length=MAX_CALLBACK_URL_LENGTH,
        json_schema_extra={"format": "uri"},
        description="Where to POST this interview's events (turn.ready, report.ready; see `webhooks`): an "
        "https URL whose host resolves only to public addresses (and, where the app has an allow-list, "
        "matches it). The events are signed with the callback_secret the create response returns once.",
    )
    job_description: ClientText | None = Field(
        default=None,
        min_length=1,
        description="A job ad in plain text (up to 8 KB): its skills steer which bank questions are asked, "
        "with role 'custom' its role picks the bank role, and the report says which of its skills the "
        "answers showed (see job_ad in the response).",
    )
    follow_ups: bool = Field(
        default=True,
        description="Whether the interviewer may ask one follow-up question on an answer that misses a STAR "
        "part, a key point or a result (false: never).",
    )

    @field_validator("callback_url")
    @classmethod
    def _plain_url(cls, value: str | None) -> str | None:
        # The shape only: the scheme, the address and the allow-list are checked when the interview is
        # created (core/infra/callback_target.py), with the app's settings and DNS.
        if value is not None and (not value or any(character.isspace() for character in value)):
            raise ValueError("a callback_url has no spaces")
        return value

    @field_validator("job_description")
    @classmethod
    def _limit_job_description(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode("utf-8")) > MAX_JOB_DESCRIPTION_BYTES:
            raise ValueError(f"the job description is over {MAX_JOB_DESCRIPTION_BYTES} bytes")
        return value.strip() or None if value is not None else None

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
    """An answer to a turn's question, an answer to its follow-up (`follow_up: true`), or the skip of
    its follow-up (`skip_follow_up: true`, no answer)."""

    turn: StrictInt = Field(ge=1, le=100, description="The number of the question being answered, from 1.")
    answer: ClientText | None = Field(
        default=None, min_length=1, description="Required unless skip_follow_up is true."
    )
    follow_up: bool = Field(default=False, description="The answer is to this turn's follow-up question.")
    skip_follow_up: bool = Field(
        default=False, description="Skip this turn's follow-up question (send no answer with it)."
    )

    @field_validator("answer")
    @classmethod
    def _limit_size(cls, value: str | None) -> str | None:
        if value is not None and len(value.encode("utf-8")) > MAX_ANSWER_BYTES:
            raise ValueError(f"the answer is over {MAX_ANSWER_BYTES} bytes")
        return value

    @model_validator(mode="after")
    def _answer_or_skip(self) -> AnswerIn:
        if self.skip_follow_up and self.answer is not None:
            raise ValueError("skip_follow_up takes no answer")
        if not self.skip_follow_up and self.answer is None:
            raise ValueError("an answer is required (or skip_follow_up: true to skip a follow-up)")
        return self

    @property
    def to_follow_up(self) -> bool:
        return self.follow_up or self.skip_follow_up


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
    callback_secret: str | None = Field(
        default=None,
        description="With a callback_url only, and only here: the secret the events' Webhook-Signature is "
        "made with (Standard Webhooks, 'whsec_' and base64). Keep it: it is not shown again.",
    )
    job_ad: JobAd | None = Field(default=None, description="What the job ad, if one was given, reads as.")


# What an answer missed, which a follow-up question aims at (core/interview/follow_ups.py).
FollowUpGap = Literal["result", "impact", "key_point", "situation", "task", "action"]


class FollowUp(StrictModel):
    """One follow-up question, asked when an answer misses something (core/interview/follow_ups.py)."""

    text: str
    reason: str = Field(description="Why it is asked: what the answer missed.")
    gap: FollowUpGap = Field(description="What the answer missed: the kind of gap the follow-up aims at.")
    point: str | None = Field(default=None, description="With gap 'key_point': the key point missed.")
    written_by: Literal["bank", "template", "model"] = Field(
        default="bank",
        description="The question bank's follow-up, the gap's template, or a model's (cached per question "
        "and gap).",
    )


FollowUpStatus = Literal["open", "answered", "skipped"]


class ExampleAuthor(StrictModel):
    provider: str = Field(description="The LLM vendor whose model wrote the example.")
    model: str = Field(description="The model's name at that vendor (empty when the catalogue names none).")


class ExampleAnswer(StrictModel):
    """One way to answer a question, shown only after a candidate's own feedback
    (core/interview/example_answers.py): a model's, shared by every candidate who gets the question, or,
    until one is written, an outline built from the question's key points."""

    kind: Literal["outline", "model"]
    text: str
    written_by: ExampleAuthor | None = Field(
        default=None,
        description="With kind 'model': the provider and model that wrote it; null for an outline.",
    )
    label: str = Field(description="What it is, to show with it: an outline, or a model's example.")


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
    feedback: Evaluation = Field(
        description="The turn's score: of the answer and its follow-up's answer together once that is answered."
    )
    source: FeedbackSource
    follow_up: FollowUp | None = Field(
        default=None,
        description="The follow-up question on this answer, if one is asked. While its status is 'open' the "
        "next question waits: answer it (POST the turn with follow_up: true) or skip it (skip_follow_up: true).",
    )
    follow_up_status: FollowUpStatus | None = None
    follow_up_answer: str | None = None
    answer_feedback: Evaluation | None = Field(
        default=None,
        description="The main answer's own feedback, when `feedback` is the combined score with the follow-up.",
    )
    example_answer: ExampleAnswer | None = Field(
        default=None,
        description="One way to answer the question, shown after the candidate's own feedback (null while "
        "its follow-up is open).",
    )
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
    follow_up: FollowUp | None = None
    follow_up_status: FollowUpStatus | None = None
    follow_up_answer: str | None = None
    example_answer: ExampleAnswer | None = Field(
        default=None,
        description="With status 'done' (and no follow-up open): one way to answer the question.",
    )


class InterviewState(StrictModel):
    id: str
    setup: InterviewSetup
    status: Literal["active", "finished"]
    greeting: str
    job_ad: JobAd | None = None
    current_question: QuestionOut | None = Field(
        description="The question waiting for an answer; null when finished or while a follow-up is open."
    )
    open_follow_up: int | None = Field(
        default=None,
        description="The turn whose follow-up waits for an answer or a skip (see its transcript).",
    )
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
    # Turns whose final score is stored: a turn whose follow-up answer is being scored is not counted.
    evaluated: int = 0
    report_done: bool = False
    report_queued_at: datetime | None = Field(
        default=None,
        description="When the report job was last queued: queued again only once this is over "
        "REQUEUE_AFTER_SECONDS old (core/interview/progress.py).",
    )
    follow_up_open: int | None = Field(
        default=None, description="The turn whose follow-up question waits for an answer or a skip."
    )

    @property
    def total(self) -> int:
        return len(self.question_ids)

    @property
    def finished(self) -> bool:
        return self.answered >= self.total and self.follow_up_open is None


class TurnRecord(StrictModel):
    turn: int
    question_id: str
    answer: str
    answered_at: datetime
    feedback: Evaluation | None = None
    source: FeedbackSource | None = None
    follow_up: FollowUp | None = None
    follow_up_status: FollowUpStatus | None = None
    follow_up_answer: str | None = None
    # The answer and the follow-up's answer scored together.
    combined: Evaluation | None = None
    combined_source: FeedbackSource | None = None

    @property
    def scored_text(self) -> str:
        """What the turn's final score rests on: the answer, and the follow-up's answer after it."""
        return f"{self.answer}\n\n{self.follow_up_answer}" if self.follow_up_answer else self.answer

    @property
    def final_feedback(self) -> Evaluation | None:
        """The turn's score; None while it is being scored (the answer, or the follow-up's answer)."""
        return self.combined if self.follow_up_answer is not None else self.feedback

    @property
    def final_source(self) -> FeedbackSource | None:
        return self.combined_source if self.follow_up_answer is not None else self.source

    provisional: bool = False  # the built-in evaluator's feedback until a model's replaces it


# --- the queue ---------------------------------------------------------------------------


class QueuedModel(BaseModel):
    """A queue message's body or part of one: known fields are checked as strictly as a request's, and
    unknown ones ignored. Only this app writes these messages, and in a deploy an instance of the old
    release reads what the new one sent (and the reverse), so a field added in one release must not poison
    every message the other reads."""

    model_config = ConfigDict(extra="ignore")


class EvaluateJob(QueuedModel):
    kind: Literal["evaluate"] = "evaluate"
    interview_id: str
    turn: int = Field(ge=1)
    # The worker scores what the turn lacks; this only keeps the job apart from the answer's own.
    follow_up: bool = False


class ReportJob(QueuedModel):
    kind: Literal["report"] = "report"
    interview_id: str


class QuestionsJob(QueuedModel):
    """Generate a custom role's questions; they replace the interview's questions not yet asked."""

    kind: Literal["questions"] = "questions"
    interview_id: str


class CallbackJob(QueuedModel):
    """One event for an interview's callback_url, and where its delivery stands (a message of the
    callbacks queue; the URL and the secret are read from the interview and the settings when it is sent)."""

    interview_id: str
    type: Literal["turn.ready", "report.ready"]
    turn: int | None = Field(
        default=None, ge=1, description="With turn.ready: the turn whose feedback is ready."
    )
    sequence: int = Field(
        ge=1, description="The event's place in its interview: turn n is n, the report total+1."
    )
    ready_at: datetime
    attempts: int = Field(default=0, ge=0, description="Deliveries tried so far.")
    waited_since: datetime | None = Field(
        default=None, description="When it began to wait for an earlier event of its interview."
    )
    last_error: str | None = None


class CallbackData(StrictModel):
    interview_id: str
    turn: int | None = Field(
        description="The turn whose feedback is ready (turn.ready); null for report.ready."
    )
    sequence: int = Field(
        description="The event's place in its interview (turn n is n, the report the number of questions "
        "plus 1): order by it."
    )
    url: str = Field(description="Where to GET the result, with the interview's bearer token.")


class CallbackEvent(StrictModel):
    """The body of a callback POST (the Standard Webhooks payload shape)."""

    type: Literal["turn.ready", "report.ready"]
    timestamp: datetime = Field(description="When the result became ready (the same on every retry).")
    data: CallbackData


class FollowUpJob(QueuedModel):
    """Have a model write the follow-up of a turn's question and gap, for the cache: the next answer to
    that question missing the same thing gets it. The turn itself keeps the follow-up it was asked."""

    kind: Literal["follow_up"] = "follow_up"
    interview_id: str
    turn: int = Field(ge=1)


class ExampleJob(QueuedModel):
    """Have a model write an example answer to a question, stored for every candidate who gets it. Only
    the question and its key points are sent, never a candidate's answer; the interview only locates a
    generated question."""

    kind: Literal["example"] = "example"
    interview_id: str
    question_id: str


class JobMessage(QueuedModel):
    """The body of a queue message: references only; the data stays in the durable store."""

    job: EvaluateJob | ReportJob | QuestionsJob | FollowUpJob | ExampleJob = Field(discriminator="kind")
    # When it was sent, for the ops view's queue wait (the queue's own insertion time has whole seconds
    # only); absent on messages sent before it was added.
    queued_at: datetime | None = None
