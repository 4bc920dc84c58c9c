"""The one way in: every intake and every action on an inquiry goes through :class:`InquiryService`.

An action is checked in this order: the inquiry exists and the actor may see it (else
:class:`NotFound`, so a unit cannot probe another unit's numbers), the actor's role may take it
(:class:`Forbidden`), the state table allows it (:class:`IllegalAction`), its data is valid
(:class:`InvalidInput`). Then the change is written with compare-and-set on ``version`` together with
its audit event in one transaction: of two conflicting actions at the same moment exactly one wins and
the other gets :class:`ConcurrentUpdate`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.actions import HANDLERS, Change, Context, refusal
from core.actors import Actor
from core.audit import audit_event
from core.deadlines import Deadline, DeadlineCalculator
from core.errors import ConcurrentUpdate, Forbidden, IllegalAction, InvalidInput, NotFound
from core.group_commit import GroupCommit
from core.intake import IntakeRequest, PendingIntake, pending_media, write_intakes
from core.messages import InboundMessage
from core.models import CitizenIdentity, Inquiry, InquiryMessage, OutboxMessage
from core.numbers import normalise_number
from core.rules import Rules
from core.states import Action, State, allowed_actions, next_state
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

CITIZEN_ACTIONS = frozenset({Action.RATE, Action.SUPPLEMENT})
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

    async def intake(self, request: IntakeRequest, actor: Actor) -> Inquiry:
        """Register a new inquiry in ``received`` with its first message and audit event.

        Idempotent on ``request.dedupe_key``: a repeat gives back the inquiry stored the first time.
        Returns only once the inquiry is committed (intakes arriving together share one commit).
        """
        self._check_intake(request, actor)
        now = self.clock()
        category = self.rules.deadlines_for(request.kind, request.category)
        pending = PendingIntake(
            request=request,
            actor=actor,
            now=now,
            promise=self.deadlines.due(now, category.reply),
            urgent=category.urgent or request.kind == Kind.CONDUCT,
        )
        inquiry = await self._intakes.submit(pending)
        log.info("inquiry received", extra={"case": inquiry.number, "channel": request.channel})
        return inquiry

    def _check_intake(self, request: IntakeRequest, actor: Actor) -> None:
        if actor.kind == "staff" and actor.role not in DESK_ROLES:
            raise Forbidden("只有受理人员可以登记诉求")
        if request.category not in self.rules.categories:
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
        self, message: InboundMessage, *, kind: Kind, category: str, owe_receipt: bool = False
    ) -> Reception:
        """A citizen's message on a chat channel: part of their inquiry still waiting for the desk if
        they wrote within the joining window, else a new inquiry (with a receipt queued in the outbox
        if ``owe_receipt``). A repeat delivery of a message already stored changes nothing and gives
        back its inquiry."""
        if (repeated := await self._already_received(message)) is not None:
            return repeated
        joinable = await self._joinable(message)
        if joinable is not None:
            try:
                inquiry = await self.act(
                    joinable.number, Action.SUPPLEMENT, Actor.citizen(), {"message": message}
                )
                return Reception(inquiry, joined=True, repeated=False)
            except IllegalAction:
                pass  # screened (or joined by a repeat delivery) meanwhile: the intake below sorts it out
            except IntegrityError:
                # a repeat delivery of this very message was stored between our check and our write
                if (repeated := await self._already_received(message)) is not None:
                    return repeated
                raise
        request = IntakeRequest(
            channel=message.channel,
            kind=kind,
            category=category,
            content=message_content(message),
            latitude=message.latitude,
            longitude=message.longitude,
            location=message.text[:200] if message.latitude is not None else "",
            raw=message.raw,
            message_kind=message.kind,
            dedupe_key=message.dedupe_key,
            identity=message.sender,
            media_id=message.media_id,
            owe_receipt=owe_receipt,
        )
        return Reception(await self.intake(request, Actor.citizen()), joined=False, repeated=False)

    @staticmethod
    async def _already_received(message: InboundMessage) -> Reception | None:
        stored = await InquiryMessage.get_or_none(dedupe_key=message.dedupe_key)
        if stored is None:
            return None
        return Reception(await Inquiry.get(id=stored.inquiry_id), joined=False, repeated=True)

    async def _joinable(self, message: InboundMessage) -> Inquiry | None:
        window = self.rules.join_window_minutes
        if window <= 0:
            return None
        since = self.clock() - timedelta(minutes=window)
        latest = (
            await InquiryMessage.filter(
                direction="in",
                created_at__gte=since,
                inquiry__channel=message.channel,
                inquiry__state=State.RECEIVED,
                inquiry__citizen__identities__channel=message.channel,
                inquiry__citizen__identities__external_id=message.sender,
            )
            .order_by("-id")
            .first()
        )
        return await Inquiry.get(id=latest.inquiry_id) if latest is not None else None

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
                    event = audit_event(
                        inquiry.id,
                        "recompute-deadlines",
                        Actor.system(),
                        inquiry.state,
                        inquiry.state,
                        data,
                        now,
                    )
                    await event.save()
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
            await audit_event(inquiry.id, action.value, actor, from_state, to_state, change.event, now).save()
            if change.inbound and change.inbound.media_id:
                await pending_media(inquiry.id, change.inbound.channel, change.inbound.media_id, now).save()
            if change.inbound:
                await InquiryMessage.create(
                    inquiry_id=inquiry.id,
                    direction="in",
                    channel=change.inbound.channel,
                    kind=change.inbound.kind,
                    text=change.inbound.text,
                    payload=change.inbound.raw,
                    dedupe_key=change.inbound.dedupe_key,
                    created_at=now,
                )
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
