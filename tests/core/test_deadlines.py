"""DeadlineCalculator: natural and working hours, working days, provisional years, 延期, recomputation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from core.calendar import DayOverride, WorkCalendar
from core.deadlines import Clock, DayCounting, Deadline, DeadlineCalculator, DeadlinePolicy
from core.office_hours import BEIJING, OfficeHours

SHIPPED = Path(__file__).parents[2] / "calendar" / "overrides.yaml"

NATIONAL = DeadlineCalculator(WorkCalendar(), OfficeHours.default())
DAY_ZERO = DeadlineCalculator(WorkCalendar(), OfficeHours.default(), DayCounting.first_workday_is_day_zero)


def bj(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BEIJING)


def end_of(year: int, month: int, day: int) -> datetime:
    """23:59:59 Beijing, written out in UTC so the conversion is checked too."""
    return datetime(year, month, day, 15, 59, 59, tzinfo=UTC)


def hours(amount: int) -> DeadlinePolicy:
    return DeadlinePolicy(Clock.working_hours, amount)


def days(amount: int) -> DeadlinePolicy:
    return DeadlinePolicy(Clock.working_days, amount)


def test_natural_hours_ignore_the_calendar_and_come_back_in_utc() -> None:
    deadline = NATIONAL.due(bj(2026, 10, 1, 9), DeadlinePolicy(Clock.natural_hours, 24))
    assert deadline == Deadline(datetime(2026, 10, 2, 1, 0, tzinfo=UTC), provisional=False)
    assert deadline.due_at.tzinfo is UTC


def test_natural_hours_in_an_unknown_year_are_not_provisional() -> None:
    deadline = NATIONAL.due(bj(2027, 1, 1, 9), DeadlinePolicy(Clock.natural_hours, 2))
    assert deadline == Deadline(datetime(2027, 1, 1, 3, 0, tzinfo=UTC), provisional=False)


@pytest.mark.parametrize(
    ("start", "due"),
    [
        pytest.param(bj(2026, 3, 6, 17), bj(2026, 3, 9, 17), id="friday-to-monday"),
        pytest.param(bj(2026, 10, 9, 17), bj(2026, 10, 10, 17), id="make-up-saturday-2026-10-10"),
        pytest.param(bj(2026, 2, 13, 17), bj(2026, 2, 14, 17), id="make-up-saturday-2026-02-14"),
        pytest.param(bj(2026, 2, 27, 17), bj(2026, 2, 28, 17), id="make-up-saturday-2026-02-28"),
        pytest.param(bj(2026, 9, 30, 21), bj(2026, 10, 8, 19, 30), id="over-national-day-to-winter-close"),
        pytest.param(bj(2026, 3, 7, 12), bj(2026, 3, 9, 19, 30), id="start-on-a-weekend"),
        pytest.param(bj(2026, 11, 2, 7), bj(2026, 11, 2, 19, 30), id="start-before-opening"),
        pytest.param(bj(2026, 11, 2, 10), bj(2026, 11, 2, 19, 30), id="exactly-one-winter-day"),
        pytest.param(bj(2026, 11, 2, 19, 30), bj(2026, 11, 3, 19, 30), id="start-at-closing"),
        pytest.param(bj(2026, 7, 6, 10), bj(2026, 7, 6, 20), id="exactly-one-summer-day"),
        pytest.param(datetime(2026, 3, 6, 9, tzinfo=UTC), bj(2026, 3, 9, 17), id="start-given-in-utc"),
    ],
)
def test_eight_working_hours(start: datetime, due: datetime) -> None:
    deadline = NATIONAL.due(start, hours(8))
    assert deadline == Deadline(due.astimezone(UTC), provisional=False)
    assert deadline.due_at.tzinfo is UTC


def test_eight_working_hours_across_the_switch_to_winter_hours() -> None:
    # 09-30 is summer (16:00-20:00): 18:00-20:00 counts 2h. After the holiday, 10-08 is winter:
    # 10:00-14:00 counts 4h and the last 2h run 15:30-17:30 (summer would have said 18:00).
    assert NATIONAL.due(bj(2026, 9, 30, 18), hours(8)).due_at == bj(2026, 10, 8, 17, 30)


def test_eight_working_hours_across_the_switch_to_summer_hours() -> None:
    # 04-30 is winter: 18:00-19:30 counts 1.5h. 05-01..05-05 are holidays; 05-06 is summer:
    # 10:00-14:00 counts 4h and the last 2.5h run 16:00-18:30 (winter would have said 18:00).
    assert NATIONAL.due(bj(2026, 4, 30, 18), hours(8)).due_at == bj(2026, 5, 6, 18, 30)


def test_start_in_the_lunch_break_begins_at_the_afternoon_window() -> None:
    assert NATIONAL.due(bj(2026, 11, 2, 14, 30), hours(1)).due_at == bj(2026, 11, 2, 16, 30)
    assert NATIONAL.due(bj(2026, 7, 6, 15), hours(1)).due_at == bj(2026, 7, 6, 17)


def test_working_hours_into_an_unknown_year_are_provisional() -> None:
    # 2027-01-01 is a Friday, so the Mon–Fri fallback counts it as a working day.
    assert NATIONAL.due(bj(2026, 12, 31, 17), hours(8)) == Deadline(
        bj(2026, 12, 31, 17) + timedelta(days=1), True
    )
    # Finishing within 2026 does not touch 2027.
    assert NATIONAL.due(bj(2026, 12, 31, 10), hours(8)) == Deadline(bj(2026, 12, 31, 19, 30), False)


@pytest.mark.parametrize(
    ("start", "strict", "day_zero"),
    [
        pytest.param(bj(2026, 3, 2, 10), end_of(2026, 3, 11), end_of(2026, 3, 11), id="monday"),
        pytest.param(bj(2026, 3, 7, 10), end_of(2026, 3, 17), end_of(2026, 3, 18), id="saturday"),
        pytest.param(bj(2026, 10, 1, 10), end_of(2026, 10, 15), end_of(2026, 10, 16), id="national-day"),
        pytest.param(bj(2026, 2, 13, 10), end_of(2026, 3, 2), end_of(2026, 3, 2), id="spring-festival"),
        pytest.param(
            bj(2026, 10, 9, 23, 59),
            end_of(2026, 10, 19),
            end_of(2026, 10, 19),
            id="friday-before-make-up-day",
        ),
    ],
)
def test_seven_working_days_under_both_readings(
    start: datetime, strict: datetime, day_zero: datetime
) -> None:
    assert NATIONAL.due(start, days(7)) == Deadline(strict, provisional=False)
    assert DAY_ZERO.due(start, days(7)) == Deadline(day_zero, provisional=False)


def test_the_start_day_is_the_beijing_day_not_the_utc_day() -> None:
    # Thu 2026-03-05 20:00 UTC is Fri 03-06 04:00 in Beijing: counting starts on Mon 03-09, not Fri 03-06.
    assert NATIONAL.due(datetime(2026, 3, 5, 20, tzinfo=UTC), days(7)).due_at == end_of(2026, 3, 17)
    assert NATIONAL.due(datetime(2026, 3, 5, 15, tzinfo=UTC), days(7)).due_at == end_of(2026, 3, 16)


def test_both_readings_against_chinese_calendar_find_workday() -> None:
    day = date(2025, 1, 1)
    while day <= date(2026, 11, 30):
        start = bj(day.year, day.month, day.day, 12)
        library = chinese_calendar.find_workday(7, day)
        assert DAY_ZERO.due(start, days(7)).due_at == end_of(library.year, library.month, library.day), day
        # On a working day the readings agree; on a rest day the strict count ends a working day earlier.
        strict = library if chinese_calendar.is_workday(day) else chinese_calendar.find_workday(6, day)
        assert NATIONAL.due(start, days(7)).due_at == end_of(strict.year, strict.month, strict.day), day
        day += timedelta(days=1)


def test_day_counting_can_be_given_as_text() -> None:
    calculator = DeadlineCalculator(WorkCalendar(), OfficeHours.default(), "first_workday_is_day_zero")  # type: ignore[arg-type]
    assert calculator.due(bj(2026, 3, 7, 10), days(7)).due_at == end_of(2026, 3, 18)


def test_seven_working_days_into_an_unknown_year_are_provisional_monday_to_friday() -> None:
    # 12-29, 12-30, 12-31, then the fallback: Fri 2027-01-01 (!), Mon 01-04, Tue 01-05, Wed 01-06.
    assert NATIONAL.due(bj(2026, 12, 28, 10), days(7)) == Deadline(end_of(2027, 1, 6), provisional=True)
    assert NATIONAL.due(bj(2026, 12, 21, 10), days(7)) == Deadline(end_of(2026, 12, 30), provisional=False)


def test_rest_day_start_in_an_unknown_year_under_both_readings() -> None:
    assert NATIONAL.due(bj(2027, 1, 2, 10), days(7)) == Deadline(end_of(2027, 1, 12), provisional=True)
    assert DAY_ZERO.due(bj(2027, 1, 2, 10), days(7)) == Deadline(end_of(2027, 1, 13), provisional=True)


def test_an_override_holiday_in_an_unknown_year_moves_the_due_date_but_stays_provisional() -> None:
    calendar = WorkCalendar([DayOverride(date(2027, 1, 1), "holiday", "元旦")])
    calculator = DeadlineCalculator(calendar, OfficeHours.default())
    assert calculator.due(bj(2026, 12, 28, 10), days(7)) == Deadline(end_of(2027, 1, 7), provisional=True)


def test_declaring_the_year_complete_makes_the_deadline_final() -> None:
    calendar = WorkCalendar([DayOverride(date(2027, 1, 1), "holiday", "元旦")], complete_years=[2027])
    calculator = DeadlineCalculator(calendar, OfficeHours.default())
    assert calculator.due(bj(2026, 12, 28, 10), days(7)) == Deadline(end_of(2027, 1, 7), provisional=False)
    assert calculator.due(bj(2026, 12, 31, 17), hours(8)) == Deadline(bj(2027, 1, 4, 17), provisional=False)


def test_xinjiang_kurban_bayram_2025_with_the_shipped_overrides() -> None:
    xinjiang = DeadlineCalculator(WorkCalendar.from_file(SHIPPED), OfficeHours.default())
    assert NATIONAL.due(bj(2025, 6, 4, 10), days(7)) == Deadline(end_of(2025, 6, 13), provisional=False)
    assert xinjiang.due(bj(2025, 6, 4, 10), days(7)) == Deadline(end_of(2025, 6, 18), provisional=False)


def test_xinjiang_ramadan_2025_in_working_hours() -> None:
    xinjiang = DeadlineCalculator(WorkCalendar.from_file(SHIPPED), OfficeHours.default())
    # Fri 03-28 17:00 (winter hours): 2.5h that day; Mon 03-31 is 肉孜节 in Xinjiang only.
    assert NATIONAL.due(bj(2025, 3, 28, 17), hours(8)).due_at == bj(2025, 3, 31, 17)
    assert xinjiang.due(bj(2025, 3, 28, 17), hours(8)).due_at == bj(2025, 4, 1, 17)


def test_extend_counts_working_days_from_the_current_due_date() -> None:
    current = Deadline(bj(2026, 9, 29, 23, 59, 59), provisional=False)
    # 09-30, then the National Day break, 10-08, 10-09.
    assert NATIONAL.extend(current, 3) == Deadline(end_of(2026, 10, 9), provisional=False)
    assert NATIONAL.extend(current, 4) == Deadline(end_of(2026, 10, 10), provisional=False)


def test_extend_into_an_unknown_year_is_provisional_and_provisional_stays_provisional() -> None:
    assert NATIONAL.extend(Deadline(end_of(2026, 12, 30), False), 5) == Deadline(end_of(2027, 1, 6), True)
    assert NATIONAL.extend(Deadline(end_of(2026, 3, 2), True), 1) == Deadline(end_of(2026, 3, 3), True)


def test_extend_a_working_hours_deadline_ends_at_the_end_of_a_day() -> None:
    current = NATIONAL.due(bj(2026, 3, 6, 17), hours(8))  # Mon 03-09 17:00
    assert NATIONAL.extend(current, 2) == Deadline(end_of(2026, 3, 11), provisional=False)


@pytest.mark.parametrize("bad", [0, -1, 367, True, 1.5])
def test_extend_refuses_bad_amounts(bad: object) -> None:
    with pytest.raises(ValueError, match="extension must be a whole number from 1 to 366"):
        NATIONAL.extend(Deadline(end_of(2026, 3, 2), False), bad)  # type: ignore[arg-type]


def test_never_shorter_takes_a_later_recomputation() -> None:
    previous = NATIONAL.due(bj(2026, 12, 28, 10), days(7))  # 2027-01-06, provisional
    notice = WorkCalendar([DayOverride(date(2027, 1, 1), "holiday", "元旦")], complete_years=[2027])
    recomputed = DeadlineCalculator(notice, OfficeHours.default()).due(bj(2026, 12, 28, 10), days(7))
    assert DeadlineCalculator.never_shorter(previous, recomputed) == Deadline(end_of(2027, 1, 7), False)


def test_never_shorter_keeps_the_communicated_deadline_when_the_recomputation_is_earlier() -> None:
    previous = NATIONAL.due(bj(2026, 12, 28, 10), days(7))  # 2027-01-06, provisional
    # A (made-up) notice with a make-up working Saturday on 2027-01-02 would give 01-05.
    notice = WorkCalendar([DayOverride(date(2027, 1, 2), "workday", "调休")], complete_years=[2027])
    recomputed = DeadlineCalculator(notice, OfficeHours.default()).due(bj(2026, 12, 28, 10), days(7))
    assert recomputed == Deadline(end_of(2027, 1, 5), False)
    assert NATIONAL.never_shorter(previous, recomputed) == Deadline(end_of(2027, 1, 6), True)


def test_never_shorter_on_a_tie_takes_the_recomputation() -> None:
    previous = Deadline(end_of(2027, 1, 6), True)
    recomputed = Deadline(end_of(2027, 1, 6), False)
    assert NATIONAL.never_shorter(previous, recomputed) == Deadline(end_of(2027, 1, 6), False)


@pytest.mark.parametrize(
    ("start", "end", "left"),
    [
        pytest.param(bj(2026, 3, 6, 17), bj(2026, 3, 9, 17), timedelta(hours=8), id="over-a-weekend"),
        pytest.param(
            bj(2026, 9, 30, 21), bj(2026, 10, 8, 19, 30), timedelta(hours=8), id="over-national-day"
        ),
        pytest.param(
            bj(2026, 11, 2, 10, 30), bj(2026, 11, 2, 11), timedelta(minutes=30), id="inside-a-window"
        ),
        pytest.param(bj(2026, 11, 2, 14, 10), bj(2026, 11, 2, 15, 20), timedelta(0), id="lunch-break"),
        pytest.param(bj(2026, 11, 2, 13), bj(2026, 11, 2, 16), timedelta(minutes=90), id="across-lunch"),
        pytest.param(bj(2026, 10, 1), bj(2026, 10, 8), timedelta(0), id="holiday-week"),
        pytest.param(bj(2026, 10, 10), bj(2026, 10, 11), timedelta(hours=8), id="make-up-saturday"),
        pytest.param(bj(2026, 3, 9, 17), bj(2026, 3, 6, 17), timedelta(0), id="end-before-start"),
        pytest.param(bj(2026, 3, 9, 17), bj(2026, 3, 9, 17), timedelta(0), id="end-equals-start"),
    ],
)
def test_working_time_between(start: datetime, end: datetime, left: timedelta) -> None:
    assert NATIONAL.working_time_between(start, end) == left


@pytest.mark.parametrize(
    "start", [bj(2026, 3, 6, 17), bj(2026, 9, 30, 18), bj(2026, 4, 30, 18, 17), bj(2026, 2, 13, 11, 45)]
)
def test_working_time_between_a_start_and_its_deadline_is_the_amount(start: datetime) -> None:
    deadline = NATIONAL.due(start, hours(13))
    assert NATIONAL.working_time_between(start, deadline.due_at) == timedelta(hours=13)


def test_working_time_between_refuses_naive_times_and_huge_spans() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        NATIONAL.working_time_between(datetime(2026, 3, 6, 17), bj(2026, 3, 9, 17))
    with pytest.raises(ValueError, match="exceeds"):
        NATIONAL.working_time_between(bj(2000, 1, 1), bj(2026, 1, 1))


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        NATIONAL.due(datetime(2026, 3, 6, 17), days(7))


def test_a_year_of_working_days_is_accepted_and_runs_into_the_fallback() -> None:
    # 2026 has 248 working days, 246 of them after Mon 01-05; 120 more Mon–Fri days in 2027 end on Thu 06-17.
    assert NATIONAL.due(bj(2026, 1, 5, 10), days(366)) == Deadline(end_of(2027, 6, 17), provisional=True)


@pytest.mark.parametrize(
    ("clock", "amount"),
    [
        (Clock.working_days, 0),
        (Clock.working_days, -7),
        (Clock.working_days, 367),
        (Clock.working_hours, 366 * 24 + 1),
        (Clock.natural_hours, 366 * 24 + 1),
        (Clock.working_days, True),
        (Clock.working_days, 7.0),
    ],
)
def test_policy_refuses_bad_amounts(clock: Clock, amount: object) -> None:
    with pytest.raises(ValueError, match="deadline amount must be a whole number"):
        DeadlinePolicy(clock, amount)  # type: ignore[arg-type]


def test_policy_clock_can_come_from_configuration_text() -> None:
    assert DeadlinePolicy("working_days", 7) == DeadlinePolicy(Clock.working_days, 7)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'fortnights' is not a valid Clock"):
        DeadlinePolicy("fortnights", 7)  # type: ignore[arg-type]


def test_deadline_is_stored_in_utc_and_must_be_aware() -> None:
    assert Deadline(bj(2026, 3, 9, 17), False).due_at == datetime(2026, 3, 9, 9, tzinfo=UTC)
    assert Deadline(bj(2026, 3, 9, 17), False).due_at.tzinfo is UTC
    with pytest.raises(ValueError, match="due_at must be timezone-aware"):
        Deadline(datetime(2026, 3, 9, 17), False)


def test_walks_are_bounded_when_there_is_no_working_day() -> None:
    start = date(2026, 1, 1)
    no_work = WorkCalendar([DayOverride(start + timedelta(days=n), "holiday", "closed") for n in range(3700)])
    for counting in DayCounting:
        calculator = DeadlineCalculator(no_work, OfficeHours.default(), counting)
        with pytest.raises(ValueError, match="within 3660 days"):
            calculator.due(bj(2026, 1, 1, 10), days(1))
        with pytest.raises(ValueError, match="within 3660 days"):
            calculator.due(bj(2026, 1, 1, 10), hours(1))
        with pytest.raises(ValueError, match="within 3660 days"):
            calculator.extend(Deadline(end_of(2026, 1, 1), False), 1)
