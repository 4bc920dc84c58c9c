"""Rows of the append-only audit trail: who did what to an inquiry, when, from which state to which."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
"""The columns of ``inquiry_event``, in the order :meth:`AuditEvent.row` gives them."""
_encode_data = InquiryEvent._meta.fields_map["data"].encoder  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """An event of the trail, not yet stored: one at a time as :meth:`model` (``.save()`` it), many at
    once as :meth:`row` (core.intake inserts the rows of a batch together)."""

    inquiry_id: int
    action: str
    actor: Actor
    from_state: str
    to_state: str
    data: Mapping[str, Any]
    at: datetime

    def model(self) -> InquiryEvent:
        return InquiryEvent.construct(**dict(zip(EVENT_COLUMNS, self._values(dict(self.data)), strict=True)))

    def row(self) -> tuple[Any, ...]:
        """The values as stored, in the order of :data:`EVENT_COLUMNS`."""
        return self._values(_encode_data(dict(self.data)))

    def _values(self, data: Any) -> tuple[Any, ...]:
        actor = self.actor
        return (
            self.inquiry_id,
            self.action,
            actor.kind,
            actor.staff_id,
            actor.name,
            self.from_state,
            self.to_state,
            data,
            self.at,
        )
