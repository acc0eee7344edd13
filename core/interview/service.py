"""The interview as candidates see it: create, answer turn by turn, read the state and the report.

Templates and the cache answer a turn at once; anything else is queued for the worker and the client
polls for it. Every answer is stored before anything else happens to it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta

from core.infra import client_limits, signals, store, usage
from core.infra.callback_target import CallbackRefused, check_callback_url
from core.infra.counters import LOCAL_PROVIDER, Counts
from core.infra.job_queue import REQUEUE_AFTER_SECONDS, enqueue_once
from core.infra.webhook_signature import interview_secret
from core.interview import callbacks, evaluator_warm_up, example_answers, retention, templates
from core.interview.errors import ApiError, conflict, not_found, too_many
from core.interview.follow_ups import follow_up_for, gap_text
from core.interview.job_ad import read_job_ad
from core.interview.progress import (
    completing,
    queue_report,
    report_subject,
    requeue_report_if_lost,
    turn_subject,
)
from core.interview.question_bank import interview_question, question_bank, with_generated
from core.interview.shared_results import (
    SAVED_BY,
    evaluation_for,
    evaluation_key,
    follow_up_key,
    generated_questions,
    questions_key,
)
from core.models import (
    AnswerIn,
    EvaluateJob,
    Evaluation,
    ExampleAnswer,
    FeedbackSource,
    FollowUp,
    FollowUpJob,
    InterviewCreated,
    InterviewRecord,
    InterviewSetup,
    InterviewState,
    JobAd,
    QuestionOut,
    QuestionsJob,
    Report,
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
from core.providers.prompts import LlmFollowUp
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
    wanted = record.setup.role == "custom" or record.setup.job_description is not None
    if not wanted or not _remote("questions"):
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


async def model_follow_up(
    record: InterviewRecord, turn: int, chosen: FollowUp | None
) -> tuple[FollowUp | None, bool]:
    """The follow-up to ask: a model's for this question and gap when the policy sends follow-ups to a
    model and the cache has one, else the one chosen from the bank; and whether to have a model write it
    now for the next answer missing the same (when the client is within its share of model calls)."""
    if chosen is None or not _remote("follow_up"):
        return chosen, False
    question = interview_question(record, record.question_ids[turn - 1])
    found = await coalescing.find(follow_up_key(question, gap_text(chosen)))
    if found is None:
        return chosen, await remote_allowed("follow_up", record.id)
    written = LlmFollowUp.model_validate_json(found[0])
    return chosen.model_copy(update={"text": written.question, "written_by": "model"}), False


def roles() -> RolesOut:
    """The roles a candidate can pick, titled as the question bank titles them."""
    return RolesOut(roles=question_bank().roles())


def _refuse_if(refused: client_limits.Refused | None) -> None:
    if refused is not None:
        raise too_many(refused.code, refused.message, refused.retry_after)


async def _callback_secret(callback_url: str, interview_id: str) -> str:
    """The interview's callback secret, once its callback_url is one the app may POST to (before anything
    is created or counted: a refused URL changes nothing)."""
    signing_key = get_settings().callback_signing_key.get_secret_value()
    if not signing_key:
        raise ApiError(
            422, "callbacks_disabled", "this app sends no callbacks: create it without callback_url"
        )
    try:
        await check_callback_url(callback_url)
    except CallbackRefused as error:
        raise ApiError(422, "invalid_callback_url", str(error)) from error
    return interview_secret(signing_key, interview_id)


async def create(setup: InterviewSetup, client: str | None = None) -> InterviewCreated:
    """A new interview; `client` (the caller's address) is held to the per-client limits."""
    bank = question_bank()
    interview_id = uuid.uuid4().hex
    callback_secret = None
    if setup.callback_url is not None:
        callback_secret = await _callback_secret(setup.callback_url, interview_id)
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
    try:
        await store.create_interview(record)
    except Exception:
        if client is not None:  # the interview does not exist: it must not count against the client
            await client_limits.release_interview(client, interview_id, custom=setup.role == "custom")
        raise
    if record.questions_pending:
        await enqueue_once(QuestionsJob(interview_id=interview_id))
    evaluator_warm_up.warm_roles_of(record.question_ids)
    # The greeting and every question taken from the bank are what a naive build would ask a model for.
    from_bank = sum(not question_id.startswith("gen-") for question_id in record.question_ids)
    await usage.count(saved, interviews_created=1, template_answers=1 + from_bank)
    return InterviewCreated(
        id=interview_id,
        token=token,
        greeting=record.greeting,
        question=_question_out(record, 1),
        callback_secret=callback_secret,
        job_ad=_job_ad(setup),
    )


def _gone(interview_id: str) -> ApiError:
    # One answer for an interview that never was, was deleted, or expired (whether or not the sweep has
    # deleted it yet): a client cannot tell them apart, nor learn that an id once existed.
    return not_found(
        f"there is no interview {interview_id} (interviews are deleted {get_settings().retention_days:g}"
        " days after they start, or when their candidate deletes them)"
    )


def _job_ad(setup: InterviewSetup) -> JobAd | None:
    return read_job_ad(setup.job_description) if setup.job_description else None


async def _authorised(interview_id: str, token: str) -> store.Versioned:
    """The interview, if `token` is its token and it is within its retention; 404 when it is gone or
    expired (checked first: an expired interview is answered as a deleted one), 403 for another token."""
    current = await store.load_interview(interview_id)
    if current is None or retention.expired(current.record):
        raise _gone(interview_id)
    if not hmac.compare_digest(current.record.token_hash, _hash_token(token)):
        raise ApiError(403, "wrong_token", "this token does not belong to this interview")
    return current


async def delete(interview_id: str, token: str) -> None:
    """Delete the interview and everything stored for it alone (core/interview/retention.py says what
    that is, and what shared results stay). Its token's holder only; afterwards every route of the id
    answers 404, a second deletion too."""
    record = (await _authorised(interview_id, token)).record
    if not await retention.erase(record.id, record.created_at):
        raise _gone(interview_id)  # a concurrent deletion took it first
    await usage.count(interviews_deleted=1)


# Feedback to answer with, where it came from, what it saved, and whether it is provisional (the built-in
# evaluator's while a model's is on its way).
Instant = tuple[Evaluation, FeedbackSource, Counts, bool]


async def _instant_feedback(
    record: InterviewRecord, turn: int, answer: str, governed: bool = True
) -> Instant | None:
    """Feedback that needs no queue: a template's, the local evaluator's when the policy or the governor
    keeps the answer local, or a cached one (of this answer or a near-duplicate of it). Under the
    governor, an answer granted a model gets the local evaluator's score at once, marked provisional;
    `governed` False keeps it local without asking (a follow-up's answer scored with its answer: the
    report's review call may still score the pair with a model)."""
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
        if not governed or not await remote_allowed("evaluate", record.id, uncertainty(answer, local)):
            return local, "local", {}, False
    found = await coalescing.find(evaluation_key(question, answer))
    if found is None:
        return None if local is None else (local, "local", {"cache_lookups": 1}, True)
    payload, how = found
    return evaluation_for(payload, answer), "cache", Counts(cache_lookups=1) | SAVED_BY[how], False


def _check_turn_order(record: InterviewRecord, turn: int, to_follow_up: bool) -> None:
    if record.finished:
        raise conflict("interview_finished", "this interview is finished; its report is at /report")
    waiting = record.follow_up_open
    if to_follow_up:
        if waiting != turn:
            also = f"; turn {waiting}'s is" if waiting is not None else ""
            raise conflict("no_follow_up_open", f"no follow-up of turn {turn} waits for an answer{also}")
        return
    if waiting is not None:
        raise conflict(
            "follow_up_open",
            f"the follow-up of turn {waiting} waits for an answer or a skip first; see "
            f"{_urls(record.id)}/turns/{waiting}",
        )
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
    if body.to_follow_up:
        return await _answer_follow_up(interview_id, token, body)
    assert body.answer is not None  # AnswerIn requires one unless a follow-up is skipped
    modelled: tuple[FollowUp | None, bool] | None = None
    # Decided once: a write that loses a race retries the write, never the governor's grant.
    instant: Instant | None = None
    while True:
        current = await _authorised(interview_id, token)
        record = current.record
        _check_turn_order(record, body.turn, to_follow_up=False)
        instant = instant or await _instant_feedback(record, body.turn, body.answer)
        feedback, source, saved, provisional = instant if instant else (None, None, Counts(), False)
        # Known with the feedback (a provisional one too: the model's later score never asks another);
        # a queued answer's is decided by the worker, with its feedback.
        if modelled is None:  # once: a retried write must not count a second model call
            chosen = follow_up_for(record, body.turn, feedback, body.answer) if feedback else None
            modelled = await model_follow_up(record, body.turn, chosen)
        follow_up, write_follow_up = modelled
        turn = TurnRecord(
            turn=body.turn,
            question_id=record.question_ids[body.turn - 1],
            answer=body.answer,
            answered_at=datetime.now(UTC),
            feedback=feedback,
            source=source,
            follow_up=follow_up,
            follow_up_status="open" if follow_up else None,
            provisional=provisional,
        )
        # A provisional score is not yet the turn's evaluation: the report waits for the final one.
        final = feedback is not None and not provisional
        counted = record.model_copy(
            update={
                "answered": record.answered + 1,
                "evaluated": record.evaluated + final,
                "follow_up_open": body.turn if follow_up else None,
            }
        )
        # An instant feedback on the last turn completes the interview: the same write records its
        # report as queued, and the job is sent below.
        updated = completing(counted)
        try:
            await store.add_turn(current, updated, turn)
        except store.TooLarge as error:  # refused before anything was stored
            raise ApiError(422, "answer_too_large", f"the answer is too large to store: {error}") from error
        except store.AlreadyExists as error:
            raise conflict("turn_already_answered", f"turn {body.turn} was answered already") from error
        except store.StaleWrite:
            continue  # another request changed the interview first; its turn order decides this one
        break
    if provisional:
        # First, as the candidate waits for the model's score: it replaces this one, and its turn.ready
        # callback is sent then (progress.py). Nobody waits for what follows.
        await _queue_evaluation(interview_id, turn.turn)
    if write_follow_up:
        await queue_follow_up(interview_id, body.turn)
    if source is not None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        await usage.count(
            saved, latency=("answered", elapsed_ms), turns_answered=1, jobs_queued=int(provisional)
        )
        if not provisional:
            # Nobody can be waiting for this turn: it had feedback from the moment it existed.
            try:
                await callbacks.turn_ready(updated, turn.turn)
            except Exception:  # the answer and its feedback are stored; only the callback is lost
                log.exception(
                    "could not queue the turn.ready callback of %s turn %s", interview_id, turn.turn
                )
        if updated is not counted:
            await queue_report(interview_id)
        # Scored now: the answer that may have a model write the question's example (never from it).
        example = await example_answers.offer_example(updated, turn.question_id)
        return _result(updated, turn, example)
    await usage.count(turns_answered=1, cache_lookups=1, jobs_queued=1)
    await _queue_evaluation(interview_id, turn.turn)
    return _pending(interview_id, turn.turn)


async def _answer_follow_up(interview_id: str, token: str, body: AnswerIn) -> TurnResult | TurnPending:
    """Answer or skip the follow-up of a turn. Its answer is stored on the turn at once and scored
    together with the turn's answer (at once, or queued like an answer); a declined one ("I don't know")
    or a skip leaves the turn's score as the answer's alone."""
    while True:
        current = await _authorised(interview_id, token)
        record = current.record
        _check_turn_order(record, body.turn, to_follow_up=True)
        loaded = await store.load_turn(interview_id, body.turn)
        if loaded is None:  # the record says it is open, so the turn was stored with it
            raise conflict("no_follow_up_open", f"turn {body.turn} has no follow-up waiting for an answer")
        turn, turn_etag = loaded
        saved: Counts = {}
        if body.answer is None:
            changes: dict[str, object] = {"follow_up_status": "skipped"}
        else:
            together = turn.model_copy(update={"follow_up_answer": body.answer}).scored_text
            instant = (
                (turn.feedback, turn.source, Counts(), False)
                if templates.is_non_answer(body.answer) and turn.feedback and turn.source
                else await _instant_feedback(record, body.turn, together, governed=False)
            )
            feedback, source, saved, _ = instant if instant else (None, None, Counts(), False)
            changes = {
                "follow_up_status": "answered",
                "follow_up_answer": body.answer,
                "combined": feedback,
                "combined_source": source,
            }
        updated_turn = turn.model_copy(update=changes)
        scored = updated_turn.final_feedback is not None
        counted = record.model_copy(
            update={"follow_up_open": None, "evaluated": record.evaluated - (not scored)}
        )
        # A follow-up answered at once, or skipped, on the last turn completes the interview.
        updated = completing(counted)
        try:
            await store.save_feedback(current, updated, updated_turn, turn_etag)
        except store.TooLarge as error:  # refused before anything was stored
            raise ApiError(422, "answer_too_large", f"the answer is too large to store: {error}") from error
        except store.StaleWrite:
            continue
        break
    if scored:
        await usage.count(saved)
        if updated is not counted:
            await queue_report(interview_id)
        return _result(updated, updated_turn, await _example(updated, updated_turn))
    await usage.count(cache_lookups=1, jobs_queued=1)
    try:
        await enqueue_once(EvaluateJob(interview_id=interview_id, turn=body.turn, follow_up=True))
    except Exception:  # stored; polling queues the job again after REQUEUE_AFTER_SECONDS
        log.exception("could not queue the evaluation of %s turn %s's follow-up", interview_id, body.turn)
    return _pending(interview_id, body.turn)


async def queue_follow_up(interview_id: str, turn: int) -> None:
    try:
        await enqueue_once(FollowUpJob(interview_id=interview_id, turn=turn))
    except Exception:  # only the cache misses it: the turn has its follow-up from the bank
        log.exception("could not queue the follow-up job of %s turn %s", interview_id, turn)


async def _queue_evaluation(interview_id: str, turn: int) -> None:
    try:
        await enqueue_once(EvaluateJob(interview_id=interview_id, turn=turn))
    except Exception:  # the answer is stored; polling queues the job again after REQUEUE_AFTER_SECONDS
        log.exception("could not queue the evaluation of %s turn %s", interview_id, turn)


def _pending(interview_id: str, turn: int) -> TurnPending:
    retry = get_settings().retry_after_seconds
    return TurnPending(turn=turn, poll_url=f"{_urls(interview_id)}/turns/{turn}", retry_after=retry)


async def _example(record: InterviewRecord, turn: TurnRecord) -> ExampleAnswer | None:
    """The example answer to show with a turn: only once it has feedback, and not while its follow-up is
    open (the example would answer the follow-up for the candidate)."""
    if turn.final_feedback is None or turn.follow_up_status == "open":
        return None
    return await example_answers.example_for(interview_question(record, turn.question_id))


def _result(record: InterviewRecord, turn: TurnRecord, example: ExampleAnswer | None) -> TurnResult:
    feedback, source = turn.final_feedback, turn.final_source
    assert feedback is not None and source is not None
    last = turn.turn >= record.total
    # The interview moves on only once the follow-up is answered or skipped.
    moving_on = turn.follow_up_status != "open"
    return TurnResult(
        turn=turn.turn,
        question=interview_question(record, turn.question_id).text,
        answer=turn.answer,
        feedback=feedback,
        source=source,
        provisional=turn.provisional,
        follow_up=turn.follow_up,
        follow_up_status=turn.follow_up_status,
        follow_up_answer=turn.follow_up_answer,
        answer_feedback=turn.feedback if turn.follow_up_answer is not None else None,
        example_answer=example if turn.follow_up_status != "open" else None,
        transition=templates.transition(record.id, turn.turn) if moving_on and not last else None,
        next_question=_question_out(record, turn.turn + 1) if moving_on and not last else None,
        closing=templates.closing(record.id) if moving_on and last else None,
        report_url=f"{_urls(record.id)}/report" if moving_on and last else None,
    )


def _wait_seconds(wait: float) -> float:
    return max(0.0, min(wait, get_settings().max_wait_seconds))


async def turn_result(interview_id: str, token: str, turn: int, wait: float) -> TurnResult | TurnPending:
    record = (await _authorised(interview_id, token)).record
    if not 1 <= turn <= record.answered:
        raise not_found(f"turn {turn} has not been answered (answered so far: {record.answered})")

    async def finished_turn() -> TurnRecord | None:
        loaded = await store.load_turn(interview_id, turn)
        final = loaded and loaded[0].final_feedback is not None and not loaded[0].provisional
        return loaded[0] if final and loaded else None

    done = await signals.wait_for(turn_subject(interview_id, turn), _wait_seconds(wait), finished_turn)
    if done is not None:
        # Read again: the worker may have opened a follow-up, which holds the next question back. The
        # example depends on the turn's question only, which no write changes: both reads at once, as the
        # candidate waits for this answer.
        current, example = await asyncio.gather(_authorised(interview_id, token), _example(record, done))
        return _result(current.record, done, example)
    # Not final within the wait: a provisional score is still an answer (marked so), and a job that seems
    # lost is queued again.
    loaded = await store.load_turn(interview_id, turn)
    # A follow-up's answer has no time of its own: it is queued again on the answer's clock at worst.
    if loaded and datetime.now(UTC) - loaded[0].answered_at > timedelta(seconds=REQUEUE_AFTER_SECONDS):
        # A provisional turn's job is its answer's, even after a follow-up was answered at once.
        follow_up = loaded[0].follow_up_answer is not None and not loaded[0].provisional
        await enqueue_once(EvaluateJob(interview_id=interview_id, turn=turn, follow_up=follow_up))
    if loaded and loaded[0].final_feedback is not None:
        return _result(record, loaded[0], await _example(record, loaded[0]))
    return _pending(interview_id, turn)


async def state(interview_id: str, token: str) -> InterviewState:
    record = (await _authorised(interview_id, token)).record
    stored = {turn.turn: turn for turn in await store.load_turns(interview_id)}
    examples = {
        number: example
        for number, turn in stored.items()
        if (example := await _example(record, turn)) is not None
    }
    transcript = [
        TranscriptEntry(
            turn=number,
            question=interview_question(record, question_id).text,
            answer=stored[number].answer if number in stored else None,
            status="unanswered"
            if number not in stored
            else "done"
            if stored[number].final_feedback
            else "pending",
            feedback=stored[number].final_feedback if number in stored else None,
            follow_up=stored[number].follow_up if number in stored else None,
            follow_up_status=stored[number].follow_up_status if number in stored else None,
            follow_up_answer=stored[number].follow_up_answer if number in stored else None,
            example_answer=examples.get(number),
        )
        for number, question_id in enumerate(record.question_ids, start=1)
    ]
    return InterviewState(
        id=record.id,
        setup=record.setup,
        status="finished" if record.finished else "active",
        greeting=record.greeting,
        job_ad=_job_ad(record.setup),
        current_question=None
        if record.finished or record.follow_up_open is not None
        else _question_out(record, record.answered + 1),
        open_follow_up=record.follow_up_open,
        transcript=transcript,
        report_status="done" if record.report_done else "pending" if record.finished else "not_ready",
        report_url=f"{_urls(record.id)}/report",
    )


async def report(interview_id: str, token: str, wait: float) -> Report | ReportPending:
    """The report, waiting up to `wait` seconds for it. A poll queues its job again only when the job is
    presumed lost (queued over REQUEUE_AFTER_SECONDS ago), and then only one of any number of concurrent
    polls does (progress.requeue_report_if_lost): poll loops cannot multiply jobs."""
    current = await _authorised(interview_id, token)
    record = current.record
    if not record.finished:
        remain = (
            f"{record.total - record.answered} question(s) remain"
            if record.answered < record.total
            else f"the follow-up of turn {record.follow_up_open} waits for an answer or a skip"
        )
        raise conflict("interview_not_finished", f"the report is written after the last answer; {remain}")
    found = await signals.wait_for(
        report_subject(interview_id), _wait_seconds(wait), lambda: store.load_report(interview_id)
    )
    if found is not None:
        return found
    # Decided on the record read before the wait: if anything changed it since (the report landed, another
    # poll queued the job), the guarded write fails and this poll queues nothing.
    await requeue_report_if_lost(current)
    return ReportPending(retry_after=get_settings().retry_after_seconds)
