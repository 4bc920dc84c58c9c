"""Working-day calendar: the national calendar with 调休 overlaid by an admin-maintained override file.

Answers come from, in order: an override entry (regional holidays such as Xinjiang's 肉孜节 and 古尔邦节,
or next year's notice before ``chinese_calendar`` ships it), then ``chinese_calendar``, then a
Monday–Friday fallback for years neither knows. Fallback answers are reported as not known so that
deadlines computed from them can be marked provisional.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import chinese_calendar
import yaml

Kind = Literal["holiday", "workday"]
KINDS: tuple[Kind, ...] = ("holiday", "workday")

_YEAR_KEYS = frozenset({"complete", "source", "days"})
_DAY_KEYS = frozenset({"date", "kind", "name", "region"})
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class CalendarConfigError(ValueError):
    """The override file (or an override entry) is malformed."""


@dataclass(frozen=True)
class DayOverride:
    """One day whose status differs from, or is missing in, the national library.

    ``region`` records whose rule it is ("CN" national, "XJ" Xinjiang); every override given to a
    calendar applies, so a deployment ships only the entries of its own region.
    """

    date: dt.date
    kind: Kind
    name: str
    region: str = "CN"

    def __post_init__(self) -> None:
        if not isinstance(self.date, dt.date) or isinstance(self.date, dt.datetime):
            raise CalendarConfigError(f"date must be a date, got {self.date!r}")
        if self.kind not in KINDS:
            raise CalendarConfigError(f"unknown kind {self.kind!r}; expected 'holiday' or 'workday'")
        if not isinstance(self.name, str) or not self.name.strip():
            raise CalendarConfigError(f"name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.region, str) or not self.region.strip():
            raise CalendarConfigError(f"region must be a non-empty string, got {self.region!r}")


class WorkCalendar:
    """Which days are working days, and whether the answer rests on published data."""

    def __init__(self, overrides: Sequence[DayOverride] = (), complete_years: Iterable[int] = ()) -> None:
        self._overrides: dict[dt.date, DayOverride] = {}
        for override in overrides:
            earlier = self._overrides.setdefault(override.date, override)
            if earlier.kind != override.kind:
                raise CalendarConfigError(
                    f"{override.date.isoformat()} is both {earlier.kind} ({earlier.name}) "
                    f"and {override.kind} ({override.name})"
                )
        self._complete_years = frozenset(complete_years)
        # chinese_calendar scans its whole table on every call to check the year range; a deadline walks
        # many days on every intake, and the answers never change for one instance, so keep them.
        self._answers: dict[dt.date, tuple[bool, bool]] = {}

    @classmethod
    def from_file(cls, path: str | Path | None) -> WorkCalendar:
        """Load the YAML override file (format in ``calendar/overrides.yaml``); None means no overrides."""
        if path is None:
            return cls()
        return _load_overrides(Path(path))

    def is_workday(self, day: dt.date) -> bool:
        return self._lookup(day)[0]

    def is_known(self, day: dt.date) -> bool:
        """False when ``is_workday(day)`` is only the Monday–Friday guess."""
        return self._lookup(day)[1]

    def known_days_ahead(self, today: dt.date, horizon: int = 366) -> int:
        """How many days from ``today`` on rest on published data (``horizon`` if all of them do):
        when it drops under a couple of months, next year's notice is due in the override file."""
        for offset in range(horizon):
            if not self.is_known(today + dt.timedelta(days=offset)):
                return offset
        return horizon

    def _lookup(self, day: dt.date) -> tuple[bool, bool]:
        """Return (is_workday, is_known)."""
        # A datetime is a date subclass, but its calendar day depends on its time zone: refuse it
        # rather than guess (and a datetime never equals a date key in the override table).
        if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
            raise TypeError(f"expected a date, got {day!r}")
        answer = self._answers.get(day)
        if answer is None:
            answer = self._answers[day] = self._answer(day)
        return answer

    def _answer(self, day: dt.date) -> tuple[bool, bool]:
        override = self._overrides.get(day)
        if override is not None:
            return override.kind == "workday", True
        try:
            return chinese_calendar.is_workday(day), True
        except NotImplementedError:
            # The library covers only the years it has data for; its range moves with each release.
            return day.weekday() < 5, day.year in self._complete_years


class _StrictLoader(yaml.SafeLoader):
    """Safe loader that keeps dates as strings (so a bad date is reported with its entry rather than
    as a bare ``ValueError`` from inside PyYAML) and refuses duplicate mapping keys (a second ``2027:``
    block would otherwise silently replace the first)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load_overrides(path: Path) -> WorkCalendar:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarConfigError(f"{path}: cannot read: {exc}") from exc
    try:
        document = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else "?"
        problem = " ".join(str(exc.problem).split())
        raise _error(path, f"line {line}", f"invalid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        raise _error(path, "document", f"invalid YAML: {' '.join(str(exc).split())}") from exc

    if not isinstance(document, Mapping) or set(document) != {"years"}:
        raise _error(path, "document", "expected a mapping with the single key 'years'")
    years = document["years"] or {}
    if not isinstance(years, Mapping):
        raise _error(path, "years", "expected a mapping of year -> {complete, source, days}")

    overrides: list[DayOverride] = []
    complete_years: list[int] = []
    first_seen: dict[dt.date, tuple[str, DayOverride]] = {}
    for year, block in years.items():
        where = f"years.{year}"
        if not isinstance(year, int) or isinstance(year, bool):
            raise _error(path, where, f"year must be a number such as 2027, got {year!r}")
        if not isinstance(block, Mapping):
            raise _error(path, where, "expected a mapping with keys complete, source, days")
        _check_keys(path, where, block, _YEAR_KEYS)
        if not isinstance(block.get("source", ""), str):
            raise _error(path, f"{where}.source", "expected a string naming the notice")
        complete = block.get("complete", False)
        if not isinstance(complete, bool):
            raise _error(path, f"{where}.complete", f"expected true or false, got {complete!r}")
        if complete:
            complete_years.append(year)
        days = block.get("days") or []
        if not isinstance(days, list):
            raise _error(path, f"{where}.days", "expected a list of {date, kind, name, region} entries")
        for index, entry in enumerate(days):
            entry_where = f"{where}.days[{index}]"
            override = _parse_day(path, entry_where, entry, year)
            earlier_where, earlier = first_seen.setdefault(override.date, (entry_where, override))
            if earlier.kind != override.kind:
                problem = f"{override.date} is {override.kind} here but {earlier.kind} at {earlier_where}"
                raise _error(path, entry_where, problem)
            overrides.append(override)
    return WorkCalendar(overrides, complete_years)


def _parse_day(path: Path, where: str, entry: Any, year: int) -> DayOverride:
    if not isinstance(entry, Mapping):
        raise _error(path, where, "expected a mapping such as {date: 2027-01-01, kind: holiday, name: 元旦}")
    _check_keys(path, where, entry, _DAY_KEYS)
    if missing := {"date", "kind", "name"} - set(entry):
        raise _error(path, where, f"missing {', '.join(sorted(missing))}")
    raw_date = entry["date"]
    if not isinstance(raw_date, str) or not _ISO_DATE.fullmatch(raw_date):
        raise _error(path, where, f"bad date {raw_date!r}; expected YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(raw_date)
    except ValueError as exc:
        raise _error(path, where, f"bad date {raw_date!r}: {exc}") from exc
    if day.year != year:
        raise _error(path, where, f"date {raw_date} is listed under year {year}")
    try:
        return DayOverride(day, entry["kind"], entry["name"], entry.get("region", "CN"))
    except CalendarConfigError as exc:
        raise _error(path, where, str(exc)) from exc


def _check_keys(path: Path, where: str, mapping: Mapping[Any, Any], allowed: frozenset[str]) -> None:
    if unknown := set(mapping) - allowed:
        listed = ", ".join(sorted(map(str, unknown)))
        raise _error(path, where, f"unknown keys {listed}; allowed: {', '.join(sorted(allowed))}")


def _error(path: Path, where: str, problem: str) -> CalendarConfigError:
    return CalendarConfigError(f"{path}: {where}: {problem}")
