"""The system of record: interviews, answers and reports in Azure Table storage.

One partition per interview, so an answer and the interview's counters change together in one
entity-group transaction, guarded by ETags: a retried request or a redelivered job cannot apply twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableEntity, TableTransactionError, UpdateMode
from azure.data.tables.aio import TableClient

from core.infra import usage
from core.infra.connections import connections
from core.models import InterviewRecord, Report, TurnRecord
from core.settings import get_settings

INTERVIEW_ROW = "interview"
REPORT_ROW = "report"


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
        if code in ("UpdateConditionNotSatisfied", "ConditionNotMet"):
            raise StaleWrite(str(error)) from error
        raise


async def create_interview(record: InterviewRecord) -> None:
    await (await _table()).create_entity(_entity(record.id, INTERVIEW_ROW, record.model_dump_json()))


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


async def load_report(interview_id: str) -> Report | None:
    try:
        entity = await (await _table()).get_entity(interview_id, REPORT_ROW)
    except ResourceNotFoundError:
        return None
    return Report.model_validate_json(entity["data"])
