"""The interview as candidates see it: create, answer turn by turn, read the state and the report.

Templates and the cache answer a turn at once; anything else is queued for the worker and the client
polls for it. Every answer is stored before anything else happens to it."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta

from core.infra import client_limits, signals, store, usage
from core.infra.counters import LOCAL_PROVIDER, Counts
from core.infra.job_queue import REQUEUE_AFTER_SECONDS, enqueue_once
from core.interview import templates
from core.interview.errors import ApiError, conflict, not_found, too_many
from core.interview.progress import queue_report_when_complete, report_subject, turn_subject
from core.interview.question_bank import interview_question, question_bank, with_generated
from core.interview.shared_results import (
    SAVED_BY,
    evaluation_for,
    evaluation_key,
    generated_questions,
    questions_key,
)
from core.models import (
    AnswerIn,
    EvaluateJob,
    Evaluation,
    FeedbackSource,
    InterviewCreated,
    InterviewRecord,
    InterviewSetup,
    InterviewState,
    QuestionOut,
    QuestionsJob,
    Report,
    ReportJob,
    ReportPending,
    RolesOut,
    TranscriptEntry,
    TurnPending,
    TurnRecord,
    TurnResult,
)
from core.providers.capacity import capacity_view, configured_keys
from core.providers.catalogue import configured_slots
from core.providers.governor import GovernedKind, app_governor
from core.rubric.evaluator import evaluate_answer, uncertainty
from core.saving import coalescing
from core.settings import get_settings

log = logging.getLogger(__name__)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _question_out(record: InterviewRecord, turn: int) -> QuestionOut:
    question = interview_question(record, record.question_ids[turn - 1])
    return QuestionOut(turn=turn, of=record.total, text=question.text, kind=question.kind)


def _urls(interview_id: str) -> str:
    return f"{get_settings().public_api_base}/interviews/{interview_id}"


def governed() -> bool:
    """Whether the governor decides which jobs go to a model (REMOTE_JOBS unset), not a fixed policy."""
    return get_settings().remote_jobs is None


def _remote(kind: str) -> bool:
    """Whether a job of this kind may go to a model at all: keys are configured, and the fixed policy
    names the kind, or the governor is to decide."""
    fixed = get_settings().remote_jobs
    return (fixed is None or kind in fixed) and bool(configured_slots())


def model_call_budget() -> int | None:
    """Remote jobs one client's interviews may cause in a UTC day (None: no such limit): its share
    (MODEL_CALL_SHARE_PER_CLIENT) of the day's model calls, which are the free capacity of the configured
    keys in report calls (the ops page's "Free capacity"); at least one while the share is on."""
    share = get_settings().model_call_share_per_client
    if share <= 0:
        return None
    return max(1, math.floor(share * capacity_view(configured_keys(configured_slots())).reports_per_day))


async def remote_allowed(kind: GovernedKind, interview_id: str, uncertainty: float = 0.0) -> bool:
    """Whether a job of this kind for this interview goes to a remote model: keys are configured, the
    fixed policy sends the kind or the governor grants it within the day's budget (answers the built-in
    evaluator is less sure of first: `uncertainty`), and the interview's client is within its share of
    the day's model calls (which this counts). Otherwise the built-in evaluator does the job."""
    if not _remote(kind):
        return False
    if governed() and not (await app_governor().decide(kind, uncertainty)).model:
        return False
    budget = model_call_budget()
    return budget is None or await client_limits.take_model_call(interview_id, budget)


async def _with_custom_questions(record: InterviewRecord) -> tuple[InterviewRecord, Counts]:
    """A custom role's generated questions when the cache has them; otherwise the nearest bank role's
    questions now, and generated ones later for the turns not yet reached (if the policy allows, and the
    client is within its share of the day's model calls)."""
    if record.setup.role != "custom" or not _remote("questions"):
        return record, {}
    job = questions_key(record.setup)
    found = await coalescing.find(job)
    if found is None:
        if not await remote_allowed("questions", record.id):
            return record, {"cache_lookups": 1}
        return record.model_copy(update={"questions_pending": True}), {"cache_lookups": 1}
    payload, how = found
    generated = generated_questions(job, record.setup, payload)
    return with_generated(record, generated, keep=0), Counts(cache_lookups=1) | SAVED_BY[how]


def roles() -> RolesOut:
    """The roles a candidate can pick, titled as the question bank titles them."""
    return RolesOut(roles=question_bank().roles())


def _refuse_if(refused: client_limits.Refused | None) -> None:
    if refused is not None:
        raise too_many(refused.code, refused.message, refused.retry_after)


async def create(setup: InterviewSetup, client: str | None = None) -> InterviewCreated:
    """A new interview; `client` (the caller's address) is held to the per-client limits."""
    bank = question_bank()
    interview_id = uuid.uuid4().hex
    if client is not None:
        _refuse_if(await client_limits.admit_interview(client, interview_id, custom=setup.role == "custom"))
    token = secrets.token_urlsafe(32)
    record, saved = await _with_custom_questions(
        InterviewRecord(
            id=interview_id,
            setup=setup,
            token_hash=_hash_token(token),
            created_at=datetime.now(UTC),
            question_ids=[question.id for question in bank.pick(setup, interview_id)],
            greeting=templates.greeting(setup, bank.title(setup), interview_id),
        )
    )
    await store.create_interview(record)
    if record.questions_pending:
        await enqueue_once(QuestionsJob(interview_id=interview_id))
    # The greeting and every question taken from the bank are what a naive build would ask a model for.
    from_bank = sum(not question_id.startswith("gen-") for question_id in record.question_ids)
    await usage.count(saved, interviews_created=1, template_answers=1 + from_bank)
    return InterviewCreated(
        id=interview_id, token=token, greeting=record.greeting, question=_question_out(record, 1)
    )


async def _authorised(interview_id: str, token: str) -> store.Versioned:
    current = await store.load_interview(interview_id)
    if current is None:
        raise not_found(f"there is no interview {interview_id}")
    if not hmac.compare_digest(current.record.token_hash, _hash_token(token)):
        raise ApiError(403, "wrong_token", "this token does not belong to this interview")
    return current


# Feedback to answer with, where it came from, what it saved, and whether it is provisional (the built-in
# evaluator's while a model's is on its way).
Instant = tuple[Evaluation, FeedbackSource, Counts, bool]


async def _instant_feedback(record: InterviewRecord, turn: int, answer: str) -> Instant | None:
    """Feedback that needs no queue: a template's, the local evaluator's when the policy or the governor
    keeps the answer local, or a cached one (of this answer or a near-duplicate of it). Under the
    governor, an answer granted a model gets the local evaluator's score at once, marked provisional."""
    question = interview_question(record, record.question_ids[turn - 1])
    if templates.is_non_answer(answer):
        return (
            templates.non_answer_feedback(question, answer, record.id, turn),
            "template",
            {"template_answers": 1},
            False,
        )
    fixed = get_settings().remote_jobs
    if fixed is not None and "evaluate" not in fixed:
        usage.note_provider_call(LOCAL_PROVIDER)
        return evaluate_answer(question, answer), "local", {}, False
    local: Evaluation | None = None
    if fixed is None:
        usage.note_provider_call(LOCAL_PROVIDER)
        local = evaluate_answer(question, answer)
        if not await remote_allowed("evaluate", record.id, uncertainty(answer, local)):
            return local, "local", {}, False
    found = await coalescing.find(evaluation_key(question, answer))
    if found is None:
        return None if local is None else (local, "local", {"cache_lookups": 1}, True)
    payload, how = found
    return evaluation_for(payload, answer), "cache", Counts(cache_lookups=1) | SAVED_BY[how], False


def _check_turn_order(record: InterviewRecord, turn: int) -> None:
    if record.finished:
        raise conflict("interview_finished", "this interview is finished; its report is at /report")
    if turn <= record.answered:
        raise conflict(
            "turn_already_answered",
            f"turn {turn} was answered already; its result is at {_urls(record.id)}/turns/{turn}",
        )
    if turn != record.answered + 1:
        raise conflict("wrong_turn", f"the question waiting for an answer is turn {record.answered + 1}")


async def answer(
    interview_id: str, token: str, body: AnswerIn, client: str | None = None
) -> TurnResult | TurnPending:
    """Store an answer and score it (or queue it); `client` (the caller's address) is held to the
    per-client rate limit before anything is read."""
    started = time.perf_counter()
    if client is not None:
        _refuse_if(await client_limits.admit_answer(client))
    # Decided once: a write that loses a race retries the write, never the governor's grant.
    instant: Instant | None = None
    while True:
        current = await _authorised(interview_id, token)
        record = current.record
        _check_turn_order(record, body.turn)
        instant = instant or await _instant_feedback(record, body.turn, body.answer)
        feedback, source, saved, provisional = instant if instant else (None, None, Counts(), False)
        turn = TurnRecord(
            turn=body.turn,
            question_id=record.question_ids[body.turn - 1],
            answer=body.answer,
            answered_at=datetime.now(UTC),
            feedback=feedback,
            source=source,
            provisional=provisional,
        )
        # A provisional score is not yet the turn's evaluation: the report waits for the final one.
        final = feedback is not None and not provisional
        updated = record.model_copy(
            update={"answered": record.answered + 1, "evaluated": record.evaluated + final}
        )
        try:
            await store.add_turn(current, updated, turn)
        except store.TooLarge as error:  # refused before anything was stored
            raise ApiError(422, "answer_too_large", f"the answer is too large to store: {error}") from error
        except store.AlreadyExists as error:
            raise conflict("turn_already_answered", f"turn {body.turn} was answered already") from error
        except store.StaleWrite:
            continue  # another request changed the interview first; its turn order decides this one
        break
    if source is not None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        await usage.count(
            saved, latency=("answered", elapsed_ms), turns_answered=1, jobs_queued=int(provisional)
        )
        if provisional:
            await _queue_evaluation(interview_id, turn.turn)
        else:
            # Nobody can be waiting for this turn: it had feedback from the moment it existed.
            await queue_report_when_complete(updated)
        return _result(updated, turn)
    await usage.count(turns_answered=1, cache_lookups=1, jobs_queued=1)
    await _queue_evaluation(interview_id, turn.turn)
    return _pending(interview_id, turn.turn)


async def _queue_evaluation(interview_id: str, turn: int) -> None:
    try:
        await enqueue_once(EvaluateJob(interview_id=interview_id, turn=turn))
    except Exception:  # the answer is stored; polling queues the job again after REQUEUE_AFTER_SECONDS
        log.exception("could not queue the evaluation of %s turn %s", interview_id, turn)


def _pending(interview_id: str, turn: int) -> TurnPending:
    retry = get_settings().retry_after_seconds
    return TurnPending(turn=turn, poll_url=f"{_urls(interview_id)}/turns/{turn}", retry_after=retry)


def _result(record: InterviewRecord, turn: TurnRecord) -> TurnResult:
    assert turn.feedback is not None and turn.source is not None
    last = turn.turn >= record.total
    return TurnResult(
        turn=turn.turn,
        question=interview_question(record, turn.question_id).text,
        answer=turn.answer,
        feedback=turn.feedback,
        source=turn.source,
        provisional=turn.provisional,
        transition=None if last else templates.transition(record.id, turn.turn),
        next_question=None if last else _question_out(record, turn.turn + 1),
        closing=templates.closing(record.id) if last else None,
        report_url=f"{_urls(record.id)}/report" if last else None,
    )


def _wait_seconds(wait: float) -> float:
    return max(0.0, min(wait, get_settings().max_wait_seconds))


async def turn_result(interview_id: str, token: str, turn: int, wait: float) -> TurnResult | TurnPending:
    record = (await _authorised(interview_id, token)).record
    if not 1 <= turn <= record.answered:
        raise not_found(f"turn {turn} has not been answered (answered so far: {record.answered})")

    async def finished_turn() -> TurnRecord | None:
        loaded = await store.load_turn(interview_id, turn)
        final = loaded and loaded[0].feedback is not None and not loaded[0].provisional
        return loaded[0] if final and loaded else None

    done = await signals.wait_for(turn_subject(interview_id, turn), _wait_seconds(wait), finished_turn)
    if done is not None:
        return _result(record, done)
    # Not final within the wait: a provisional score is still an answer (marked so), and a job that seems
    # lost is queued again.
    loaded = await store.load_turn(interview_id, turn)
    if loaded and datetime.now(UTC) - loaded[0].answered_at > timedelta(seconds=REQUEUE_AFTER_SECONDS):
        await enqueue_once(EvaluateJob(interview_id=interview_id, turn=turn))
    if loaded and loaded[0].feedback is not None:
        return _result(record, loaded[0])
    return _pending(interview_id, turn)


async def state(interview_id: str, token: str) -> InterviewState:
    record = (await _authorised(interview_id, token)).record
    stored = {turn.turn: turn for turn in await store.load_turns(interview_id)}
    transcript = [
        TranscriptEntry(
            turn=number,
            question=interview_question(record, question_id).text,
            answer=stored[number].answer if number in stored else None,
            status="unanswered" if number not in stored else "done" if stored[number].feedback else "pending",
            feedback=stored[number].feedback if number in stored else None,
        )
        for number, question_id in enumerate(record.question_ids, start=1)
    ]
    return InterviewState(
        id=record.id,
        setup=record.setup,
        status="finished" if record.finished else "active",
        greeting=record.greeting,
        current_question=None if record.finished else _question_out(record, record.answered + 1),
        transcript=transcript,
        report_status="done" if record.report_done else "pending" if record.finished else "not_ready",
        report_url=f"{_urls(record.id)}/report",
    )


async def report(interview_id: str, token: str, wait: float) -> Report | ReportPending:
    record = (await _authorised(interview_id, token)).record
    if not record.finished:
        raise conflict(
            "interview_not_finished",
            f"the report is written after the last answer; {record.total - record.answered} question(s) remain",
        )
    found = await signals.wait_for(
        report_subject(interview_id), _wait_seconds(wait), lambda: store.load_report(interview_id)
    )
    if found is not None:
        return found
    if record.evaluated >= record.total:
        await enqueue_once(ReportJob(interview_id=interview_id))
    return ReportPending(retry_after=get_settings().retry_after_seconds)
