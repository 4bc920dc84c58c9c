"""WorkCalendar: national calendar with 调休, overrides, the Mon–Fri fallback and the override file."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from core.calendar import CalendarConfigError, DayOverride, WorkCalendar

SHIPPED = Path(__file__).parents[2] / "calendar" / "overrides.yaml"


def test_weekends_are_rest_days_and_weekdays_working_days() -> None:
    calendar = WorkCalendar()
    assert calendar.is_workday(date(2026, 3, 6))  # Friday
    assert not calendar.is_workday(date(2026, 3, 7))  # Saturday
    assert not calendar.is_workday(date(2026, 3, 8))  # Sunday
    assert calendar.is_workday(date(2026, 3, 9))  # Monday
    assert calendar.is_known(date(2026, 3, 7))


def test_national_day_2026_is_off_from_october_1_to_7() -> None:
    calendar = WorkCalendar()
    golden_week = [date(2026, 10, 1) + timedelta(days=offset) for offset in range(7)]
    assert [calendar.is_workday(day) for day in golden_week] == [False] * 7
    assert calendar.is_workday(date(2026, 9, 30))
    assert calendar.is_workday(date(2026, 10, 8))


@pytest.mark.parametrize("day", [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 10, 10)])
def test_make_up_weekend_days_are_working_days(day: date) -> None:
    assert day.weekday() >= 5
    assert WorkCalendar().is_workday(day)
    assert WorkCalendar().is_known(day)


def test_agrees_with_chinese_calendar_on_every_published_day_without_overrides() -> None:
    calendar = WorkCalendar()
    day = date(2025, 1, 1)
    while day <= date(2026, 12, 31):
        assert calendar.is_workday(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_unknown_year_falls_back_to_monday_to_friday_and_is_not_known() -> None:
    calendar = WorkCalendar()
    new_year = date(2027, 1, 1)  # a Friday; surely a holiday, but nobody has published 2027 yet
    assert calendar.is_workday(new_year)
    assert not calendar.is_known(new_year)
    assert not calendar.is_workday(date(2027, 1, 2))
    assert not calendar.is_known(date(2027, 1, 2))
    # Before the library's range too: 2003-10-01 was a holiday, the fallback only sees a Wednesday.
    assert calendar.is_workday(date(2003, 10, 1))
    assert not calendar.is_known(date(2003, 10, 1))


def test_a_year_declared_complete_is_known() -> None:
    calendar = WorkCalendar(complete_years=[2027])
    assert calendar.is_known(date(2027, 3, 3))
    assert calendar.is_workday(date(2027, 3, 3))
    assert not calendar.is_known(date(2028, 3, 3))


def test_override_holiday_in_an_unknown_year_is_known_but_the_rest_of_the_year_is_not() -> None:
    calendar = WorkCalendar([DayOverride(date(2027, 1, 1), "holiday", "元旦")])
    assert not calendar.is_workday(date(2027, 1, 1))
    assert calendar.is_known(date(2027, 1, 1))
    assert not calendar.is_known(date(2027, 1, 4))


def test_overrides_win_over_the_library_both_ways() -> None:
    calendar = WorkCalendar(
        [
            DayOverride(date(2026, 3, 9), "holiday", "test holiday", region="XJ"),
            DayOverride(date(2026, 3, 7), "workday", "test make-up day"),
        ]
    )
    assert not calendar.is_workday(date(2026, 3, 9))
    assert calendar.is_workday(date(2026, 3, 7))
    assert calendar.is_workday(date(2026, 3, 10))


def test_shipped_file_holds_the_xinjiang_regional_holidays() -> None:
    calendar = WorkCalendar.from_file(SHIPPED)
    national = WorkCalendar()
    ramadan_2025 = [date(2025, 3, 29), date(2025, 3, 30), date(2025, 3, 31)]
    kurban_2025 = [date(2025, 6, day) for day in range(6, 11)]
    kurban_2022 = [date(2022, 7, day) for day in range(9, 14)]
    for day in [*ramadan_2025, *kurban_2025, date(2022, 5, 5), *kurban_2022]:
        assert not calendar.is_workday(day), day
        assert calendar.is_known(day), day
    # Weekdays the regional notice gives off that are working days nationally.
    assert national.is_workday(date(2025, 3, 31))
    assert national.is_workday(date(2025, 6, 9))
    assert national.is_workday(date(2022, 5, 5))
    # No extra make-up day: the days around the breaks are unchanged.
    assert calendar.is_workday(date(2025, 4, 1))
    assert calendar.is_workday(date(2025, 6, 11))
    assert calendar.is_workday(date(2025, 4, 27))  # the national make-up Sunday still applies
    assert calendar.is_workday(date(2022, 7, 14))


def test_shipped_file_changes_nothing_outside_its_entries() -> None:
    calendar = WorkCalendar.from_file(SHIPPED)
    changed = set()
    day = date(2022, 1, 1)
    while day <= date(2026, 12, 31):
        if calendar.is_workday(day) != chinese_calendar.is_workday(day):
            changed.add(day)
        day += timedelta(days=1)
    # Only the weekdays of the regional breaks differ; their weekend days were rest days anyway.
    assert changed == {
        date(2022, 5, 5),
        date(2022, 7, 11),
        date(2022, 7, 12),
        date(2022, 7, 13),
        date(2025, 3, 31),
        date(2025, 6, 6),
        date(2025, 6, 9),
        date(2025, 6, 10),
    }


def test_no_file_means_no_overrides() -> None:
    calendar = WorkCalendar.from_file(None)
    assert calendar.is_workday(date(2025, 3, 31))


def test_a_datetime_is_refused_because_its_day_depends_on_the_time_zone() -> None:
    with pytest.raises(TypeError):
        WorkCalendar().is_workday(datetime(2026, 3, 9, 12))


def test_conflicting_overrides_are_refused() -> None:
    with pytest.raises(CalendarConfigError, match="2026-03-09 is both holiday"):
        WorkCalendar(
            [
                DayOverride(date(2026, 3, 9), "holiday", "a"),
                DayOverride(date(2026, 3, 9), "workday", "b"),
            ]
        )


def test_override_with_unknown_kind_is_refused() -> None:
    with pytest.raises(CalendarConfigError, match="unknown kind 'rest'"):
        DayOverride(date(2026, 3, 9), "rest", "a")  # type: ignore[arg-type]


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "overrides.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_year_declared_complete_in_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
years:
  2027:
    complete: true
    source: "test notice"
    days:
      - {date: 2027-01-01, kind: holiday, name: 元旦}
      - {date: 2027-02-06, kind: workday, name: 春节调休}
      - {date: 2027-02-06, kind: workday, name: listed twice with the same kind is fine}
""",
    )
    calendar = WorkCalendar.from_file(str(path))
    assert not calendar.is_workday(date(2027, 1, 1))
    assert calendar.is_workday(date(2027, 2, 6))
    assert calendar.is_workday(date(2027, 1, 4))
    assert calendar.is_known(date(2027, 1, 4))
    assert not calendar.is_known(date(2028, 1, 4))


def test_the_documented_2027_example_is_a_valid_block_once_filled_in(tmp_path: Path) -> None:
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()
    start = lines.index("#   2027:")
    example = []
    for line in lines[start:]:
        if not line.startswith("#   "):
            break
        if "MM-DD" not in line:  # placeholders an admin fills in from the notice
            example.append(line.removeprefix("#"))
    calendar = WorkCalendar.from_file(write(tmp_path, "years:\n" + "\n".join(example) + "\n"))
    assert not calendar.is_workday(date(2027, 1, 1))
    assert calendar.is_known(date(2027, 6, 1))


def test_empty_years_mapping_is_allowed(tmp_path: Path) -> None:
    calendar = WorkCalendar.from_file(write(tmp_path, "years: {}\n"))
    assert calendar.is_workday(date(2025, 3, 31))


MALFORMED = [
    pytest.param(
        "years:\n  2025:\n    days:\n      - {date: 2025-02-30, kind: holiday, name: x}\n",
        "years.2025.days[0]: bad date '2025-02-30'",
        id="impossible-date",
    ),
    pytest.param(
        "years:\n  2025:\n    days:\n      - {date: 2025/03/29, kind: holiday, name: x}\n",
        "years.2025.days[0]: bad date '2025/03/29'; expected YYYY-MM-DD",
        id="date-format",
    ),
    pytest.param(
        "years:\n  2025:\n    days:\n      - {date: 2026-03-29, kind: holiday, name: x}\n",
        "years.2025.days[0]: date 2026-03-29 is listed under year 2025",
        id="date-under-wrong-year",
    ),
    pytest.param(
        "years:\n  2025:\n    days:\n      - {date: 2025-03-29, kind: holliday, name: x}\n",
        "years.2025.days[0]: unknown kind 'holliday'",
        id="unknown-kind",
    ),
    pytest.param(
        "years:\n  2025:\n    days:\n"
        "      - {date: 2025-03-29, kind: holiday, name: x}\n"
        "      - {date: 2025-03-30, kind: holiday, name: y}\n"
        "      - {date: 2025-03-29, kind: workday, name: z}\n",
        "years.2025.days[2]: 2025-03-29 is workday here but holiday at years.2025.days[0]",
        id="duplicate-date-different-kind",
    ),
    pytest.param(
        "years:\n  2025:\n    days:\n      - {date: 2025-03-29, kind: holiday}\n",
        "years.2025.days[0]: missing name",
        id="missing-name",
    ),
    pytest.param(
        "years:\n  2025:\n    days:\n      - {date: 2025-03-29, knid: holiday, name: x}\n",
        "years.2025.days[0]: unknown keys knid",
        id="unknown-day-key",
    ),
    pytest.param(
        "years:\n  2025:\n    days:\n      - 2025-03-29\n",
        "years.2025.days[0]: expected a mapping",
        id="day-not-a-mapping",
    ),
    pytest.param(
        "years:\n  2025:\n    complete: maybe\n",
        "years.2025.complete: expected true or false, got 'maybe'",
        id="complete-not-bool",
    ),
    pytest.param(
        "years:\n  2025:\n    complet: true\n",
        "years.2025: unknown keys complet",
        id="unknown-year-key",
    ),
    pytest.param(
        "years:\n  2025:\n    days: {date: 2025-03-29}\n",
        "years.2025.days: expected a list",
        id="days-not-a-list",
    ),
    pytest.param(
        "years:\n  twenty:\n    days: []\n",
        "years.twenty: year must be a number",
        id="year-not-a-number",
    ),
    pytest.param(
        "years:\n  2025:\n    days: []\n  2025:\n    complete: true\n",
        "line 4: invalid YAML: duplicate key 2025",
        id="year-listed-twice",
    ),
    pytest.param(
        "years:\n  2025:\n    days: [\n",
        "invalid YAML",
        id="yaml-syntax",
    ),
    pytest.param("", "document: expected a mapping with the single key 'years'", id="empty-file"),
    pytest.param("2025: {}\n", "document: expected a mapping with the single key 'years'", id="no-years-key"),
]


@pytest.mark.parametrize(("body", "message"), MALFORMED)
def test_malformed_file_names_the_file_and_the_entry_on_one_line(
    tmp_path: Path, body: str, message: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(CalendarConfigError) as caught:
        WorkCalendar.from_file(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: ")
    assert message in text
    assert "\n" not in text


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(CalendarConfigError, match=re.escape(f"{path}: cannot read")):
        WorkCalendar.from_file(path)


def test_config_error_is_a_value_error() -> None:
    assert issubclass(CalendarConfigError, ValueError)


def test_known_days_ahead_counts_up_to_the_first_guessed_day() -> None:
    calendar = WorkCalendar()
    assert calendar.known_days_ahead(date(2026, 11, 27)) == 35  # 2027-01-01 is the first guess
    assert calendar.known_days_ahead(date(2026, 1, 1), horizon=30) == 30
    published = WorkCalendar(complete_years=[2027])
    assert published.known_days_ahead(date(2026, 11, 27), horizon=400) == 400
