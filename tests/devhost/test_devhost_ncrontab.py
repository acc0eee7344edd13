"""NCRONTAB parsing and next-occurrence computation."""

from datetime import UTC, datetime

import pytest

from devhost.ncrontab import CrontabSchedule, InvalidSchedule

# Thursday 31 January 2024, half a second before midnight.
START = datetime(2024, 1, 31, 23, 59, 59, 500_000, tzinfo=UTC)


def _occurrences(expression: str, count: int, start: datetime = START) -> list[str]:
    schedule = CrontabSchedule(expression)
    moments = []
    for _ in range(count):
        start = schedule.next_after(start)
        moments.append(start.strftime("%Y-%m-%d %a %H:%M:%S"))
    return moments


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("* * * * * *", ["2024-02-01 Thu 00:00:00", "2024-02-01 Thu 00:00:01", "2024-02-01 Thu 00:00:02"]),
        ("0 */5 * * * *", ["2024-02-01 Thu 00:00:00", "2024-02-01 Thu 00:05:00", "2024-02-01 Thu 00:10:00"]),
        ("30 15 9 * * *", ["2024-02-01 Thu 09:15:30", "2024-02-02 Fri 09:15:30", "2024-02-03 Sat 09:15:30"]),
        (
            "0 0 9-17/4 * * Mon-Fri",
            ["2024-02-01 Thu 09:00:00", "2024-02-01 Thu 13:00:00", "2024-02-01 Thu 17:00:00"],
        ),
        ("0 30 9 * * 1", ["2024-02-05 Mon 09:30:00", "2024-02-12 Mon 09:30:00", "2024-02-19 Mon 09:30:00"]),
        (
            "0 0 0 * * sat,SUN",
            ["2024-02-03 Sat 00:00:00", "2024-02-04 Sun 00:00:00", "2024-02-10 Sat 00:00:00"],
        ),
        (
            "0 0 12 1 jan,Jul *",
            ["2024-07-01 Mon 12:00:00", "2025-01-01 Wed 12:00:00", "2025-07-01 Tue 12:00:00"],
        ),
        ("0 0 0 29 2 *", ["2024-02-29 Thu 00:00:00", "2028-02-29 Tue 00:00:00", "2032-02-29 Sun 00:00:00"]),
        ("5/20 0 0 * * *", ["2024-02-01 Thu 00:00:05", "2024-02-01 Thu 00:00:25", "2024-02-01 Thu 00:00:45"]),
        ("0 0 0 13 * 5", ["2024-09-13 Fri 00:00:00", "2024-12-13 Fri 00:00:00", "2025-06-13 Fri 00:00:00"]),
        (
            "59 59 23 31 12 *",
            ["2024-12-31 Tue 23:59:59", "2025-12-31 Wed 23:59:59", "2026-12-31 Thu 23:59:59"],
        ),
    ],
)
def test_next_occurrences(expression: str, expected: list[str]) -> None:
    assert _occurrences(expression, len(expected)) == expected


def test_next_is_strictly_after_an_exact_occurrence() -> None:
    exact = datetime(2024, 1, 1, 0, 5, 0, tzinfo=UTC)

    assert CrontabSchedule("0 */5 * * * *").next_after(exact) == datetime(2024, 1, 1, 0, 10, 0, tzinfo=UTC)


def test_sparse_schedule_is_found_without_scanning_every_second() -> None:
    # 29 February on a Monday: next in 2044, twenty years on.
    assert _occurrences("0 0 0 29 2 1", 1) == ["2044-02-29 Mon 00:00:00"]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("0 */5 * * *", "has 5 fields; Azure Functions needs 6"),
        ("* * * *", "has 4 fields; expected 6"),
        ("0 0 24 * * *", "hour field: 24 is outside 0-23"),
        ("60 * * * * *", "second field: 60 is outside 0-59"),
        ("0 0 0 0 * *", "day field: 0 is outside 1-31"),
        ("0 0 0 * 13 *", "month field: 13 is outside 1-12"),
        ("0 0 0 * * 7", "day-of-week field: 7 is outside 0-6"),
        ("0 0 0 * * Funday", "day-of-week field: 'Funday' is not a number or a known name"),
        ("*/0 * * * * *", "second field: step 0"),
        ("0 0 17-9 * * *", "range '17-9' runs backwards"),
        ("0 0 0 1,,2 * *", "day field: cannot parse ''"),
        ("0 0 0 30 2 *", "never occurs"),
    ],
)
def test_invalid_expressions_are_rejected_with_a_reason(expression: str, message: str) -> None:
    with pytest.raises(InvalidSchedule, match=message.replace("*", r"\*")):
        CrontabSchedule(expression)
