"""The system of record: interviews, answers and reports in Azure Table storage.

One partition per interview, so an answer and the interview's counters change together in one
entity-group transaction, guarded by ETags: a retried request or a redelivered job cannot apply twice.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables import TableEntity, TableTransactionError, UpdateMode
from azure.data.tables.aio import TableClient

from core.infra import usage
from core.infra.connections import connections
from core.models import ExampleAnswer, InterviewRecord, Report, TurnRecord
from core.settings import get_settings

INTERVIEW_ROW = "interview"
# The partitions listing interviews by their creation day (interview ids are hex: no partition clashes).
CREATED_PREFIX = "created-"
REPORT_ROW = "report"
# A question's example answer: a partition per question, shared by every interview (interview ids are hex,
# so no interview's partition starts with it; the creation-day list's range query stops before it).
EXAMPLE_PREFIX = "example-"
EXAMPLE_ROW = "example"
# Entities one table transaction may hold (Table storage's entity-group limit).
MAX_TRANSACTION_ENTITIES = 100


# Table storage holds a string property of up to 64 KiB: 32,768 UTF-16 code units.
MAX_PROPERTY_UNITS = 32_000


class TooLarge(Exception):
    """The record would not fit in one table property: refused before anything is stored."""


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def storable(turn: TurnRecord) -> TurnRecord:
    """The turn as it can be stored: its feedback's quoted evidence goes if that is what makes it too
    large (the scores and the advice stay); a turn too large even so raises TooLarge."""
    if _units(turn.model_dump_json()) <= MAX_PROPERTY_UNITS:
        return turn
    # The answer's feedback and, with a follow-up's answer, the feedback on both together.
    quoting = {
        name: evaluation.model_copy(update={"evidence": []})
        for name, evaluation in (("feedback", turn.feedback), ("combined", turn.combined))
        if evaluation is not None and evaluation.evidence
    }
    if quoting:
        return storable(turn.model_copy(update=quoting))
    raise TooLarge(f"turn {turn.turn} is over {MAX_PROPERTY_UNITS} characters once stored")


class StaleWrite(Exception):
    """Someone else changed the interview first; reload and decide again."""


class AlreadyExists(Exception):
    """The row being created is there already."""


@dataclass
class Versioned:
    record: InterviewRecord
    etag: str


def turn_row(turn: int) -> str:
    return f"turn-{turn:04d}"


def _entity(partition: str, row: str, data: str) -> dict[str, str]:
    return {"PartitionKey": partition, "RowKey": row, "data": data}


# One operation of a table transaction, as the SDK takes it: (verb, entity[, options]).
Operation = tuple[Any, ...]


def _replace_if_unchanged(entity: dict[str, str], etag: str) -> Operation:
    return (
        "update",
        entity,
        {"mode": UpdateMode.REPLACE, "etag": etag, "match_condition": MatchConditions.IfNotModified},
    )


def _etag(entity: TableEntity) -> str:
    """The entity's ETag, which every guarded write needs: a read without one cannot be written back
    safely, so it fails here rather than as an unguarded overwrite later."""
    etag = entity.metadata.get("etag")
    if not etag:
        raise RuntimeError(f"table storage returned {entity.get('RowKey')!r} without an ETag")
    return etag


async def _table() -> TableClient:
    """The interviews table, for one storage operation: each is counted (a cost line on Azure)."""
    usage.note(table_operations=1)
    return await connections().table(get_settings().interviews_table)


async def _submit(operations: list[Operation]) -> None:
    # A transaction is counted once per entity in it, the upper bound of how it is billed.
    usage.note(table_operations=len(operations) - 1)
    try:
        await (await _table()).submit_transaction(operations)
    except TableTransactionError as error:
        # The SDK sets error_code on the instance without declaring it on the class.
        code = getattr(error, "error_code", None)
        if code == "EntityAlreadyExists":
            raise AlreadyExists(str(error)) from error
        # A row gone from under a guarded write: the interview was deleted meanwhile (or its deletion
        # raced another), which a caller treats like any other change: reload and decide again.
        if code in ("UpdateConditionNotSatisfied", "ConditionNotMet", "ResourceNotFound"):
            raise StaleWrite(str(error)) from error
        raise


def _created_keys(interview_id: str, created_at: datetime) -> tuple[str, str]:
    """Where the interview is listed by its creation time: a partition per UTC day, rows in time order
    (fixed-width UTC stamps sort as they read), so the interviews created before a moment are one range
    query over the keys, never a scan of the table."""
    moment = created_at.astimezone(UTC)
    return f"{CREATED_PREFIX}{moment:%Y-%m-%d}", f"{moment:%Y-%m-%dT%H:%M:%S.%fZ}_{interview_id}"


async def create_interview(record: InterviewRecord) -> None:
    """The interview's record, and its row in the list by creation time (written first: an interview
    is never stored without the row that makes it expire; a row whose record failed expires nothing)."""
    partition, row = _created_keys(record.id, record.created_at)
    await (await _table()).upsert_entity({"PartitionKey": partition, "RowKey": row, "interview": record.id})
    await (await _table()).create_entity(_entity(record.id, INTERVIEW_ROW, record.model_dump_json()))


@dataclass(frozen=True)
class Created:
    """An interview as the list by creation time knows it."""

    interview_id: str
    created_at: datetime


async def created_before(cutoff: datetime, limit: int) -> list[Created]:
    """Up to `limit` interviews created before `cutoff`, oldest first, from the list by creation time:
    one range query over the keys (the partitions of the days up to the cutoff's, the rows before it),
    which costs a table operation per page of up to 1,000 rows, however large the table."""
    last_partition, cutoff_row = _created_keys("", cutoff)
    entities = (await _table()).query_entities(
        "PartitionKey ge @first and PartitionKey le @last and RowKey lt @cutoff",
        parameters={"first": CREATED_PREFIX, "last": last_partition, "cutoff": cutoff_row},
        select=["PartitionKey", "RowKey", "interview"],
        results_per_page=min(limit, 1000),
    )
    found: list[Created] = []
    async for entity in entities:
        stamp = entity["RowKey"].rpartition("_")[0]
        found.append(
            Created(
                entity["interview"], datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
            )
        )
        if len(found) >= limit:
            break
    usage.note(table_operations=max(0, math.ceil(len(found) / 1000) - 1))  # pages past the first
    return found


async def forget_created(interview_id: str, created_at: datetime) -> None:
    """The interview's row in the list by creation time removed (gone already: nothing to do)."""
    partition, row = _created_keys(interview_id, created_at)
    with contextlib.suppress(ResourceNotFoundError):
        await (await _table()).delete_entity(partition, row)


async def load_interview(interview_id: str) -> Versioned | None:
    try:
        entity = await (await _table()).get_entity(interview_id, INTERVIEW_ROW)
    except ResourceNotFoundError:
        return None
    return Versioned(InterviewRecord.model_validate_json(entity["data"]), _etag(entity))


async def add_turn(current: Versioned, updated: InterviewRecord, turn: TurnRecord) -> None:
    """Store a new answer and the interview's new counters at once."""
    await _submit(
        [
            _replace_if_unchanged(
                _entity(updated.id, INTERVIEW_ROW, updated.model_dump_json()), current.etag
            ),
            ("create", _entity(updated.id, turn_row(turn.turn), storable(turn).model_dump_json())),
        ]
    )


async def replace_interview(current: Versioned, updated: InterviewRecord) -> None:
    """Replace the interview record unless someone changed it since it was read."""
    await _submit(
        [_replace_if_unchanged(_entity(updated.id, INTERVIEW_ROW, updated.model_dump_json()), current.etag)]
    )


async def load_turn(interview_id: str, turn: int) -> tuple[TurnRecord, str] | None:
    try:
        entity = await (await _table()).get_entity(interview_id, turn_row(turn))
    except ResourceNotFoundError:
        return None
    return TurnRecord.model_validate_json(entity["data"]), _etag(entity)


async def load_turns(interview_id: str) -> list[TurnRecord]:
    entities = (await _table()).query_entities(
        "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
        parameters={"pk": interview_id, "lo": "turn-", "hi": "turn."},
    )
    return [TurnRecord.model_validate_json(entity["data"]) async for entity in entities]


async def save_feedback(
    current: Versioned, updated: InterviewRecord, turn: TurnRecord, turn_etag: str
) -> None:
    """Store a turn's new state (its feedback, a follow-up, the follow-up's answer) and the interview's
    counters at once."""
    await _submit(
        [
            _replace_if_unchanged(
                _entity(updated.id, INTERVIEW_ROW, updated.model_dump_json()), current.etag
            ),
            _replace_if_unchanged(
                _entity(updated.id, turn_row(turn.turn), storable(turn).model_dump_json()), turn_etag
            ),
        ]
    )


async def save_report(current: Versioned, updated: InterviewRecord, report: Report) -> None:
    await _submit(
        [
            _replace_if_unchanged(
                _entity(updated.id, INTERVIEW_ROW, updated.model_dump_json()), current.etag
            ),
            ("create", _entity(updated.id, REPORT_ROW, report.model_dump_json())),
        ]
    )


async def delete_interview(interview_id: str) -> bool:
    """Every row of the interview's partition (its record, answers and report) deleted; True when its
    record was there. The record's row goes in the last transaction, guarded by its ETag: every write to
    an interview changes that row too, so an answer or a feedback landing meanwhile fails that
    transaction and the partition is listed again; nothing written during a deletion is left behind."""
    while True:
        rows = [
            entity
            async for entity in (await _table()).query_entities(
                "PartitionKey eq @pk", parameters={"pk": interview_id}, select=["RowKey"]
            )
        ]
        record = next((row for row in rows if row["RowKey"] == INTERVIEW_ROW), None)
        if record is None:
            return False
        deletes: list[Operation] = [
            ("delete", {"PartitionKey": interview_id, "RowKey": row["RowKey"]})
            for row in rows
            if row is not record
        ]
        deletes.append(
            (
                "delete",
                {"PartitionKey": interview_id, "RowKey": INTERVIEW_ROW},
                {"etag": _etag(record), "match_condition": MatchConditions.IfNotModified},
            )
        )
        # In practice one transaction (a record, a dozen answers, a report); the record is always last.
        chunks = [
            deletes[max(0, end - MAX_TRANSACTION_ENTITIES) : end]
            for end in range(len(deletes), 0, -MAX_TRANSACTION_ENTITIES)
        ][::-1]
        try:
            for chunk in chunks:
                await _submit(chunk)
        except StaleWrite:
            continue  # a write landed, or a concurrent deletion took rows first: list again
        return True


async def load_report(interview_id: str) -> Report | None:
    try:
        entity = await (await _table()).get_entity(interview_id, REPORT_ROW)
    except ResourceNotFoundError:
        return None
    return Report.model_validate_json(entity["data"])


def _example_partition(question_id: str) -> str:
    return f"{EXAMPLE_PREFIX}{question_id}"


async def load_example(question_id: str) -> ExampleAnswer | None:
    """The question's stored example answer, written by a model; None until one is."""
    try:
        entity = await (await _table()).get_entity(_example_partition(question_id), EXAMPLE_ROW)
    except ResourceNotFoundError:
        return None
    return ExampleAnswer.model_validate_json(entity["data"])


async def create_example(question_id: str, example: ExampleAnswer) -> bool:
    """Store the question's example unless one is there already (the first written stays, so every
    candidate sees the same); True when this one was stored. Its text is bounded by the prompt's limits."""
    data = example.model_dump_json()
    if _units(data) > MAX_PROPERTY_UNITS:
        raise TooLarge(f"the example of {question_id} is over {MAX_PROPERTY_UNITS} characters once stored")
    try:
        await (await _table()).create_entity(_entity(_example_partition(question_id), EXAMPLE_ROW, data))
    except ResourceExistsError:
        return False
    return True
