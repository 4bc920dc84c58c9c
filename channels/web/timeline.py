"""The public timeline of an inquiry: its audit events mapped, by a whitelist, to plain phrases.

Only the actions named in :func:`_phrases` appear, and each shows only the data its phrase names (a
unit's name, a number of days, the public reply and its signature, the rating). Everything else in an
event stays internal: notes, staff names, reasons for returns, refusals and rejections, the citizen's
rating comment, and the private zone (which events do not carry in the first place).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channels.web.forms import RATING_CODES
from core.models import InquiryEvent
from core.vocab import RATING_LABELS, Rating


@dataclass(frozen=True)
class Entry:
    at: datetime
    title: str
    text: str = ""
    """The public reply, for an answer."""
    signature: str = ""


def public_timeline(events: Iterable[InquiryEvent], desk_signature: str) -> list[Entry]:
    """The public entries of ``events``, oldest first."""
    entries: list[Entry] = []
    for event in sorted(events, key=lambda e: (e.created_at, e.id)):
        data = event.data if isinstance(event.data, Mapping) else {}
        entries += [
            Entry(event.created_at, *phrase) for phrase in _phrases(event.action, data, desk_signature)
        ]
    return entries


def _phrases(action: str, data: Mapping[str, Any], desk_signature: str) -> list[tuple[str, ...]]:
    """(title,) or (title, reply text, signature) for each public line of one event; [] to hide it."""
    match action:
        case "intake":
            return [("受理",)]
        case "dispatch" | "redispatch" | "refuse-return":
            return [(f"已交办至{_text(data, 'unit_name') or '承办单位'}",)]
        case "acknowledge":
            return [("已签收",)]
        case "approve-extension":
            days = data.get("days")
            valid = isinstance(days, int) and not isinstance(days, bool) and days > 0
            return [(f"延期 {days} 个工作日" if valid else "延期办理",)]
        case "reply":
            return [("已答复", _text(data, "text"), _text(data, "signature"))]
        case "answer-directly":
            return [("已答复", _text(data, "text"), desk_signature)]
        case "rate":
            rating = data.get("rating")
            label = RATING_LABELS[Rating(rating)] if rating in RATING_CODES else ""
            return [(f"评价：{label}" if label else "已评价",), ("办结",)]
        case "close-unrated":
            return [("办结（逾期未评价）",)]
        case "reject":
            return [("办结（不予受理）",)]
        case "redirect":
            return [("办结（转法定途径办理）",)]
        case "merge":
            return [("办结（与反映同一事项的诉求合并办理）",)]
        case "reopen":
            return [("重新办理",)]
        case _:  # note, return, extension requests and refusals, publish, anything new: internal
            return []


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""
