"""Rows of the append-only audit trail: who did what to an inquiry, when, from which state to which."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.actors import Actor
from core.models import InquiryEvent

EVENT_COLUMNS = (
    "inquiry_id",
    "action",
    "actor_kind",
    "actor_id",
    "actor_name",
    "from_state",
    "to_state",
    "data",
    "created_at",
)
"""The columns of ``inquiry_event``, in the order :func:`event_row` gives them."""
_encode_data = InquiryEvent._meta.fields_map["data"].to_db_value


def audit_event(
    inquiry_id: int,
    action: str,
    actor: Actor,
    from_state: str,
    to_state: str,
    data: Mapping[str, Any],
    now: datetime,
) -> InquiryEvent:
    """The event, not yet saved: ``await event.save()``, or bulk-insert many."""
    return InquiryEvent.construct(
        inquiry_id=inquiry_id,
        action=action,
        actor_kind=actor.kind,
        actor_id=actor.staff_id,
        actor_name=actor.name,
        from_state=from_state,
        to_state=to_state,
        data=dict(data),
        created_at=now,
    )


def event_row(
    inquiry_id: int,
    action: str,
    actor: Actor,
    from_state: str,
    to_state: str,
    data: Mapping[str, Any],
    now: datetime,
) -> tuple[Any, ...]:
    """:func:`audit_event` as the row stored, for inserting many at once (core.intake)."""
    encoded = _encode_data(dict(data), InquiryEvent)
    return (inquiry_id, action, actor.kind, actor.staff_id, actor.name, from_state, to_state, encoded, now)
