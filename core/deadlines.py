"""Deadline arithmetic: natural hours, working hours and working days over the calendar and office hours.

Everything is computed in Beijing time and returned in UTC. A deadline that relied on the Monday–Friday
guess for a year nobody has published yet is provisional; recomputing it later may extend it, never
shorten it (``never_shorter``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from core.calendar import WorkCalendar
from core.office_hours import BEIJING, OfficeHours

MAX_WORKING_DAYS = 366
MAX_HOURS = MAX_WORKING_DAYS * 24
# Calendar days a single walk may scan before giving up, so a calendar without working days (say, an
# override file that marks years as holidays) cannot make a computation loop forever.
MAX_WALK_DAYS = 10 * 366

_ONE_DAY = dt.timedelta(days=1)
_END_OF_DAY = dt.time(23, 59, 59)


class Clock(StrEnum):
    natural_hours = "natural_hours"
    working_hours = "working_hours"
    working_days = "working_days"


class DayCounting(StrEnum):
    """How "n working days from the start" is read when the start falls on a rest day.

    Both readings agree when the start day is a working day.
    """

    # 民法典 第201条: the start day is not counted, counting starts the next day, and rest days are not
    # counted; the deadline is the n-th working day strictly after the start date.
    next_day = "next_day"
    # chinese_calendar.find_workday's reading: the first working day on or after the start date is
    # day 0, so a start on a rest day ends one working day later than the strict count.
    first_workday_is_day_zero = "first_workday_is_day_zero"


@dataclass(frozen=True)
class DeadlinePolicy:
    """A clock and an amount (hours or working days); ``clock`` may be given as its configuration text."""

    clock: Clock
    amount: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "clock", Clock(self.clock))
        limit = MAX_WORKING_DAYS if self.clock is Clock.working_days else MAX_HOURS
        _check_count(self.amount, limit, "deadline amount")


@dataclass(frozen=True)
class Deadline:
    due_at: dt.datetime
    provisional: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "due_at", _aware(self.due_at, "due_at").astimezone(dt.UTC))


class DeadlineCalculator:
    def __init__(
        self,
        calendar: WorkCalendar,
        office_hours: OfficeHours,
        day_counting: DayCounting = DayCounting.next_day,
    ) -> None:
        self._calendar = calendar
        self._office_hours = office_hours
        self._day_counting = DayCounting(day_counting)
        # Every intake walks the same few days: the answers for one calendar never change.
        self._walks: dict[tuple[dt.date, int], tuple[dt.date, bool]] = {}

    @property
    def calendar(self) -> WorkCalendar:
        return self._calendar

    def due(self, start: dt.datetime, policy: DeadlinePolicy) -> Deadline:
        start = _aware(start, "start")
        if policy.clock is Clock.natural_hours:
            return Deadline(start + dt.timedelta(hours=policy.amount), provisional=False)
        local = start.astimezone(BEIJING)
        if policy.clock is Clock.working_hours:
            return self._add_working_hours(local, dt.timedelta(hours=policy.amount))
        first = local.date()
        provisional = False
        if self._day_counting is DayCounting.first_workday_is_day_zero:
            first, provisional = self._first_workday_from(first)
        last, walked_fallback = self._nth_workday_after(first, policy.amount)
        return Deadline(_end_of(last), provisional or walked_fallback)

    def extend(self, current: Deadline, days: int) -> Deadline:
        """延期: ``days`` working days counted from the current due date, due at the end of the last one."""
        _check_count(days, MAX_WORKING_DAYS, "extension")
        last, walked_fallback = self._nth_workday_after(current.due_at.astimezone(BEIJING).date(), days)
        return Deadline(_end_of(last), current.provisional or walked_fallback)

    @staticmethod
    def never_shorter(previous: Deadline, recomputed: Deadline) -> Deadline:
        """The later of a communicated deadline and its recomputation; on a tie the recomputation wins,
        since it rests on newer calendar data."""
        return previous if previous.due_at > recomputed.due_at else recomputed

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Office-hour time on working days within [start, end); zero when end is not after start."""
        start = _aware(start, "start").astimezone(BEIJING)
        end = _aware(end, "end").astimezone(BEIJING)
        if end <= start:
            return dt.timedelta(0)
        if (end.date() - start.date()).days > MAX_WALK_DAYS:
            raise ValueError(f"span from {start} to {end} exceeds {MAX_WALK_DAYS} days")
        total = dt.timedelta(0)
        day = start.date()
        while day <= end.date():
            if self._calendar.is_workday(day):
                for begin, close in self._office_hours.windows(day):
                    overlap = min(close, end) - max(begin, start)
                    if overlap > dt.timedelta(0):
                        total += overlap
            day += _ONE_DAY
        return total

    def _add_working_hours(self, start: dt.datetime, amount: dt.timedelta) -> Deadline:
        remaining = amount
        provisional = False
        day = start.date()
        for _ in range(MAX_WALK_DAYS):
            provisional |= not self._calendar.is_known(day)
            if self._calendar.is_workday(day):
                for opens, close in self._office_hours.windows(day):
                    begin = max(opens, start)
                    if close <= begin:
                        continue
                    # ">=": a deadline that uses up a window exactly is due at its close, not at the
                    # opening of the next one.
                    if close - begin >= remaining:
                        return Deadline(begin + remaining, provisional)
                    remaining -= close - begin
            day += _ONE_DAY
        raise ValueError(f"no {amount} of office hours within {MAX_WALK_DAYS} days after {start}")

    def _first_workday_from(self, day: dt.date) -> tuple[dt.date, bool]:
        """The first working day on or after ``day``, and whether a fallback day was consulted."""
        provisional = False
        for _ in range(MAX_WALK_DAYS):
            provisional |= not self._calendar.is_known(day)
            if self._calendar.is_workday(day):
                return day, provisional
            day += _ONE_DAY
        raise ValueError(f"no working day within {MAX_WALK_DAYS} days from {day}")

    def _nth_workday_after(self, day: dt.date, n: int) -> tuple[dt.date, bool]:
        """The n-th working day strictly after ``day``, and whether a fallback day was consulted."""
        key = (day, n)
        if (known := self._walks.get(key)) is None:
            known = self._walks[key] = self._walk(day, n)
        return known

    def _walk(self, day: dt.date, n: int) -> tuple[dt.date, bool]:
        provisional = False
        for _ in range(MAX_WALK_DAYS):
            day += _ONE_DAY
            provisional |= not self._calendar.is_known(day)
            if self._calendar.is_workday(day):
                n -= 1
                if n == 0:
                    return day, provisional
        raise ValueError(f"fewer than the needed working days within {MAX_WALK_DAYS} days, up to {day}")


def _check_count(value: int, limit: int, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= limit:
        raise ValueError(f"{what} must be a whole number from 1 to {limit}, got {value!r}")


def _aware(moment: dt.datetime, name: str) -> dt.datetime:
    if not isinstance(moment, dt.datetime):
        raise TypeError(f"{name} must be a datetime, got {moment!r}")
    if moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment


def _end_of(day: dt.date) -> dt.datetime:
    """23:59:59 Beijing time of ``day`` (民法典 第203条: a period ends at 24:00 of its last day)."""
    return dt.datetime.combine(day, _END_OF_DAY, tzinfo=BEIJING)
