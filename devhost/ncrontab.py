"""NCRONTAB schedules, the six-field cron dialect of Azure Functions timer triggers.

Fields: second minute hour day month day-of-week. As in NCrontab, a time matches
when every field matches: day-of-month and day-of-week are combined with AND,
not with the OR of Unix cron.
"""

import bisect
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from devhost.startup_error import StartupError

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# A schedule such as "0 0 0 29 2 1" (29 February on a Monday) recurs every 28 years.
_SEARCH_HORIZON_YEARS = 29
_ELEMENT = re.compile(r"^(?:(?P<all>\*)|(?P<start>\w+)(?:-(?P<end>\w+))?)(?:/(?P<step>\d+))?$")


class InvalidSchedule(StartupError, ValueError):
    """The expression is not a valid NCRONTAB schedule."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    names_start: int = 0

    def parse(self, text: str) -> tuple[int, ...]:
        values: set[int] = set()
        for element in text.split(","):
            values.update(self._parse_element(element))
        return tuple(sorted(values))

    def _parse_element(self, element: str) -> range:
        match = _ELEMENT.match(element)
        if not match:
            raise InvalidSchedule(f"{self.name} field: cannot parse {element!r}")
        step = int(match["step"] or 1)
        if step == 0:
            raise InvalidSchedule(f"{self.name} field: step 0 in {element!r}")
        if match["all"]:
            return range(self.low, self.high + 1, step)
        start = self._value(match["start"])
        # "a/n" means every n-th value from a; a bare "a" is that value alone.
        end = self._value(match["end"]) if match["end"] else self.high if match["step"] else start
        if start > end:
            raise InvalidSchedule(f"{self.name} field: range {element!r} runs backwards")
        return range(start, end + 1, step)

    def _value(self, token: str) -> int:
        if token.isdigit():
            value = int(token)
        elif token.lower() in self.names:
            value = self.names.index(token.lower()) + self.names_start
        else:
            raise InvalidSchedule(f"{self.name} field: {token!r} is not a number or a known name")
        if not self.low <= value <= self.high:
            raise InvalidSchedule(f"{self.name} field: {value} is outside {self.low}-{self.high}")
        return value


_FIELDS = (
    _Field("second", 0, 59),
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day", 1, 31),
    _Field("month", 1, 12, _MONTH_NAMES, names_start=1),
    _Field("day-of-week", 0, 6, _DAY_NAMES),
)


def _first_at_or_after(values: tuple[int, ...], current: int) -> int | None:
    index = bisect.bisect_left(values, current)
    return values[index] if index < len(values) else None


class CrontabSchedule:
    """A parsed NCRONTAB expression that yields its occurrences."""

    def __init__(self, expression: str) -> None:
        parts = expression.split()
        if len(parts) == 5:
            raise InvalidSchedule(
                f"{expression!r} has 5 fields; Azure Functions needs 6 "
                "(second minute hour day month day-of-week), e.g. '0 " + expression.strip() + "'"
            )
        if len(parts) != 6:
            raise InvalidSchedule(
                f"{expression!r} has {len(parts)} fields; expected 6 "
                "(second minute hour day month day-of-week)"
            )
        self.expression = expression
        (
            self._seconds,
            self._minutes,
            self._hours,
            self._days,
            self._months,
            self._days_of_week,
        ) = (field.parse(part) for field, part in zip(_FIELDS, parts, strict=True))
        # Fail at start-up rather than at the first tick when no date can match (e.g. 30 February).
        self.next_after(datetime(2000, 1, 1))

    def next_after(self, moment: datetime) -> datetime:
        """The first occurrence strictly after `moment` (same tzinfo as `moment`)."""
        candidate = moment.replace(microsecond=0) + timedelta(seconds=1)
        horizon = moment.year + _SEARCH_HORIZON_YEARS
        while candidate.year <= horizon:
            month = _first_at_or_after(self._months, candidate.month)
            if month is None:
                candidate = candidate.replace(
                    year=candidate.year + 1, month=1, day=1, hour=0, minute=0, second=0
                )
                continue
            if month != candidate.month:
                candidate = candidate.replace(month=month, day=1, hour=0, minute=0, second=0)
            if not self._day_matches(candidate):
                candidate = candidate.replace(hour=0, minute=0, second=0) + timedelta(days=1)
                continue
            hour = _first_at_or_after(self._hours, candidate.hour)
            if hour is None:
                candidate = candidate.replace(hour=0, minute=0, second=0) + timedelta(days=1)
                continue
            if hour != candidate.hour:
                candidate = candidate.replace(hour=hour, minute=0, second=0)
            minute = _first_at_or_after(self._minutes, candidate.minute)
            if minute is None:
                candidate = candidate.replace(minute=0, second=0) + timedelta(hours=1)
                continue
            if minute != candidate.minute:
                candidate = candidate.replace(minute=minute, second=0)
            second = _first_at_or_after(self._seconds, candidate.second)
            if second is None:
                candidate = candidate.replace(second=0) + timedelta(minutes=1)
                continue
            return candidate.replace(second=second)
        raise InvalidSchedule(f"{self.expression!r} never occurs")

    def _day_matches(self, moment: datetime) -> bool:
        cron_day_of_week = (moment.weekday() + 1) % 7
        return moment.day in self._days and cron_day_of_week in self._days_of_week

    def __str__(self) -> str:
        return self.expression
