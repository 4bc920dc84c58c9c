"""Units in the database: seeded from config.yaml at start, bulk-loaded by `wenzheng import-units`.

The database is the truth at run time (the desk dispatches to any active unit there, and admins add,
rename and deactivate units in the inbox's admin pages). So config.yaml's list only adds the units the
database lacks, at start-up and on `wenzheng migrate`, and never renames or reactivates one: an admin's
change survives restarts. A rename in config.yaml takes effect through `wenzheng import-units
config.yaml` (an import file is the operator's explicit word: its names replace the database's).
Nothing here deletes or reactivates a unit.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

from core.models import Unit

log = logging.getLogger(__name__)


async def unit_options(current: Unit | None = None) -> list[tuple[str, str]]:
    """(code, name) of the active units for a unit field, and the ``current`` one even if deactivated
    (so that the form shows what is saved rather than silently selecting something else)."""
    options = [(unit.code, unit.name) for unit in await Unit.filter(active=True).order_by("id")]
    if current is not None and not current.active:
        options.append((current.code, f"{current.name}（已停用）"))
    return options


async def units_by_id() -> dict[int, Unit]:
    """Every unit, deactivated ones too (old cases name them), by id, in order of id."""
    return {unit.id: unit for unit in await Unit.all().order_by("id")}


class UnitLike(Protocol):
    code: str
    name: str


@dataclass(frozen=True)
class ImportedUnit:
    """A unit read from an import file: its name replaces the one in the database."""

    code: str
    name: str


class UnitFileError(ValueError):
    """The units file is unusable; the message names the line or entry."""


async def sync_units(units: Iterable[UnitLike]) -> int:
    """Add the units the database lacks, and rename those of an import file (:class:`ImportedUnit`);
    returns how many rows changed. Config units (:class:`~gateway.settings.UnitSettings`) only add."""
    existing = {u.code: u for u in await Unit.all()}
    changed = 0
    for unit in units:
        row = existing.get(unit.code)
        if row is None:
            await Unit.create(code=unit.code, name=unit.name)
            log.info("unit %s added: %s", unit.code, unit.name)
        elif isinstance(unit, ImportedUnit) and row.name != unit.name:
            log.info("unit %s renamed by import: %s -> %s", unit.code, row.name, unit.name)
            row.name = unit.name
            await row.save(update_fields=["name"])
        else:
            continue
        changed += 1
    return changed


def read_units_file(path: Path) -> list[ImportedUnit]:
    """Units from a CSV file (``code,name`` with that header) or a YAML list of ``{code, name}``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise UnitFileError(f"cannot read {path}: {error.strerror or error}") from None
    if path.suffix.lower() == ".csv":
        rows = [(n + 2, r) for n, r in enumerate(csv.DictReader(io.StringIO(text)))]
    else:
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError:
            raise UnitFileError(f"{path}: not valid YAML") from None
        if isinstance(document, dict):
            document = document.get("units")
        if not isinstance(document, list):
            raise UnitFileError(f"{path}: expected a list of units with code and name")
        rows = list(enumerate(document, start=1))
    units: list[ImportedUnit] = []
    seen: set[str] = set()
    for where, row in rows:
        if not isinstance(row, dict):
            raise UnitFileError(f"{path}: entry {where} is not a mapping with code and name")
        code = str(row.get("code") or "").strip()
        name = str(row.get("name") or "").strip()
        if not code or not name:
            raise UnitFileError(f"{path}: entry {where} needs both code and name")
        if len(code) > 32 or not all(c.isascii() and (c.isalnum() or c == "_") for c in code):
            raise UnitFileError(f"{path}: entry {where}: code {code!r} must be 1-32 letters, digits or _")
        if len(name) > 100:
            raise UnitFileError(f"{path}: entry {where}: name longer than 100 characters")
        if code in seen:
            raise UnitFileError(f"{path}: entry {where}: duplicate code {code}")
        seen.add(code)
        units.append(ImportedUnit(code.lower(), name))
    if not units:
        raise UnitFileError(f"{path}: no units")
    return units
