"""OfficeHours: seasonal windows in Beijing time and validation of the season list."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from core.office_hours import BEIJING, OfficeHours

SUMMER = [(10, 0, 14, 0), (16, 0, 20, 0)]
WINTER = [(10, 0, 14, 0), (15, 30, 19, 30)]


def expected(day: date, spans: list[tuple[int, int, int, int]]) -> list[tuple[datetime, datetime]]:
    return [
        (
            datetime(day.year, day.month, day.day, h1, m1, tzinfo=BEIJING),
            datetime(day.year, day.month, day.day, h2, m2, tzinfo=BEIJING),
        )
        for h1, m1, h2, m2 in spans
    ]


@pytest.mark.parametrize(
    ("day", "spans"),
    [
        (date(2026, 4, 30), WINTER),
        (date(2026, 5, 1), SUMMER),
        (date(2026, 7, 15), SUMMER),
        (date(2026, 9, 30), SUMMER),
        (date(2026, 10, 1), WINTER),
        (date(2026, 12, 31), WINTER),
        (date(2027, 1, 15), WINTER),  # before the first season's start: last year's winter continues
    ],
)
def test_urumqi_default_seasons(day: date, spans: list[tuple[int, int, int, int]]) -> None:
    assert OfficeHours.default().windows(day) == expected(day, spans)


def test_windows_are_beijing_time() -> None:
    (begin, end), _ = OfficeHours.default().windows(date(2026, 7, 15))
    assert begin.tzinfo is BEIJING
    assert begin.utcoffset() == timedelta(hours=8)
    assert begin.isoformat() == "2026-07-15T10:00:00+08:00"
    assert end.isoformat() == "2026-07-15T14:00:00+08:00"


def test_three_seasons_given_out_of_order_with_unsorted_windows() -> None:
    hours = OfficeHours(
        [
            {"from": "10-01", "windows": ["15:00-18:00", "09:00-12:00"]},
            {"from": "03-15", "windows": ["08:00-12:00"]},
            {"from": "06-01", "windows": ["07:30-11:30", "17:00-19:00"]},
        ]
    )
    assert hours.windows(date(2026, 3, 14)) == expected(date(2026, 3, 14), [(9, 0, 12, 0), (15, 0, 18, 0)])
    assert hours.windows(date(2026, 3, 15)) == expected(date(2026, 3, 15), [(8, 0, 12, 0)])
    assert hours.windows(date(2026, 5, 31)) == expected(date(2026, 5, 31), [(8, 0, 12, 0)])
    assert hours.windows(date(2026, 6, 1)) == expected(date(2026, 6, 1), [(7, 30, 11, 30), (17, 0, 19, 0)])
    assert hours.windows(date(2026, 10, 1)) == expected(date(2026, 10, 1), [(9, 0, 12, 0), (15, 0, 18, 0)])


def test_single_season_applies_all_year_and_touching_windows_are_allowed() -> None:
    hours = OfficeHours([{"from": "07-01", "windows": ["09:00-12:00", "12:00-17:00"]}])
    assert hours.windows(date(2026, 1, 1)) == expected(date(2026, 1, 1), [(9, 0, 12, 0), (12, 0, 17, 0)])


def test_a_season_may_start_on_february_29() -> None:
    hours = OfficeHours(
        [{"from": "01-01", "windows": ["09:00-17:00"]}, {"from": "02-29", "windows": ["10:00-18:00"]}]
    )
    assert hours.windows(date(2027, 2, 28)) == expected(date(2027, 2, 28), [(9, 0, 17, 0)])
    assert hours.windows(date(2027, 3, 1)) == expected(date(2027, 3, 1), [(10, 0, 18, 0)])
    assert hours.windows(date(2028, 2, 29)) == expected(date(2028, 2, 29), [(10, 0, 18, 0)])


def test_a_datetime_is_refused() -> None:
    with pytest.raises(TypeError):
        OfficeHours.default().windows(datetime(2026, 7, 15, 12, tzinfo=BEIJING))


@pytest.mark.parametrize(
    ("seasons", "message"),
    [
        pytest.param([], "non-empty list of seasons", id="no-seasons"),
        pytest.param("05-01", "non-empty list of seasons", id="seasons-not-a-list"),
        pytest.param([{"from": "05-01"}], "season 0: expected", id="season-without-windows"),
        pytest.param(
            [{"from": "05-01", "windows": ["10:00-14:00"], "to": "10-01"}],
            "season 0: expected",
            id="extra-key",
        ),
        pytest.param([{"from": "05-01", "windows": []}], "non-empty list of windows", id="empty-windows"),
        pytest.param(
            [{"from": "05-01", "windows": "10:00-14:00"}], "non-empty list of windows", id="windows-str"
        ),
        pytest.param(
            [{"from": "05-01", "windows": ["25:00-26:00"]}], "bad time in window '25:00-26:00'", id="hour"
        ),
        pytest.param([{"from": "05-01", "windows": ["10:60-11:00"]}], "bad time in window", id="minute"),
        pytest.param([{"from": "05-01", "windows": ["10-14"]}], "bad window '10-14'", id="window-format"),
        pytest.param([{"from": "05-01", "windows": [600]}], "bad window 600", id="window-not-text"),
        pytest.param(
            [{"from": "05-01", "windows": ["14:00-10:00"]}],
            "'14:00-10:00' must end after it starts",
            id="reversed",
        ),
        pytest.param(
            [{"from": "05-01", "windows": ["10:00-10:00"]}], "must end after it starts", id="empty-window"
        ),
        pytest.param(
            [{"from": "05-01", "windows": ["13:00-15:00", "10:00-14:00"]}],
            "windows '10:00-14:00' and '13:00-15:00' overlap",
            id="overlap",
        ),
        pytest.param(
            [{"from": "05-01", "windows": ["10:00-20:00", "12:00-13:00"]}],
            "overlap",
            id="window-inside-window",
        ),
        pytest.param([{"from": "13-01", "windows": ["10:00-14:00"]}], "bad season start '13-01'", id="month"),
        pytest.param([{"from": "02-30", "windows": ["10:00-14:00"]}], "bad season start '02-30'", id="day"),
        pytest.param([{"from": "5-1", "windows": ["10:00-14:00"]}], "expected MM-DD", id="from-format"),
        pytest.param(
            [{"from": "05-01", "windows": ["10:00-14:00"]}, {"from": "05-01", "windows": ["09:00-12:00"]}],
            "season 1: a season already starts on 05-01",
            id="duplicate-start",
        ),
    ],
)
def test_malformed_office_hours(seasons: Any, message: str) -> None:
    with pytest.raises(ValueError, match=r"^office hours: ") as caught:
        OfficeHours(seasons)
    assert message in str(caught.value)
