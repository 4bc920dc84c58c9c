"""Storing new inquiries in batches: one transaction, a handful of statements, however many arrive.

Intake is the hottest write (every WeChat push, every form), so a batch costs one counter upsert per
Beijing day, one bulk insert each for inquiries, messages and audit events, and one lookup of the new
ids. Intake is idempotent on the message's dedupe key: a key already stored (or seen earlier in the
same batch) gives back the inquiry it belongs to instead of a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core.actors import Actor
from core.audit import audit_event
from core.deadlines import Deadline
from core.models import (
    Attachment,
    Citizen,
    CitizenIdentity,
    Inquiry,
    InquiryEvent,
    InquiryMessage,
    OutboxMessage,
)
from core.numbers import case_day, new_query_code, next_case_numbers
from core.states import State
from core.vocab import Channel, Kind


@dataclass(frozen=True)
class IntakeRequest:
    channel: Channel
    kind: Kind
    category: str
    content: str
    location: str = ""
    latitude: float | None = None
    longitude: float | None = None
    contact_name: str = ""
    contact_phone: str = ""
    consent_to_publish: bool = False
    raw: str = ""
    message_kind: str = "text"
    dedupe_key: str | None = None
    """Unique per platform message (e.g. sender + MsgId): a repeat returns the first inquiry."""
    identity: str | None = None
    """The citizen's id on ``channel`` (openid, Weibo uid), to find or create the citizen."""
    media_id: str = ""
    """The platform's id of a photo, voice or video that came with the message, to fetch and keep."""
    owe_receipt: bool = False
    """Queue a receipt in the outbox with the new inquiry, for channels that cannot answer at once
    (a Weibo mention is answered by a comment); the channel's delivery words it."""


@dataclass(frozen=True)
class PendingIntake:
    request: IntakeRequest
    actor: Actor
    now: datetime
    promise: Deadline
    urgent: bool


async def write_intakes(batch: Sequence[PendingIntake]) -> list[Inquiry]:
    """Store ``batch`` in one transaction; returns one inquiry per item, in order."""
    async with in_transaction() as connection:
        by_key = await _stored_by_dedupe_key([p.request.dedupe_key for p in batch if p.request.dedupe_key])
        fresh: list[PendingIntake] = []
        claimed = set(by_key)
        for pending in batch:
            key = pending.request.dedupe_key
            if key is None or key not in claimed:
                fresh.append(pending)
                if key is not None:
                    claimed.add(key)
        numbers = await _case_numbers(connection, fresh)
        rows = [
            _inquiry(p, number, await _citizen(p.request)) for p, number in zip(fresh, numbers, strict=True)
        ]
        if rows:
            await Inquiry.bulk_create(rows)
            ids = dict(await Inquiry.filter(number__in=numbers).values_list("number", "id"))
            for row in rows:
                row.id = ids[row.number]
                row._saved_in_db = True
            await InquiryMessage.bulk_create([_message(p, r) for p, r in zip(fresh, rows, strict=True)])
            await InquiryEvent.bulk_create([_event(p, r) for p, r in zip(fresh, rows, strict=True)])
            media = [
                pending_media(r.id, p.request.channel, p.request.media_id, p.now)
                for p, r in zip(fresh, rows, strict=True)
                if p.request.media_id
            ]
            if media:
                await Attachment.bulk_create(media)
            receipts = [_receipt(p, r) for p, r in zip(fresh, rows, strict=True) if p.request.owe_receipt]
            if receipts:
                await OutboxMessage.bulk_create(receipts)
    made = {id(p): r for p, r in zip(fresh, rows, strict=True)}
    by_key |= {p.request.dedupe_key: r for p, r in zip(fresh, rows, strict=True) if p.request.dedupe_key}
    return [made.get(id(p)) or by_key[p.request.dedupe_key] for p in batch]  # type: ignore[index]


async def _stored_by_dedupe_key(keys: list[str]) -> dict[str, Inquiry]:
    if not keys:
        return {}
    pairs = await InquiryMessage.filter(dedupe_key__in=keys).values_list("dedupe_key", "inquiry_id")
    inquiries = {i.id: i for i in await Inquiry.filter(id__in=[i for _, i in pairs])}
    return {key: inquiries[inquiry_id] for key, inquiry_id in pairs}


async def _case_numbers(connection: BaseDBAsyncClient, fresh: list[PendingIntake]) -> list[str]:
    """One number per item, each from its own Beijing day's sequence, in order."""
    days = [case_day(p.now) for p in fresh]
    issued = {
        day: iter(await next_case_numbers(connection, day, days.count(day))) for day in sorted(set(days))
    }
    return [next(issued[day]) for day in days]


async def _citizen(request: IntakeRequest) -> Citizen | None:
    """The citizen behind a channel identity, created on first contact; None without an identity."""
    if not request.identity:
        return None
    identity = await CitizenIdentity.get_or_none(
        channel=request.channel, external_id=request.identity
    ).prefetch_related("citizen")
    if identity is not None:
        return identity.citizen
    citizen = await Citizen.create(name=request.contact_name, phone=request.contact_phone)
    await CitizenIdentity.create(citizen=citizen, channel=request.channel, external_id=request.identity)
    return citizen


def _inquiry(pending: PendingIntake, number: str, citizen: Citizen | None) -> Inquiry:
    request = pending.request
    return Inquiry.construct(
        number=number,
        query_code=new_query_code(),
        kind=request.kind,
        category=request.category,
        channel=request.channel,
        state=State.RECEIVED,
        citizen=citizen,
        content=request.content,
        location=request.location,
        latitude=request.latitude,
        longitude=request.longitude,
        contact_name=request.contact_name,
        contact_phone=request.contact_phone,
        consent_to_publish=request.consent_to_publish and request.kind != Kind.CONDUCT,
        urgent=pending.urgent,
        promised_reply_at=pending.promise.due_at,
        deadlines_provisional=pending.promise.provisional,
        created_at=pending.now,
        updated_at=pending.now,
    )


def pending_media(inquiry_id: int, channel: Channel, media_id: str, now: datetime) -> Attachment:
    """A photo, voice or video to fetch from the platform and keep with the inquiry."""
    return Attachment.construct(
        inquiry_id=inquiry_id,
        channel=channel,
        media_id=media_id,
        state="pending",
        next_attempt_at=now,
        created_at=now,
    )


def _message(pending: PendingIntake, inquiry: Inquiry) -> InquiryMessage:
    request = pending.request
    return InquiryMessage.construct(
        inquiry_id=inquiry.id,
        direction="in",
        channel=request.channel,
        kind=request.message_kind,
        text=request.content,
        payload=request.raw,
        dedupe_key=request.dedupe_key,
        created_at=pending.now,
    )


def _receipt(pending: PendingIntake, inquiry: Inquiry) -> OutboxMessage:
    return OutboxMessage.construct(
        inquiry_id=inquiry.id,
        channel=pending.request.channel,
        recipient=pending.request.identity or "",
        kind="receipt",
        text="",
        next_attempt_at=pending.now,
        created_at=pending.now,
    )


def _event(pending: PendingIntake, inquiry: Inquiry) -> InquiryEvent:
    data = {"channel": pending.request.channel.value}
    return audit_event(inquiry.id, "intake", pending.actor, "", State.RECEIVED, data, pending.now)
