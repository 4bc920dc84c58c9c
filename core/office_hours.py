"""Seasonal office hours in Beijing time, the windows that working-hour deadlines count.

Xinjiang offices keep summer and winter hours set by the region's yearly notice; each season starts on a
month-day and runs until the next season starts, wrapping around the year end.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")

URUMQI_SEASONS: tuple[dict[str, Any], ...] = (
    {"from": "05-01", "windows": ["10:00-14:00", "16:00-20:00"]},
    {"from": "10-01", "windows": ["10:00-14:00", "15:30-19:30"]},
)

_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")
_WINDOW = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")

Window = tuple[dt.time, dt.time]


class OfficeHours:
    """Office-hour windows per day; which days are working days is the calendar's business."""

    def __init__(self, seasons: Sequence[Mapping[str, Any]]) -> None:
        if isinstance(seasons, str | bytes) or not isinstance(seasons, Sequence) or not seasons:
            raise ValueError("office hours: expected a non-empty list of seasons")
        parsed: dict[tuple[int, int], tuple[Window, ...]] = {}
        for index, season in enumerate(seasons):
            where = f"office hours: season {index}"
            if not isinstance(season, Mapping) or set(season) != {"from", "windows"}:
                raise ValueError(
                    f"{where}: expected {{from: MM-DD, windows: [HH:MM-HH:MM, ...]}}, got {season!r}"
                )
            start = _parse_month_day(season["from"], where)
            if start in parsed:
                raise ValueError(f"{where}: a season already starts on {season['from']}")
            parsed[start] = _parse_windows(season["windows"], f"{where} (from {season['from']})")
        # Sorted by start; the season for a day is the last one starting on or before it.
        self._seasons = sorted(parsed.items())

    @classmethod
    def default(cls) -> OfficeHours:
        """Urumqi: summer from 05-01, 10:00–14:00 and 16:00–20:00; winter from 10-01, 10:00–14:00 and
        15:30–19:30."""
        return cls(URUMQI_SEASONS)

    def windows(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The day's windows as aware Beijing datetimes, in order; the day need not be a working day."""
        if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
            raise TypeError(f"expected a date, got {day!r}")
        key = (day.month, day.day)
        # Before the first season's start, the last season (from the previous year) still applies.
        windows = self._seasons[-1][1]
        for start, season_windows in self._seasons:
            if start > key:
                break
            windows = season_windows
        return [
            (dt.datetime.combine(day, begin, tzinfo=BEIJING), dt.datetime.combine(day, end, tzinfo=BEIJING))
            for begin, end in windows
        ]


def _parse_month_day(value: Any, where: str) -> tuple[int, int]:
    match = _MONTH_DAY.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{where}: bad season start {value!r}; expected MM-DD such as 05-01")
    month, day = int(match[1]), int(match[2])
    try:
        dt.date(2000, month, day)  # a leap year, so 02-29 is accepted
    except ValueError as exc:
        raise ValueError(f"{where}: bad season start {value!r}: {exc}") from exc
    return month, day


def _parse_windows(value: Any, where: str) -> tuple[Window, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise ValueError(f"{where}: expected a non-empty list of windows such as ['10:00-14:00']")
    parsed: list[tuple[dt.time, dt.time, str]] = []
    for text in value:
        match = _WINDOW.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"{where}: bad window {text!r}; expected HH:MM-HH:MM such as 10:00-14:00")
        try:
            begin = dt.time(int(match[1]), int(match[2]))
            end = dt.time(int(match[3]), int(match[4]))
        except ValueError as exc:
            raise ValueError(f"{where}: bad time in window {text!r}: {exc}") from exc
        if end <= begin:
            raise ValueError(f"{where}: window {text!r} must end after it starts")
        parsed.append((begin, end, text))
    parsed.sort()
    for (_, earlier_end, earlier), (later_begin, _, later) in pairwise(parsed):
        if later_begin < earlier_end:
            raise ValueError(f"{where}: windows {earlier!r} and {later!r} overlap")
    return tuple((begin, end) for begin, end, _ in parsed)
