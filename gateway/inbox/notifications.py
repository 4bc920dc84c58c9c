"""The notification list: the audit events that ask something of the signed-in staff member.

Which events concern whom is one table, :data:`CONCERNS` (role → :class:`Concern`), read two ways: as
a database filter for the list and the unread count, and event by event for the live stream
(:mod:`gateway.inbox.live`), so the bell and the list never disagree. A staff member only ever hears
of inquiries they may see, and never of their own actions. "Read" is one number per staff member,
``Staff.seen_event_id``: every concerning event above it is unread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlencode

from aiohttp import web
from tortoise.expressions import Q

from channels.web.forms import whole_number
from core.actors import Actor
from core.models import InquiryEvent
from core.states import ACTION_LABELS, Action
from core.vocab import RATING_LABELS, Rating, Role
from gateway.api import count_up_to, visible_to
from gateway.inbox.views import Inbox, see_other
from gateway.keys import actor_key, staff_key

PATH = "/inbox/notifications"
PER_PAGE = 20
LIST_FIELDS = ("id", "action", "actor_name", "data", "created_at", "inquiry__number")
UNREAD_CAP = 99
"""The bell counts this far and then shows "99+"."""

ESCALATIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "remind": "到期提醒",
        "urge": "催办",
        "supervise": "督办",
        "circulate": "通报",
        "ack-overdue": "签收超期",
        "reply-overdue": "答复超期",
    }
)
"""Reminder and escalation events (product.md §5) the scheduler writes to the audit trail: every kind
named here reaches the inquiry's unit and the supervisors. Add a kind here when the scheduler emits it."""

OTHER_LABELS: Final[Mapping[str, str]] = MappingProxyType({"delivery-failed": "答复送达失败"})


def action_label(action: str) -> str:
    """The Chinese name of an audit event's action."""
    return ACTION_LABELS.get(action) or ESCALATIONS.get(action) or OTHER_LABELS.get(action) or action


@dataclass(frozen=True)
class Concern:
    """The event kinds that concern a role; those in ``unsatisfied_only`` only when the inquiry's
    rating is 不满意 (the rating lives on the inquiry: SQLite cannot filter on the event's JSON)."""

    actions: frozenset[str]
    unsatisfied_only: frozenset[str] = frozenset()

    def filter(self) -> Q:
        plain = Q(action__in=sorted(self.actions - self.unsatisfied_only))
        if not self.unsatisfied_only:
            return plain
        return plain | Q(action__in=sorted(self.unsatisfied_only), inquiry__rating=Rating.UNSATISFIED)

    def matches(self, action: str, rating: str | None) -> bool:
        if action not in self.actions:
            return False
        return action not in self.unsatisfied_only or rating == Rating.UNSATISFIED


_UNIT = Concern(
    frozenset(
        {
            Action.DISPATCH,
            Action.REDISPATCH,
            Action.REFUSE_RETURN,
            Action.APPROVE_EXTENSION,
            Action.REFUSE_EXTENSION,
            Action.REOPEN,
            Action.RATE,
            *ESCALATIONS,
        }
    )
)
_DESK = Concern(
    frozenset({Action.RETURN, Action.REQUEST_EXTENSION, Action.RATE, "delivery-failed"}),
    unsatisfied_only=frozenset({Action.RATE}),
)
_OVERSIGHT = Concern(frozenset(ESCALATIONS))

CONCERNS: Final[Mapping[Role, Concern]] = MappingProxyType(
    {
        Role.HANDLER: _UNIT,
        Role.SPOKESPERSON: _UNIT,
        Role.LEADER: _UNIT,
        Role.DESK: _DESK,
        Role.SUPERVISOR: _OVERSIGHT,
        Role.ADMIN: _OVERSIGHT,
    }
)


def concerns(actor: Actor, action: str, rating: str | None, actor_kind: str, actor_id: int | None) -> bool:
    """Whether an event (of an inquiry ``actor`` may see) belongs in ``actor``'s notifications."""
    if actor.role is None or (actor_kind == "staff" and actor_id == actor.staff_id):
        return False
    return CONCERNS[actor.role].matches(action, rating)


def event_scope(actor: Actor) -> Q:
    """The audit events of the inquiries ``actor`` may see (``visible_to``, applied to events).

    A join on the inquiry, not ``inquiry_id IN (the unit's inquiries)``: with the join the database walks
    the few events above the staff member's last read one and looks up each one's inquiry (under a
    millisecond), where the IN list led SQLite through all of a unit's inquiries first (50 ms and more
    at a million).
    """
    return visible_to(actor, through="inquiry__")


def concerning(actor: Actor) -> Q:
    """:func:`concerns` as a filter on audit events."""
    if actor.role is None:
        return Q(id__in=[])
    own = Q(actor_kind="staff", actor_id=actor.staff_id)
    return event_scope(actor) & CONCERNS[actor.role].filter() & ~own


async def unread_count(actor: Actor, seen_event_id: int, upto: int) -> int:
    """How many concerning events are above ``seen_event_id`` and at most ``upto``, counted to
    ``UNREAD_CAP + 1``."""
    selection = InquiryEvent.filter(concerning(actor), id__gt=seen_event_id, id__lte=upto)
    return await count_up_to(selection, UNREAD_CAP)  # type: ignore[arg-type]


async def latest_event_id() -> int:
    return await InquiryEvent.all().order_by("-id").first().values_list("id", flat=True) or 0


unread = ContextVar[int | None]("inbox_unread", default=None)
"""The signed-in staff member's unread count for the page being rendered (read by base.html's bell).

aiohttp handles each request in a task of its own, so the value never reaches another request."""
rendered_upto = ContextVar[int | None]("inbox_rendered_upto", default=None)
"""The newest audit event the page being rendered shows: its live stream starts after it, so an event
is neither missed nor delivered (and counted on the bell) a second time."""


def unread_middleware(skip: frozenset[str]) -> Callable[..., Awaitable[web.StreamResponse]]:
    """Before a signed-in page is rendered (not for paths in ``skip``): the newest event it shows and the
    unread notifications up to it."""

    @web.middleware
    async def count_unread(request: web.Request, handler: Any) -> web.StreamResponse:
        staff = request.get(staff_key)
        if staff is None or request.method != "GET" or request.path in skip:
            return await handler(request)
        upto = await latest_event_id()
        shown = rendered_upto.set(upto)
        token = unread.set(await unread_count(request[actor_key], staff.seen_event_id, upto))
        try:
            return await handler(request)
        finally:
            unread.reset(token)
            rendered_upto.reset(shown)

    return count_unread


def bell_text(count: int | None) -> str:
    """The bell's badge: the count, "99+" past the cap, nothing at zero."""
    if not count:
        return ""
    return f"{UNREAD_CAP}+" if count > UNREAD_CAP else str(count)


class Notifications:
    """``GET /inbox/notifications`` (newest first, a page at a time: ``?before=<event id>`` pages to
    older ones) and ``POST /inbox/notifications/read``."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/notifications", self.list, name="inbox-notifications"),
            web.post("/notifications/read", self.mark_read, name="inbox-notifications-read"),
        ]

    async def list(self, request: web.Request) -> web.Response:
        actor, staff = request[actor_key], request[staff_key]
        before = event_id(request.query.get("before"))
        selection = InquiryEvent.filter(concerning(actor))
        page = selection.filter(id__lt=before) if before is not None else selection
        rows = await page.order_by("-id").limit(PER_PAGE + 1).values(*LIST_FIELDS)
        items = [_item(row, staff.seen_event_id) for row in rows[:PER_PAGE]]
        context = {
            "items": items,
            "first_page": before is None,
            "older": f"{PATH}?{urlencode({'before': items[-1]['id']})}" if len(rows) > PER_PAGE else None,
            "newest": await selection.order_by("-id").first().values_list("id", flat=True) or 0,
            "unread_total": unread.get(),
        }
        return await self.inbox.page(request, "notifications.html", context)

    async def mark_read(self, request: web.Request) -> web.Response:
        """Mark read everything up to the newest event the list showed (``upto``), not what arrived
        since: an event that came in while the page was open stays unread."""
        form = await request.post()
        upto = event_id(value if isinstance(value := form.get("upto"), str) else None)
        if upto is None:
            raise web.HTTPBadRequest(text="缺少或无效的 upto")
        staff = request[staff_key]
        seen = max(staff.seen_event_id, min(upto, await latest_event_id()))
        if seen != staff.seen_event_id:
            staff.seen_event_id = seen
            await staff.save(update_fields=["seen_event_id"])
        return see_other(PATH)


def event_id(value: str | None) -> int | None:
    """An audit event id from a parameter or header; ``None`` for anything else."""
    return whole_number(value, digits=12)


def _item(row: Mapping[str, Any], seen_event_id: int) -> dict[str, Any]:
    return {
        "id": row["id"],
        "number": row["inquiry__number"],
        "label": action_label(row["action"]),
        "detail": _detail(row),
        "actor": row["actor_name"],
        "at": row["created_at"],
        "unread": row["id"] > seen_event_id,
        "unsatisfied": row["action"] == Action.RATE and row["data"].get("rating") == Rating.UNSATISFIED,
    }


def _detail(row: Mapping[str, Any]) -> str:
    """One line of what the event says: the rating, the reason, the days, the unit."""
    data = row["data"] or {}
    if row["action"] == Action.RATE and (rating := data.get("rating")) in set(Rating):
        return RATING_LABELS[Rating(rating)] + (f"：{data['comment']}" if data.get("comment") else "")
    parts = []
    if data.get("unit_name"):
        parts.append(f"承办单位：{data['unit_name']}")
    if data.get("days"):
        parts.append(f"{data['days']} 个工作日")
    if data.get("reason"):
        parts.append(str(data["reason"]))
    if data.get("error"):
        parts.append(str(data["error"]))
    return "；".join(parts)[:200]
