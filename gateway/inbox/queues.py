"""The inbox's queues: named selections of the inquiries a staff member may see, narrowed by the list
filters of :mod:`gateway.inquiry_filters` and read a page at a time, newest first.

A unit's staff work through new, in-progress, due-soon, overdue and answered cases; the desk, supervisors
and admins through unscreened cases, returns, extension requests, overdue cases and everything.
Visibility is the staff API's (``gateway.api.visible_to``), so the inbox never shows a row the API
would not. Every view is a plain GET URL (queue, filters, search, position), so it can be shared.

Paging is by keyset, not OFFSET: "older" carries the last row's ``(created_at, id)`` and reads on from
there through the index, so the thousandth page costs what the first does.

Counts are capped, so that no page reads more than a few thousand index entries whatever the queue,
filters or search: the open queue's, with the filters and search, up to :data:`COUNT_CAP` ("1000+");
the other tabs' badges, the sizes of their queues without the filters, up to :data:`TAB_CAP` ("99+",
as badges go). Each is its own capped query rather than one grouped count
over the whole selection, which would read every visible row (a unit's 100,000, the desk's million).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from pypika_tortoise import Table
from pypika_tortoise.context import SqlContext
from pypika_tortoise.terms import Criterion
from tortoise.expressions import Q

from core.actors import Actor
from core.deadlines import Clock, DeadlinePolicy
from core.errors import InvalidInput
from core.models import Inquiry
from core.service import InquiryService
from core.states import State
from core.vocab import CHANNEL_LABELS, KIND_LABELS, Channel
from gateway import serialize
from gateway.api import count_up_to, visible_to
from gateway.inquiry_filters import Condition, overdue, parse_filters
from gateway.units import unit_options

PER_PAGE = 20
COUNT_CAP = 1000
TAB_CAP = 99
ONE_WORKING_DAY = DeadlinePolicy(Clock.working_days, 1)
CURSOR = re.compile(r"(\d{1,17})_(\d{1,10})")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
POSITIONS = ("older", "newer")


class UnknownQueue(Exception):
    """No queue of that name for this staff member."""


@dataclass(frozen=True)
class Moment:
    """When the page is read, and the end of the next working day (the "due soon" horizon)."""

    now: datetime
    soon: datetime


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    select: Callable[[Moment], Q]


def _due_soon(m: Moment) -> Q:
    return Q(state=State.DISPATCHED, ack_due_at__gte=m.now, ack_due_at__lte=m.soon) | Q(
        state=State.ACKNOWLEDGED, reply_due_at__gte=m.now, reply_due_at__lte=m.soon
    )


def _in_state(state: State) -> Callable[[Moment], Q]:
    return lambda m: Q(state=state)


def _extension_requested(m: Moment) -> Q:
    """Extension requests are rare (about one inquiry in a thousand). SQLite's planner, having no
    histogram, takes ``> 0`` for a quarter of the rows and walks the date index past most of a million
    rows to fill the page; ``likelihood`` tells it otherwise, so it reads the extension index."""
    if Inquiry._meta.db.capabilities.dialect != "sqlite":
        return Q(extension_pending_days__gt=0)
    days = Table("inquiry").extension_pending_days
    return Condition(Likelihood(days > 0, 0.001))


class Likelihood(Criterion):
    """SQLite's ``likelihood(condition, probability)``: the condition, with the planner's estimate of
    how often it holds."""

    def __init__(self, criterion: Criterion, probability: float) -> None:
        super().__init__()
        self.criterion = criterion
        self.probability = probability

    def get_sql(self, ctx: SqlContext) -> str:
        return f"likelihood({self.criterion.get_sql(ctx)},{self.probability})"


OVERDUE = Queue("overdue", "已超期", lambda m: overdue(m.now))
UNIT_QUEUES: tuple[Queue, ...] = (
    Queue("new", "待签收", _in_state(State.DISPATCHED)),
    Queue("doing", "办理中", _in_state(State.ACKNOWLEDGED)),
    Queue("due", "即将到期", _due_soon),
    OVERDUE,
    Queue("rating", "待评价", _in_state(State.REPLIED)),
)
DESK_QUEUES: tuple[Queue, ...] = (
    Queue("unscreened", "待甄别", _in_state(State.RECEIVED)),
    Queue("returned", "退回", _in_state(State.RETURNED)),
    Queue("extensions", "延期申请", _extension_requested),
    OVERDUE,
    Queue("all", "全部", lambda m: Q()),
)
"""Each role's first queue is its inbox home."""


def queues_for(actor: Actor) -> tuple[Queue, ...]:
    return UNIT_QUEUES if actor.is_unit_staff else DESK_QUEUES


@dataclass(frozen=True)
class Cursor:
    """A row's place in the newest-first order, written ``<µs since 1970>_<id>`` in links."""

    created_at: datetime
    id: int

    def __str__(self) -> str:
        return f"{(self.created_at - EPOCH) // timedelta(microseconds=1)}_{self.id}"

    @classmethod
    def parse(cls, text: str, name: str) -> Cursor:
        match = CURSOR.fullmatch(text)
        if match is None:
            raise InvalidInput(f"参数 {name} 无效：请从列表中的翻页链接进入")
        return cls(EPOCH + timedelta(microseconds=int(match[1])), int(match[2]))

    def older(self) -> Q:
        """Rows after this one, newest first (the first condition bounds the index range)."""
        return Q(created_at__lte=self.created_at) & (Q(created_at__lt=self.created_at) | Q(id__lt=self.id))

    def newer(self) -> Q:
        return Q(created_at__gte=self.created_at) & (Q(created_at__gt=self.created_at) | Q(id__gt=self.id))


async def keyset_page(
    selection: Q, older: Cursor | None, newer: Cursor | None, per_page: int = PER_PAGE
) -> tuple[list[dict[str, Any]], bool, bool]:
    """One page of ``selection``, newest first: the rows after ``older`` or else the rows before
    ``newer`` (else the newest), and whether there are older and newer rows beyond them."""
    fields = ("id", *serialize.LIST_FIELDS)
    if newer is not None:
        rows = await (
            Inquiry.filter(selection & newer.newer()).order_by("created_at", "id").limit(per_page + 1)
        ).values(*fields)
        return rows[:per_page][::-1], True, len(rows) > per_page
    where = selection & older.older() if older is not None else selection
    rows = await Inquiry.filter(where).order_by("-created_at", "-id").limit(per_page + 1).values(*fields)
    return rows[:per_page], len(rows) > per_page, older is not None


async def queue_page(actor: Actor, query: Mapping[str, str], service: InquiryService) -> dict[str, Any]:
    """The queue page's context for the request's ``query``: :class:`UnknownQueue` for a queue the staff
    member does not have, :class:`InvalidInput` for a bad filter or position."""
    queues = queues_for(actor)
    key = query.get("queue") or queues[0].key
    queue = next((q for q in queues if q.key == key), None)
    if queue is None:
        raise UnknownQueue(key)
    # a form sends its empty fields too: an empty field is no filter
    filters = await parse_filters({name: value for name, value in query.items() if value}, service.rules)
    older, newer = (Cursor.parse(query[name], name) if query.get(name) else None for name in POSITIONS)
    now = service.clock()
    moment = Moment(now, service.deadlines.due(now, ONE_WORKING_DAY).due_at)
    where = visible_to(actor) & filters.where(now)
    rows, more_older, more_newer = await keyset_page(where & queue.select(moment), older, newer)

    def href(target: Queue, filtered: bool = True, **position: Cursor) -> str:
        params = {} if target is queues[0] else {"queue": target.key}
        params |= filters.params() if filtered else {}
        params |= {name: str(cursor) for name, cursor in position.items()}
        return f"/inbox?{urlencode(params)}" if params else "/inbox"

    tabs = []
    for tab in queues:
        # the open tab counts what the page lists; the others are badges of their queues' sizes, so
        # a search or a filter costs one count, not one per tab
        cap, scope = (COUNT_CAP, where) if tab is queue else (TAB_CAP, visible_to(actor))
        counted = await count_up_to(Inquiry.filter(scope & tab.select(moment)), cap)
        tabs.append(
            {"queue": tab, "href": href(tab), "count": _count_text(counted, cap), "current": tab is queue}
        )
    items = [_row(row, service, now) for row in rows]
    return {
        "queue": queue,
        "tabs": tabs,
        "items": items,
        "filters": filters,
        "options": await _options(actor, service),
        "count": next(tab["count"] for tab in tabs if tab["current"]),
        "newest": href(queue),
        "unfiltered": href(queue, filtered=False),
        "positioned": older is not None or newer is not None,
        "older": href(queue, older=_cursor(rows[-1])) if more_older and rows else None,
        "newer": href(queue, newer=_cursor(rows[0])) if more_newer and rows else None,
        "filtered": bool(filters.params()),
    }


def _count_text(counted: int, cap: int) -> str:
    return f"{cap}+" if counted > cap else str(counted)


def _cursor(row: Mapping[str, Any]) -> Cursor:
    return Cursor(row["created_at"], row["id"])


async def _options(actor: Actor, service: InquiryService) -> dict[str, Any]:
    """The filter form's choices (the unit only for those who see every unit)."""
    return {
        "kinds": list(KIND_LABELS.items()),
        "categories": [(c.code, c.name) for c in service.rules.categories.values()],
        "channels": list(CHANNEL_LABELS.items()),
        "units": [] if actor.is_unit_staff else await unit_options(),
    }


def _row(row: Mapping[str, Any], service: InquiryService, now: datetime) -> dict[str, Any]:
    """The API's list item, with the channel's label and the times as datetimes for the page to format."""
    return {
        **serialize.list_item(row, service.rules, now),
        "channel_label": CHANNEL_LABELS[Channel(row["channel"])],
        "created_at": row["created_at"],
        "ack_due_at": row["ack_due_at"],
        "reply_due_at": row["reply_due_at"],
    }
