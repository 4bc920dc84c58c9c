"""Live updates for open inbox pages: server-sent events at ``GET /inbox/events``.

The bus is the audit trail itself. Every change writes its ``InquiryEvent`` in the change's own
transaction, in whichever process made it, so one task per process (:class:`LiveHub`) reads the events
above the last id it has seen, every ``inbox.live.poll_ms``, with one query on the primary key for all
of the process's open pages, and hands each event to the pages whose staff member may see the inquiry
*now* (``Actor.can_see`` on the inquiry's current unit: once an inquiry is dispatched away from a unit,
its events stop reaching that unit). No Redis, and any number of gateway processes.

On PostgreSQL ids are taken at insert and committed in any order, so an id can become visible after a
higher one: the hub remembers the ids it skipped for :data:`GAP_SECONDS` and looks for them again.

A page that reconnects sends ``Last-Event-ID`` (or ``?after=``, the id its HTML was rendered at) and is
sent what it missed, at most ``inbox.live.replay_limit`` events; past that it gets a ``reset`` event
and reloads its data instead. Each event's data is ``{"id", "number", "action", "label", "state",
"notify"}``; ``notify`` says whether it also belongs in the staff member's notifications.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from aiohttp import web
from tortoise.expressions import Q

from core.actors import Actor
from core.models import Inquiry, InquiryEvent
from gateway.auth import staff_for_token
from gateway.inbox import notifications
from gateway.inbox.views import Inbox, session_key
from gateway.keys import actor_key
from gateway.settings import LiveSettings

log = logging.getLogger(__name__)

EVENTS_PATH = "/inbox/events"
BATCH = 500
"""Events read per poll at most; a backlog is read over the next polls."""
GAP_SECONDS = 10.0
"""How long a skipped id is looked for again (a transaction still open, or one rolled back)."""
MAX_GAPS = 1000
QUEUE_SIZE = 1000
"""Events waiting for one page at most; a page that falls further behind is disconnected and
catches up through ``Last-Event-ID``."""
RETRY_MS = 2000
"""How long a browser waits before reconnecting (the ``retry:`` field)."""
BUS_FIELDS = (
    "id",
    "action",
    "to_state",
    "actor_kind",
    "actor_id",
    "inquiry__number",
    "inquiry__unit_id",
    "inquiry__rating",
)


@dataclass(frozen=True)
class Change:
    """An audit event as the bus reads it, with its inquiry's current unit and rating."""

    id: int
    number: str
    unit_id: int | None
    action: str
    state: str
    actor_kind: str
    actor_id: int | None
    rating: str | None


async def read_changes(filters: Q, limit: int) -> list[Change]:
    """The events matching ``filters``, oldest first, with their inquiries' current unit and rating."""
    rows = await InquiryEvent.filter(filters).order_by("id").limit(limit).values(*BUS_FIELDS)
    return [
        Change(
            id=row["id"],
            number=row["inquiry__number"],
            unit_id=row["inquiry__unit_id"],
            action=row["action"],
            state=row["to_state"],
            actor_kind=row["actor_kind"],
            actor_id=row["actor_id"],
            rating=row["inquiry__rating"],
        )
        for row in rows
    ]


@dataclass(eq=False)
class Subscriber:
    """One open page: whom it shows the inbox to and what it still has to be sent."""

    actor: Actor
    after: int
    """The page has every event up to this id."""
    gone: Callable[[], bool]
    """Whether the browser has closed the connection."""
    queue: asyncio.Queue[Change | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))

    def offer(self, change: Change, inquiry: Inquiry) -> None:
        if change.id <= self.after or not self.actor.can_see(inquiry):
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            self.close()

    def close(self) -> None:
        """End the stream: drop what is queued (a reconnecting page replays it) and wake the writer."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class LiveHub:
    """The process's poller and its open pages."""

    def __init__(self, settings: LiveSettings) -> None:
        self.settings = settings
        self.subscribers: set[Subscriber] = set()
        self.cursor = 0
        """The highest event id read (the pages have been offered everything up to it)."""
        self.gaps: dict[int, float] = {}
        """Ids below the cursor not seen yet → when they were first missed."""
        self._task: asyncio.Task[None] | None = None

    async def context(self, app: web.Application) -> AsyncIterator[None]:
        """Poll from start-up (after the database opens) until clean-up (before it closes)."""
        self.cursor = await notifications.latest_event_id()
        self._task = asyncio.create_task(self._run(), name="inbox-live")
        try:
            yield
        finally:
            self.close_all()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def on_shutdown(self, app: web.Application) -> None:
        """End every stream, so the server's shutdown does not wait on open pages."""
        self.close_all()

    def close_all(self) -> None:
        for subscriber in self.subscribers:
            subscriber.close()

    def refusal(self, staff_id: int) -> str | None:
        """Why another stream cannot be opened for ``staff_id`` now, if it cannot."""
        if len(self.subscribers) >= self.settings.max_connections:
            return "实时更新连接数已满，请稍后再试。"
        if sum(s.actor.staff_id == staff_id for s in self.subscribers) >= self.settings.max_per_staff:
            return f"您已打开 {self.settings.max_per_staff} 个实时更新的页面，请关闭部分页面后再试。"
        return None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.settings.poll_ms / 1000)
            try:
                await self.poll()
            except Exception:
                # a database hiccup must not end live updates for good: try again at the next tick
                log.exception("reading audit events for live updates failed")

    async def poll(self) -> None:
        """Read the new events (and any skipped ones that have appeared) and offer them to the pages."""
        for subscriber in [s for s in self.subscribers if s.gone()]:
            subscriber.close()
            self.subscribers.discard(subscriber)
        if not self.subscribers:
            self.cursor, self.gaps = max(self.cursor, await notifications.latest_event_id()), {}
            return
        filters = Q(id__gt=self.cursor) | Q(id__in=sorted(self.gaps)) if self.gaps else Q(id__gt=self.cursor)
        now = time.monotonic()
        for change in await read_changes(filters, BATCH):
            if change.id > self.cursor:
                if len(self.gaps) < MAX_GAPS:
                    skipped = range(max(self.cursor + 1, change.id - MAX_GAPS), change.id)
                    self.gaps.update(dict.fromkeys(skipped, now))
                self.cursor = change.id
            elif self.gaps.pop(change.id, None) is None:
                continue
            inquiry = Inquiry.construct(id=0, unit_id=change.unit_id)
            for subscriber in self.subscribers:
                subscriber.offer(change, inquiry)
        self.gaps = {id_: since for id_, since in self.gaps.items() if now - since < GAP_SECONDS}


def encode(change: Change, actor: Actor) -> bytes:
    data = {
        "id": change.id,
        "number": change.number,
        "action": change.action,
        "label": notifications.action_label(change.action),
        "state": change.state,
        "notify": notifications.concerns(
            actor, change.action, change.rating, change.actor_kind, change.actor_id
        ),
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {change.id}\nevent: inquiry\ndata: {text}\n\n".encode()


class LiveStream:
    """The ``GET /inbox/events`` handler."""

    def __init__(self, hub: LiveHub) -> None:
        self.hub = hub

    async def handle(self, request: web.Request) -> web.StreamResponse:
        actor, session = request[actor_key], request[session_key]
        hub = self.hub
        if (refusal := hub.refusal(session.staff.id)) is not None:
            return web.Response(status=429, text=refusal, headers={"Retry-After": "30"})
        after = notifications.event_id(request.headers.get("Last-Event-ID"))
        if after is None:
            after = notifications.event_id(request.query.get("after"))
        upto = hub.cursor
        subscriber = Subscriber(actor, after if after is not None else upto, lambda: _gone(request))
        hub.subscribers.add(subscriber)
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",  # nginx: pass each event on at once
            }
        )
        try:
            await response.prepare(request)
            await response.write(f"retry: {RETRY_MS}\n\n".encode())
            if after is not None and after < upto:
                await self._replay(response, subscriber, after, upto)
            await self._follow(response, subscriber, session.token)
        except ConnectionResetError:
            pass  # the browser went away
        finally:
            hub.subscribers.discard(subscriber)
        return response

    async def _replay(
        self, response: web.StreamResponse, subscriber: Subscriber, after: int, upto: int
    ) -> None:
        """Send the events the page missed, or ``reset`` when there are too many to send."""
        limit = self.hub.settings.replay_limit
        missed = await read_changes(Q(id__gt=after, id__lte=upto), limit + 1)
        if len(missed) > limit:
            await response.write(f"id: {upto}\nevent: reset\ndata: {{}}\n\n".encode())
            return
        for change in missed:
            if subscriber.actor.can_see(Inquiry.construct(id=0, unit_id=change.unit_id)):
                await response.write(encode(change, subscriber.actor))

    async def _follow(self, response: web.StreamResponse, subscriber: Subscriber, token: str) -> None:
        """Send what the hub offers, and a comment every ``heartbeat_seconds`` (keeping proxies from
        closing the stream, and checking the session has not ended meanwhile)."""
        heartbeat = self.hub.settings.heartbeat_seconds
        while True:
            try:
                change = await asyncio.wait_for(subscriber.queue.get(), heartbeat)
            except TimeoutError:
                staff = await staff_for_token(token)
                if staff is None:
                    await response.write(b"event: signed-out\ndata: {}\n\n")
                    return
                subscriber.actor = Actor.of_staff(staff)  # a unit or role may have changed
                await response.write(b": heartbeat\n\n")
                continue
            if change is None:
                return
            await response.write(encode(change, subscriber.actor))


def _gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


live_hub_key = web.AppKey("inbox_live_hub", LiveHub)


def setup_live(app: web.Application, subapp: web.Application, inbox: Inbox, settings: LiveSettings) -> None:
    """Add live updates and the notification list to the inbox (``subapp``, mounted on ``app``)."""
    hub = LiveHub(settings)
    app[live_hub_key] = hub
    app.cleanup_ctx.append(hub.context)
    app.on_shutdown.append(hub.on_shutdown)
    subapp.router.add_get("/events", LiveStream(hub).handle, name="inbox-events")
    subapp.router.add_routes(notifications.Notifications(inbox).routes())
    subapp.middlewares.append(notifications.unread_middleware(frozenset({EVENTS_PATH})))
    script = app.router.named_resources()["inbox-static"].url_for(filename="live.js", append_version=True)
    inbox.pages.env.globals.update(
        live_js_url=str(script),
        live_after=lambda: notifications.rendered_upto.get() or hub.cursor,
        unread_count=notifications.unread.get,
    )
    inbox.pages.env.filters["bell"] = notifications.bell_text
