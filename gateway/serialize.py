"""Inquiries as the staff API shows them: codes with Chinese labels, times in Beijing time with offset."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.actors import Actor
from core.models import Attachment, Inquiry, InquiryEvent, InquiryMessage, Unit
from core.numbers import BEIJING
from core.rules import Rules
from core.service import available_actions
from core.states import ACTION_LABELS, STATE_LABELS, State
from core.vocab import (
    CHANNEL_LABELS,
    CLOSE_REASON_LABELS,
    KIND_LABELS,
    RATING_LABELS,
    Channel,
    CloseReason,
    Kind,
    Rating,
)

UnitMap = Mapping[int, Unit]


def beijing(value: datetime | None) -> str | None:
    return value.astimezone(BEIJING).isoformat(timespec="seconds") if value else None


def _event_data(data: Any) -> Any:
    """An event's data with its times (``*_at``, stored as UTC ISO text) shown in Beijing time too."""
    if not isinstance(data, dict):
        return data
    return {key: _beijing_text(value) if key.endswith("_at") else value for key, value in data.items()}


def _beijing_text(value: Any) -> Any:
    moment = aware_time(value)
    return beijing(moment) if moment is not None else value


def aware_time(value: Any) -> datetime | None:
    """``value`` as a moment, if it is ISO text with a time zone (as events store their ``*_at``)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def overdue(row: Mapping[str, Any] | Inquiry, now: datetime) -> dict[str, bool]:
    get = row.get if isinstance(row, Mapping) else lambda k: getattr(row, k)
    state = get("state")
    ack_due, reply_due = get("ack_due_at"), get("reply_due_at")
    return {
        "ack": state == State.DISPATCHED and ack_due is not None and ack_due < now,
        "reply": state == State.ACKNOWLEDGED and reply_due is not None and reply_due < now,
    }


def _unit(units: UnitMap, unit_id: int | None) -> dict[str, str] | None:
    unit = units.get(unit_id) if unit_id is not None else None
    return {"code": unit.code, "name": unit.name} if unit else None


LIST_FIELDS = (
    "number",
    "kind",
    "category",
    "channel",
    "state",
    "unit__code",
    "unit__name",
    "content",
    "urgent",
    "created_at",
    "ack_due_at",
    "reply_due_at",
    "deadlines_provisional",
)


def list_item(row: Mapping[str, Any], rules: Rules, now: datetime) -> dict[str, Any]:
    """One row of ``GET /inquiries`` from a ``.values(*LIST_FIELDS)`` dict (the unit joined in)."""
    content = row["content"]
    return {
        "number": row["number"],
        "kind": row["kind"],
        "kind_label": KIND_LABELS[Kind(row["kind"])],
        "category": row["category"],
        "category_name": _category_name(rules, row["category"]),
        "channel": row["channel"],
        "state": row["state"],
        "state_label": STATE_LABELS[State(row["state"])],
        "unit": {"code": row["unit__code"], "name": row["unit__name"]} if row["unit__code"] else None,
        "summary": content[:80] + ("…" if len(content) > 80 else ""),
        "urgent": row["urgent"],
        "created_at": beijing(row["created_at"]),
        "ack_due_at": beijing(row["ack_due_at"]),
        "reply_due_at": beijing(row["reply_due_at"]),
        "deadlines_provisional": row["deadlines_provisional"],
        "overdue": overdue(row, now),
    }


def _category_name(rules: Rules, code: str) -> str:
    category = rules.categories.get(code)
    return category.name if category else code


def detail(
    inquiry: Inquiry,
    *,
    units: UnitMap,
    rules: Rules,
    actor: Actor,
    now: datetime,
    messages: list[InquiryMessage],
    events: list[InquiryEvent],
    attachments: list[Attachment],
    merged_into: str | None,
) -> dict[str, Any]:
    rating = Rating(inquiry.rating) if inquiry.rating else None
    close_reason = CloseReason(inquiry.close_reason) if inquiry.close_reason else None
    return {
        "number": inquiry.number,
        "kind": inquiry.kind,
        "kind_label": KIND_LABELS[Kind(inquiry.kind)],
        "category": inquiry.category,
        "category_name": _category_name(rules, inquiry.category),
        "channel": inquiry.channel,
        "channel_label": CHANNEL_LABELS[Channel(inquiry.channel)],
        "state": inquiry.state,
        "state_label": STATE_LABELS[State(inquiry.state)],
        "unit": _unit(units, inquiry.unit_id),  # type: ignore[attr-defined]
        "content": inquiry.content,
        "location": {"text": inquiry.location, "latitude": inquiry.latitude, "longitude": inquiry.longitude},
        "contact": {"name": inquiry.contact_name, "phone": inquiry.contact_phone},
        "consent_to_publish": inquiry.consent_to_publish,
        "published_at": beijing(inquiry.published_at),
        "urgent": inquiry.urgent,
        "created_at": beijing(inquiry.created_at),
        "updated_at": beijing(inquiry.updated_at),
        "promised_reply_at": beijing(inquiry.promised_reply_at),
        "ack_due_at": beijing(inquiry.ack_due_at),
        "reply_due_at": beijing(inquiry.reply_due_at),
        "rating_due_at": beijing(inquiry.rating_due_at),
        "deadlines_provisional": inquiry.deadlines_provisional,
        "overdue": overdue(inquiry, now),
        "dispatched_at": beijing(inquiry.dispatched_at),
        "acknowledged_at": beijing(inquiry.acknowledged_at),
        "replied_at": beijing(inquiry.replied_at),
        "closed_at": beijing(inquiry.closed_at),
        "close_reason": close_reason,
        "close_reason_label": CLOSE_REASON_LABELS[close_reason] if close_reason else None,
        "merged_into": merged_into,
        "reply": {
            "text": inquiry.reply_text,
            "resolved": inquiry.reply_resolved,
            "basis": inquiry.reply_basis,
            "contact": inquiry.reply_contact,
            "note": inquiry.reply_note,
            "signature": inquiry.reply_signature,
        },
        "rating": {
            "value": rating,
            "label": RATING_LABELS[rating] if rating else None,
            "comment": inquiry.rating_comment,
            "rated_at": beijing(inquiry.rated_at),
        },
        "extension": {
            "pending_days": inquiry.extension_pending_days,
            "pending_reason": inquiry.extension_pending_reason,
            "approved_days": inquiry.extension_days,
            "count": inquiry.extension_count,
        },
        "counts": {
            "returns": inquiry.return_count,
            "reopens": inquiry.reopen_count,
            "urges": inquiry.urge_count,
            "supervision_level": inquiry.supervision_level,
        },
        "version": inquiry.version,
        "allowed_actions": available_actions(inquiry, actor, rules, now),
        "messages": [
            {
                "direction": m.direction,
                "channel": m.channel,
                "kind": m.kind,
                "text": m.text,
                "created_at": beijing(m.created_at),
            }
            for m in messages
        ],
        "attachments": [
            {
                "id": a.id,
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "state": a.state,
            }
            for a in attachments
        ],
        "events": [
            {
                "action": e.action,
                "action_label": ACTION_LABELS.get(e.action, e.action),
                "actor": {"kind": e.actor_kind, "name": e.actor_name},
                "from": e.from_state or None,
                "to": e.to_state,
                "data": _event_data(e.data),
                "at": beijing(e.created_at),
            }
            for e in events
        ],
    }
