"""The inbox's queues: named selections of the inquiries a staff member may see, a page at a time.

Visibility and the query are the staff API's (``gateway.api.visible_to`` and ``inquiry_page``), so the
inbox never shows a row the API would not. The queue page renders one tab per entry of
:data:`QUEUES`; the unit's and the desk's queues (new, in progress, due soon, overdue, returns, ...) are
added here as more entries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tortoise.expressions import Q

from core.actors import Actor
from core.rules import Rules
from core.vocab import CHANNEL_LABELS, Channel
from gateway import serialize
from gateway.api import COUNT_CAP, inquiry_page, visible_to

PER_PAGE = 20
MAX_PAGE = 100_000


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    filters: Q

    def href(self, page: int = 1) -> str:
        query = {"queue": self.key} if self is not QUEUES[0] else {}
        if page > 1:
            query["page"] = str(page)
        return f"/inbox?{urlencode(query)}" if query else "/inbox"


QUEUES: tuple[Queue, ...] = (Queue("all", "全部诉求", Q()),)
"""The first is the inbox's home."""


def page_number(value: str | None) -> int:
    """The ``page`` parameter; 1 for anything that is not a page number."""
    if value and value.isascii() and value.isdigit() and len(value) <= 6 and 1 <= int(value) <= MAX_PAGE:
        return int(value)
    return 1


async def queue_page(actor: Actor, queue: Queue, page_param: str | None, rules: Rules) -> dict[str, Any]:
    """The queue page's context: the rows of one page, the total and the paging links."""
    page = page_number(page_param)
    rows, counted = await inquiry_page(visible_to(actor) & queue.filters, page, PER_PAGE)
    now = datetime.now(UTC)
    full = len(rows) == PER_PAGE
    return {
        "queue": queue,
        "items": [_row(row, rules, now) for row in rows],
        "total": min(counted, COUNT_CAP),
        "total_exact": counted <= COUNT_CAP,
        "page": page,
        "pages": -(-min(counted, COUNT_CAP) // PER_PAGE),
        "previous": queue.href(page - 1) if page > 1 else None,
        "next": queue.href(page + 1) if full and (counted > COUNT_CAP or page * PER_PAGE < counted) else None,
    }


def _row(row: Mapping[str, Any], rules: Rules, now: datetime) -> dict[str, Any]:
    """The API's list item, with the channel's label and the times as datetimes for the page to format."""
    return {
        **serialize.list_item(row, rules, now),
        "channel_label": CHANNEL_LABELS[Channel(row["channel"])],
        "created_at": row["created_at"],
        "ack_due_at": row["ack_due_at"],
        "reply_due_at": row["reply_due_at"],
    }
