"""The one way in: every intake and every action on an inquiry goes through :class:`InquiryService`.

An action is checked in this order: the inquiry exists and the actor may see it (else
:class:`NotFound`, so a unit cannot probe another unit's numbers), the actor's role may take it
(:class:`Forbidden`), the state table allows it (:class:`IllegalAction`), its data is valid
(:class:`InvalidInput`). Then the change is written with compare-and-set on ``version`` together with
its audit event in one transaction: of two conflicting actions at the same moment exactly one wins and
the other gets :class:`ConcurrentUpdate`.
"""

from __future__ import annotations

import copy
import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.actions import HANDLERS, Change, Context, refusal
from core.actors import Actor
from core.audit import AuditEvent
from core.batch_connection import BatchConnection, batch_transaction
from core.deadlines import Deadline, DeadlineCalculator
from core.errors import ConcurrentUpdate, CoreError, Forbidden, IllegalAction, InvalidInput, NotFound
from core.group_commit import GroupCommit
from core.intake import (
    IntakeRequest,
    PendingIntake,
    StaleInquiries,
    Supplement,
    inbound_message,
    insert_intakes,
    joined_message_keys,
    load_inquiries,
    open_inquiry_ids,
    store_supplements,
    stored_inquiry_ids,
    write_intakes,
)
from core.messages import InboundMessage
from core.models import CitizenIdentity, Inquiry, InquiryMessage, OutboxMessage
from core.numbers import normalise_number
from core.rules import Rules
from core.states import Action, State, allowed_actions, allows, next_state
from core.vocab import UNIT_ROLES, Channel, Kind, Role

log = logging.getLogger(__name__)

DESK_ROLES = frozenset({Role.DESK, Role.ADMIN})
STAFF_ROLES = frozenset(Role)

ACTION_ROLES: Mapping[Action, frozenset[Role]] = {
    Action.DISPATCH: DESK_ROLES,
    Action.ANSWER_DIRECTLY: DESK_ROLES,
    Action.REJECT: DESK_ROLES,
    Action.REDIRECT: DESK_ROLES,
    Action.MERGE: DESK_ROLES,
    Action.REDISPATCH: DESK_ROLES,
    Action.REFUSE_RETURN: DESK_ROLES,
    Action.APPROVE_EXTENSION: DESK_ROLES,
    Action.REFUSE_EXTENSION: DESK_ROLES,
    Action.REOPEN: DESK_ROLES,
    Action.PUBLISH: DESK_ROLES,
    Action.ACKNOWLEDGE: UNIT_ROLES,
    Action.RETURN: UNIT_ROLES,
    Action.REQUEST_EXTENSION: UNIT_ROLES,
    Action.REPLY: UNIT_ROLES,
    Action.NOTE: STAFF_ROLES,
}
"""Staff roles allowed to take each action; actions missing here are the citizen's or the system's."""

FILING_ATTEMPTS = 3
"""How many times a batch of chat messages is filed before what another process keeps changing under it
wins: an inquiry it joins changed meanwhile is left alone (its messages open new inquiries); a message
stored meanwhile fails the batch (each message is then filed alone, core.group_commit)."""
REMEMBERED_INQUIRIES = 4096
"""Inquiries a chat message was filed into lately, kept in memory for the citizens' next messages."""
CITIZEN_ACTIONS = frozenset({Action.RATE})
"""What a citizen may do through :meth:`InquiryService.act`; a message joining an inquiry (SUPPLEMENT)
comes only through :meth:`InquiryService.receive`, which stores the message with it."""
SYSTEM_ACTIONS = frozenset({Action.CLOSE_UNRATED})

MAX_CONTENT = 5000
CHAT_CHANNELS = frozenset({Channel.WECHAT, Channel.WEIBO})
"""Channels whose citizens are written to later through the platform's API (through the outbox)."""
INTAKE_LIMITS = {
    "location": 200,
    "contact_name": 64,
    "contact_phone": 32,
    "message_kind": 32,
    "dedupe_key": 200,
    "identity": 128,
    "media_id": 200,
}
"""Lengths of the columns the intake fills from a request's text fields."""


@dataclass(frozen=True)
class Reception:
    inquiry: Inquiry
    joined: bool
    """The message joined the citizen's open inquiry instead of opening one."""
    repeated: bool
    """The platform delivered a message already stored."""


class _Step(Enum):
    """Where a message of a reception batch goes (:meth:`InquiryService._plan`)."""

    REPEAT = "repeat"
    """A repeat delivery of a message already stored (or earlier in the batch)."""
    JOIN = "join"
    """Into the sender's inquiry waiting for the desk."""
    OPEN = "open"
    """Into a new inquiry."""
    REFUSED = "refused"
    """Nowhere: the intake refused it."""


@dataclass(frozen=True)
class _Arrival:
    """A chat message waiting for the next reception batch (:meth:`InquiryService.receive`)."""

    message: InboundMessage
    kind: Kind
    category: str
    owe_receipt: bool
    join: bool
    """It may join the sender's inquiry waiting for the desk (else it opens one of its own)."""
    now: datetime
    """When it arrived: the time of the inquiry it opens, if it opens one."""
    key: str
    """``message.dedupe_key``, worked out once."""


PLACEHOLDERS = {
    "image": "[图片]",
    "voice": "[语音]",
    "video": "[视频]",
    "shortvideo": "[视频]",
    "location": "[位置]",
}


def message_content(message: InboundMessage) -> str:
    """What an inquiry opened by ``message`` says: its text, or what kind of media it carried."""
    return message.text.strip() or PLACEHOLDERS.get(message.kind, f"[{message.kind}]")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _request(arrival: _Arrival) -> IntakeRequest:
    """The intake of a chat message that opens a new inquiry."""
    message = arrival.message
    return IntakeRequest(
        channel=message.channel,
        kind=arrival.kind,
        category=arrival.category,
        content=message_content(message),
        latitude=message.latitude,
        longitude=message.longitude,
        location=message.text[:200] if message.latitude is not None else "",
        raw=message.raw,
        message_kind=message.kind,
        dedupe_key=message.dedupe_key,
        identity=message.sender,
        media_id=message.media_id,
        owe_receipt=arrival.owe_receipt,
    )


class InquiryService:
    def __init__(
        self,
        rules: Rules,
        deadlines: DeadlineCalculator,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.rules = rules
        self.deadlines = deadlines
        self.clock = clock
        self._intakes: GroupCommit[PendingIntake, Inquiry] = GroupCommit(write_intakes)
        self._arrivals: GroupCommit[_Arrival, Reception | CoreError] = GroupCommit(self._file_arrivals)
        self._filed: OrderedDict[int, Inquiry] = OrderedDict()
        self._latest: OrderedDict[tuple[Channel, str], tuple[int, datetime]] = OrderedDict()
        """Per sender, the inquiry this process filed their latest message into, and when."""

    async def intake(self, request: IntakeRequest, actor: Actor) -> Inquiry:
        """Register a new inquiry in ``received`` with its first message and audit event.

        Idempotent on ``request.dedupe_key``: a repeat gives back the inquiry stored the first time.
        Returns only once the inquiry is committed (intakes arriving together share one commit).
        """
        pending = self._pending_intake(request, actor, self.clock())
        inquiry = await self._intakes.submit(pending)
        log.info("inquiry received", extra={"case": inquiry.number, "channel": request.channel})
        return inquiry

    def _pending_intake(self, request: IntakeRequest, actor: Actor, now: datetime) -> PendingIntake:
        """``request`` checked and ready to store; :class:`CoreError` if it cannot be filed."""
        self._check_intake(request, actor)
        category = self.rules.deadlines_for(request.kind, request.category)
        return PendingIntake(
            request=request,
            actor=actor,
            now=now,
            promise=self.deadlines.due(now, category.reply),
            urgent=category.urgent or request.kind == Kind.CONDUCT,
        )

    def _check_intake(self, request: IntakeRequest, actor: Actor) -> None:
        if actor.kind == "staff" and actor.role not in DESK_ROLES:
            raise Forbidden("只有受理人员可以登记诉求")
        if request.category not in self.rules.offered():
            raise InvalidInput(f"没有分类 {request.category}")
        content = request.content.strip()
        if not content:
            raise InvalidInput("诉求内容不能为空")
        if len(content) > MAX_CONTENT:
            raise InvalidInput(f"诉求内容不能超过 {MAX_CONTENT} 字")
        # the batch writer inserts without the ORM's per-field validation: the limits are checked here
        for name, limit in INTAKE_LIMITS.items():
            value = getattr(request, name)
            if value is not None and len(value) > limit:
                raise InvalidInput(f"字段 {name} 不能超过 {limit} 字")

    async def get(self, number: str, actor: Actor) -> Inquiry:
        """The inquiry ``number`` if ``actor`` may see it; :class:`NotFound` otherwise."""
        inquiry = await Inquiry.get_or_none(number=normalise_number(number))
        if inquiry is None or not actor.can_see(inquiry):
            raise NotFound(f"没有找到诉求 {number}")
        return inquiry

    async def act(
        self,
        number: str,
        action: str,
        actor: Actor,
        data: Mapping[str, Any],
        *,
        expected_version: int | None = None,
    ) -> Inquiry:
        """Take ``action`` on inquiry ``number``; returns the inquiry as it is afterwards.

        ``expected_version`` is the version the staff member saw: if the inquiry has changed since, the
        action is refused with :class:`ConcurrentUpdate` rather than taken on a case they have not seen.
        """
        inquiry = await self.get(number, actor)
        if expected_version is not None and inquiry.version != expected_version:
            raise ConcurrentUpdate(f"诉求 {number} 已被他人更新，请查看最新情况后再操作")
        try:
            act = Action(action)
        except ValueError:
            raise InvalidInput(f"没有操作 {action}") from None
        self._authorize(act, actor)
        to_state = next_state(State(inquiry.state), act)
        now = self.clock()
        if (reason := refusal(act, inquiry, self.rules, now)) is not None:
            raise IllegalAction(reason)
        change = await HANDLERS[act](Context(inquiry, actor, data, now, self.rules, self.deadlines))
        await self._apply(inquiry, act, actor, to_state, change, now)
        log.info("inquiry %s", act.value, extra={"case": inquiry.number, "actor": actor.name})
        return await Inquiry.get(id=inquiry.id)

    async def receive(
        self,
        message: InboundMessage,
        *,
        kind: Kind,
        category: str,
        owe_receipt: bool = False,
        join: bool = True,
    ) -> Reception:
        """A citizen's message on a chat channel: part of their inquiry still waiting for the desk if
        they wrote within the joining window (and ``join``), else a new inquiry (with a receipt queued
        in the outbox if ``owe_receipt``). A repeat delivery of a message already stored changes nothing
        and gives back its inquiry. A public Weibo mention is received with ``join=False``: it is
        answered where it was posted, so it is an inquiry of its own.

        Returns once the message is committed. Messages arriving together are filed in one
        transaction, in order of arrival, each as if it had come alone after the ones before it.
        """
        arrival = _Arrival(message, kind, category, owe_receipt, join, self.clock(), message.dedupe_key)
        outcome = await self._arrivals.submit(arrival)
        if isinstance(outcome, CoreError):
            raise outcome
        if outcome.joined:
            # the hot path of a busy account (nearly every chat message joins): not worth a line at INFO
            if log.isEnabledFor(logging.DEBUG):
                extra = {"case": outcome.inquiry.number, "actor": Actor.citizen().name}
                log.debug("inquiry %s", Action.SUPPLEMENT.value, extra=extra)
        elif not outcome.repeated:
            log.info("inquiry received", extra={"case": outcome.inquiry.number, "channel": message.channel})
        return outcome

    async def _file_arrivals(self, batch: Sequence[_Arrival]) -> list[Reception | CoreError]:
        """File a batch of chat messages in one transaction: one outcome per message, in order."""
        stale: frozenset[int] = frozenset()
        attempts = 0
        while True:
            try:
                async with batch_transaction() as connection:
                    outcomes = await self._file(connection, batch, stale)
                break
            except IntegrityError:
                # PostgreSQL: another process stored one of these messages (a retry delivered to both
                # at the same moment) after this batch looked for it; filed again, it is found stored
                attempts += 1
                if attempts >= FILING_ATTEMPTS:
                    raise
            except StaleInquiries as error:
                # Another process changed an inquiry to join since it was recalled from memory or read
                # (on PostgreSQL a read is not locked: the citizen's next message may have joined it
                # there, or the desk dispatched it). Each is read again and judged as it is then. One
                # that keeps moving is left alone, as after a lost compare-and-set in act(): its
                # messages open new inquiries.
                for inquiry_id in error.ids:
                    self._filed.pop(inquiry_id, None)
                attempts += 1
                if attempts >= FILING_ATTEMPTS:
                    stale |= error.ids
        for outcome, arrival in zip(outcomes, batch, strict=True):
            if isinstance(outcome, Reception) and not outcome.repeated:
                self._remember(outcome.inquiry, arrival)
        return outcomes

    async def _file(
        self,
        connection: BatchConnection,
        batch: Sequence[_Arrival],
        stale: frozenset[int],
    ) -> list[Reception | CoreError]:
        """File ``batch`` on ``connection``, joining no inquiry in ``stale``."""
        now = self.clock()
        stored = await stored_inquiry_ids(connection, [a.key for a in batch])
        joined = await joined_message_keys(connection, list(stored)) if stored else set()
        new = [a.message for a in batch if a.key not in stored and a.join]
        targets = await self._open_inquiries(connection, new, now)
        inquiries = await self._inquiries(connection, set(stored.values()), dict(targets.values()))
        versions = {i.id: i.version for i in inquiries.values()}
        joinable: dict[tuple[Channel, str], Inquiry | PendingIntake] = {
            who: inquiries[i]
            for who, (i, _) in targets.items()
            if i not in stale and self._may_join(inquiries[i], now)
        }
        plan = self._plan(batch, {key: inquiries[i] for key, i in stored.items()}, joinable, joined)
        opened = [place for step, place in plan if step is _Step.OPEN and isinstance(place, PendingIntake)]
        made = dict(zip(map(id, opened), await insert_intakes(connection, opened), strict=True))
        versions |= {inquiry.id: inquiry.version for inquiry in made.values()}
        outcomes: list[Reception | CoreError] = []
        supplements: list[Supplement] = []
        for (step, place), arrival in zip(plan, batch, strict=True):
            if isinstance(place, CoreError):
                outcomes.append(place)
                continue
            inquiry = made[id(place)] if isinstance(place, PendingIntake) else place
            if step is _Step.JOIN:
                supplements.append(await self._supplement(inquiry, arrival.message, now))
            outcomes.append(Reception(inquiry, joined=arrival.key in joined, repeated=step is _Step.REPEAT))
        if supplements:
            await store_supplements(connection, supplements, versions)
        return outcomes

    def _may_join(self, inquiry: Inquiry, now: datetime) -> bool:
        """A message may join ``inquiry`` as read: the state table allows SUPPLEMENT from its state
        (an inquiry found waiting may have been dispatched since, in another process) and the rules
        do not refuse it."""
        return (
            allows(State(inquiry.state), Action.SUPPLEMENT)
            and refusal(Action.SUPPLEMENT, inquiry, self.rules, now) is None
        )

    def _plan(
        self,
        batch: Sequence[_Arrival],
        placed: dict[str, Inquiry | PendingIntake],
        joinable: dict[tuple[Channel, str], Inquiry | PendingIntake],
        joined: set[str],
    ) -> list[tuple[_Step, Inquiry | PendingIntake | CoreError]]:
        """Where each message goes, in order of arrival: a repeat (its dedupe key is ``placed``), a join
        (its sender has a ``joinable`` inquiry), a new inquiry (a PendingIntake until stored) or refused
        (the intake's error). Updates the mappings as it goes, and
        ``joined``, the dedupe keys of messages that joined an inquiry rather than opened it (a repeat
        is answered as its first delivery was)."""
        plan: list[tuple[_Step, Inquiry | PendingIntake | CoreError]] = []
        for arrival in batch:
            message, key = arrival.message, arrival.key
            who = (message.channel, message.sender)
            if key in placed:
                plan.append((_Step.REPEAT, placed[key]))
                continue
            if arrival.join and who in joinable:
                plan.append((_Step.JOIN, joinable[who]))
                placed[key] = joinable[who]
                joined.add(key)
                continue
            try:
                pending = self._pending_intake(_request(arrival), Actor.citizen(), arrival.now)
            except CoreError as refused:
                plan.append((_Step.REFUSED, refused))
                continue
            plan.append((_Step.OPEN, pending))
            placed[key] = pending
            if self.rules.join_window_minutes > 0:
                joinable[who] = pending
        return plan

    async def _open_inquiries(
        self,
        connection: BatchConnection,
        messages: Sequence[InboundMessage],
        now: datetime,
    ) -> dict[tuple[Channel, str], tuple[int, int]]:
        """The inquiry each sender's message would join: (channel, sender) → its id and version.

        From memory when this process filed the sender's latest message, within the window, into an
        inquiry still waiting for the desk as far as it knows: the compare-and-set that stores the join
        finds out if it has moved on since. Otherwise from the database.
        """
        window = self.rules.join_window_minutes
        if window <= 0:
            return {}
        since = now - timedelta(minutes=window)
        found: dict[tuple[Channel, str], tuple[int, int]] = {}
        unknown: dict[Channel, set[str]] = {}
        for message in messages:
            who = (message.channel, message.sender)
            latest = self._latest.get(who)
            remembered = self._filed.get(latest[0]) if latest is not None and latest[1] >= since else None
            if remembered is not None and remembered.state == State.RECEIVED:
                found[who] = (remembered.id, remembered.version)
            else:
                unknown.setdefault(message.channel, set()).add(message.sender)
        for channel, senders in unknown.items():
            open_ids = await open_inquiry_ids(connection, channel, senders, since)
            found |= {(channel, sender): found_id for sender, found_id in open_ids.items()}
        return found

    async def _inquiries(
        self, connection: BatchConnection, ids: set[int], versions: Mapping[int, int]
    ) -> dict[int, Inquiry]:
        """The inquiries ``ids`` and ``versions`` (id → version as stored) name, as copies to change:
        from memory when one was filed into lately and is still at that version, else read."""
        found: dict[int, Inquiry] = {}
        for inquiry_id, version in versions.items():
            remembered = self._filed.get(inquiry_id)
            if remembered is not None and remembered.version == version:
                found[inquiry_id] = copy.copy(remembered)
        if missing := (ids | versions.keys()) - found.keys():
            found |= await load_inquiries(connection, missing)
        return found

    def _remember(self, inquiry: Inquiry, arrival: _Arrival) -> None:
        """Keep an inquiry just filed into, as committed, and that it holds the sender's latest message,
        for the citizen's next message: reading both back costs about as much as the rest of filing that
        message. It is used only while the stored inquiry is at the same version (every change to an
        inquiry moves it), and only through copies (:meth:`_inquiries`), so a batch that fails leaves it
        as it was; the callers that get it from :meth:`receive` only read it."""
        self._filed[inquiry.id] = inquiry
        self._filed.move_to_end(inquiry.id)
        who = (arrival.message.channel, arrival.message.sender)
        self._latest[who] = (inquiry.id, arrival.now)
        self._latest.move_to_end(who)
        for remembered in (self._filed, self._latest):
            if len(remembered) > REMEMBERED_INQUIRIES:
                remembered.popitem(last=False)

    async def _supplement(self, inquiry: Inquiry, message: InboundMessage, now: datetime) -> Supplement:
        """The citizen's SUPPLEMENT action on ``inquiry`` (in ``received``), applied to the copy in
        memory; the caller stores it."""
        actor = Actor.citizen()
        context = Context(inquiry, actor, {"message": message}, now, self.rules, self.deadlines)
        change = await HANDLERS[Action.SUPPLEMENT](context)
        for name, value in change.fields.items():
            setattr(inquiry, name, value)
        inquiry.version += 1
        inquiry.updated_at = now
        return Supplement(inquiry, message, change.event, tuple(change.fields), actor, now)

    async def close_expired_ratings(self, limit: int = 500) -> int:
        """Close, unrated, replied inquiries whose rating window has passed; returns how many.

        Safe to run from several processes at once: each close is a compare-and-set, and a lost race
        is simply skipped.
        """
        now = self.clock()
        expired = (
            await Inquiry.filter(state=State.REPLIED, rating_due_at__lt=now)
            .order_by("rating_due_at")
            .limit(limit)
            .values_list("number", flat=True)
        )
        closed = 0
        for number in expired:
            try:
                await self.act(str(number), Action.CLOSE_UNRATED, Actor.system(), {})
                closed += 1
            except IllegalAction:
                continue
        return closed

    async def recompute_provisional(self) -> int:
        """Recompute deadlines that rested on the Monday–Friday guess for an unpublished year, e.g.
        after an admin added next year's notice to the override file; returns how many moved.

        A recomputed deadline is never earlier than the one already communicated (product.md §4).
        """
        moved = 0
        open_states = (State.RECEIVED, State.DISPATCHED, State.ACKNOWLEDGED)
        for inquiry in await Inquiry.filter(deadlines_provisional=True, state__in=open_states):
            fields = self._recomputed(inquiry)
            if not fields:
                continue
            now = self.clock()
            async with in_transaction():
                updated = await Inquiry.filter(id=inquiry.id, version=inquiry.version).update(
                    version=inquiry.version + 1, updated_at=now, **fields
                )
                if updated:
                    data = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in fields.items()}
                    event = AuditEvent(
                        inquiry.id,
                        "recompute-deadlines",
                        Actor.system(),
                        inquiry.state,
                        inquiry.state,
                        data,
                        now,
                    )
                    await event.model().save()
                    moved += 1
        return moved

    def _recomputed(self, inquiry: Inquiry) -> dict[str, Any]:
        """The deadline field of the inquiry's current step, recomputed; empty if nothing changes."""
        category = self.rules.deadlines_for(inquiry.kind, inquiry.category)
        match inquiry.state:
            case State.RECEIVED:
                name, start, policy = "promised_reply_at", inquiry.created_at, category.reply
            case State.DISPATCHED:
                name, start, policy = "ack_due_at", inquiry.dispatched_at, category.ack
            case _:
                name, start, policy = "reply_due_at", inquiry.acknowledged_at, category.reply
        current = getattr(inquiry, name)
        if start is None or current is None:
            return {}
        fresh = self.deadlines.due(start, policy)
        if name == "reply_due_at" and inquiry.extension_days:
            fresh = self.deadlines.extend(fresh, inquiry.extension_days)
        # the kept time is final once the recomputation no longer rests on a guess
        kept = self.deadlines.never_shorter(Deadline(current, provisional=fresh.provisional), fresh)
        if kept.due_at == current and kept.provisional:
            return {}
        return {name: kept.due_at, "deadlines_provisional": kept.provisional}

    @staticmethod
    def _authorize(action: Action, actor: Actor) -> None:
        if actor.kind == "staff":
            allowed = ACTION_ROLES.get(action, frozenset())
            if actor.role not in allowed:
                raise Forbidden(f"当前角色不能执行该操作（{action.value}）")
        elif actor.kind == "citizen" and action not in CITIZEN_ACTIONS:
            raise Forbidden("来信人不能执行该操作")
        elif actor.kind == "system" and action not in SYSTEM_ACTIONS:
            raise Forbidden("系统不能执行该操作")

    async def _apply(
        self, inquiry: Inquiry, action: Action, actor: Actor, to_state: State, change: Change, now: datetime
    ) -> None:
        from_state = State(inquiry.state)
        async with in_transaction():
            if action is not Action.NOTE:  # a note changes nothing a concurrent action could conflict with
                updated = await Inquiry.filter(id=inquiry.id, version=inquiry.version).update(
                    state=to_state, version=inquiry.version + 1, updated_at=now, **change.fields
                )
                if updated == 0:
                    raise ConcurrentUpdate("该诉求刚被他人更新，请刷新后重试")
            event = AuditEvent(inquiry.id, action.value, actor, from_state, to_state, change.event, now)
            await event.model().save()
            if change.inbound is not None:
                await inbound_message(inquiry.id, change.inbound, now).save()
            if change.outbound:
                await self._owe(inquiry, action, change.outbound, now)
                await InquiryMessage.create(
                    inquiry_id=inquiry.id,
                    direction="out",
                    channel=inquiry.channel,
                    kind=action.value,
                    text=change.outbound,
                    created_at=now,
                )

    @staticmethod
    async def _owe(inquiry: Inquiry, action: Action, text: str, now: datetime) -> None:
        """Queue ``text`` for the citizen's chat channel, in the caller's transaction; the web channel
        shows it on the case page instead."""
        if inquiry.channel not in CHAT_CHANNELS or inquiry.citizen_id is None:  # type: ignore[attr-defined]
            return
        identity = await CitizenIdentity.get_or_none(
            citizen_id=inquiry.citizen_id,  # type: ignore[attr-defined]
            channel=inquiry.channel,
        )
        if identity is None:
            return
        await OutboxMessage.create(
            inquiry_id=inquiry.id,
            channel=inquiry.channel,
            recipient=identity.external_id,
            kind=action.value,
            text=text,
            next_attempt_at=now,
            created_at=now,
        )


def available_actions(inquiry: Inquiry, actor: Actor, rules: Rules, now: datetime) -> list[str]:
    """The actions ``actor`` may take on ``inquiry`` now: the same rules :meth:`InquiryService.act`
    enforces, so an inbox can show exactly the buttons that will work."""
    if actor.kind != "staff" or not actor.can_see(inquiry):
        return []
    return [
        action.value
        for action in allowed_actions(State(inquiry.state))
        if actor.role in ACTION_ROLES.get(action, frozenset())
        and refusal(action, inquiry, rules, now) is None
    ]
