"""Storing what citizens send in batches: one transaction, a handful of statements, however many arrive
(and two more for each citizen heard from for the first time).

Intake is the hottest write (every WeChat push, every form), so a batch costs one counter upsert per
Beijing day, one insert statement each for inquiries, messages and audit events (run for all their
rows), and one lookup of the new ids. Intake is idempotent on the message's dedupe key: a key already
stored (or seen earlier in the same batch) gives back the inquiry it belongs to instead of a second one.

Chat messages that join a citizen's open inquiry (the service's ``receive``) are stored here too, with
a few statements per batch rather than the ORM's several per message: the lookups of stored dedupe keys
and of open inquiries, one compare-and-set of the joined inquiries' versions, and one insert each for
their messages and audit events. The statements are written here as SQL that SQLite and PostgreSQL
both run, on the batch's connection (core.batch_connection), never through the ORM's models: the rows of
messages and audit events, one or two per message, are tuples of the values as the ORM would store
them (building and converting model objects cost more than the rest of filing a message).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.models import Model

from core.actors import Actor
from core.audit import EVENT_COLUMNS, AuditEvent
from core.batch_connection import BatchConnection, batch_transaction, placeholders, values_clause
from core.deadlines import Deadline
from core.messages import InboundMessage
from core.models import (
    Attachment,
    Inquiry,
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
    """Store ``batch`` in one transaction; returns one inquiry per item, in order (for an item whose
    dedupe key is stored already, or earlier in the batch, the inquiry it belongs to)."""
    async with batch_transaction() as connection:
        keys = [p.request.dedupe_key for p in batch if p.request.dedupe_key]
        by_key = await _stored_by_dedupe_key(connection, keys)
        fresh: list[PendingIntake] = []
        claimed = set(by_key)
        for pending in batch:
            key = pending.request.dedupe_key
            if key is None or key not in claimed:
                fresh.append(pending)
                if key is not None:
                    claimed.add(key)
        rows = await insert_intakes(connection, fresh)
    made = {id(p): r for p, r in zip(fresh, rows, strict=True)}
    by_key |= {p.request.dedupe_key: r for p, r in zip(fresh, rows, strict=True) if p.request.dedupe_key}
    return [made.get(id(p)) or by_key[p.request.dedupe_key] for p in batch]  # type: ignore[index]


async def insert_intakes(connection: BatchConnection, fresh: Sequence[PendingIntake]) -> list[Inquiry]:
    """Store ``fresh`` intakes, none of whose dedupe keys is stored (the caller looked, in the same
    transaction): their inquiries, in order."""
    numbers = await _case_numbers(connection, fresh)
    citizens = await _citizen_ids(connection, fresh)
    rows = [_inquiry(p, number, citizen) for p, number, citizen in zip(fresh, numbers, citizens, strict=True)]
    if rows:
        await _insert(connection, rows)
        marks = ", ".join(placeholders(connection, len(numbers)))
        found = await connection.fetch(f"SELECT number, id FROM inquiry WHERE number IN ({marks})", numbers)
        ids = dict(found)
        for row in rows:
            row.id = ids[row.number]
            row._saved_in_db = True
        await _insert_rows(
            connection,
            "inquiry_message",
            MESSAGE_COLUMNS,
            [_opening_message_row(p, r) for p, r in zip(fresh, rows, strict=True)],
        )
        await _insert_rows(
            connection,
            "inquiry_event",
            EVENT_COLUMNS,
            [_event(p, r) for p, r in zip(fresh, rows, strict=True)],
        )
        media = [
            pending_media(r.id, p.request.channel, p.request.media_id, p.now)
            for p, r in zip(fresh, rows, strict=True)
            if p.request.media_id
        ]
        await _insert(connection, media)
        await _insert(
            connection, [_receipt(p, r) for p, r in zip(fresh, rows, strict=True) if p.request.owe_receipt]
        )
    return rows


class StaleInquiries(Exception):
    """Joined inquiries that someone else changed after the batch read them (their version moved)."""

    def __init__(self, ids: Collection[int]) -> None:
        super().__init__(f"inquiries changed meanwhile: {sorted(ids)}")
        self.ids = frozenset(ids)


@dataclass(frozen=True)
class Supplement:
    """A chat message joining ``inquiry``, whose in-memory copy already shows the change."""

    inquiry: Inquiry
    message: InboundMessage
    event: Mapping[str, Any]
    """The audit event's data."""
    fields: Collection[str]
    """The inquiry's fields the join set, besides ``version`` and ``updated_at``."""
    actor: Actor
    now: datetime


async def stored_inquiry_ids(connection: BatchConnection, keys: Sequence[str]) -> dict[str, int]:
    """The inquiry each already stored dedupe key belongs to."""
    if not keys:
        return {}
    marks = ", ".join(placeholders(connection, len(keys)))
    sql = f"SELECT dedupe_key, inquiry_id FROM inquiry_message WHERE dedupe_key IN ({marks})"
    return {row[0]: row[1] for row in await connection.fetch(sql, list(keys))}


async def joined_message_keys(connection: BatchConnection, keys: Sequence[str]) -> set[str]:
    """Of the stored messages with these dedupe keys, those that joined an inquiry rather than opened
    it (the one that opened it is its first message)."""
    marks = ", ".join(placeholders(connection, len(keys)))
    sql = (
        "SELECT m.dedupe_key FROM inquiry_message m "
        f"WHERE m.dedupe_key IN ({marks}) AND m.id > "
        "(SELECT MIN(o.id) FROM inquiry_message o WHERE o.inquiry_id = m.inquiry_id)"
    )
    return {row[0] for row in await connection.fetch(sql, list(keys))}


async def open_inquiry_ids(
    connection: BatchConnection, channel: Channel, senders: Collection[str], since: datetime
) -> dict[str, tuple[int, int]]:
    """For each sender (an identity on ``channel``), of their inquiries that came on ``channel`` and still
    wait in ``received``, the one their latest message since ``since`` went into: its id and version.

    Every inbound message is stored with an ``intake`` or ``supplement`` audit event of the same time,
    so the events (indexed by inquiry) stand for the messages (which have no index by inquiry).
    """
    if not senders:
        return {}
    first, state, intake, supplement, start, *marks = placeholders(connection, 5 + len(senders))
    sql = (
        "SELECT ci.external_id, e.inquiry_id, i.version, MAX(e.id) FROM citizen_identity ci "
        "JOIN inquiry i ON i.citizen_id = ci.citizen_id JOIN inquiry_event e ON e.inquiry_id = i.id "
        f"WHERE ci.channel = {first} AND i.channel = {first} AND i.state = {state} "
        f"AND e.action IN ({intake}, {supplement}) AND e.created_at >= {start} "
        f"AND ci.external_id IN ({', '.join(marks)}) GROUP BY ci.external_id, e.inquiry_id, i.version"
    )
    values = [channel.value, State.RECEIVED.value, "intake", "supplement", since, *senders]
    latest: dict[str, tuple[int, int, int]] = {}
    for sender, inquiry_id, version, last in await connection.fetch(sql, values):
        if sender not in latest or last > latest[sender][0]:
            latest[sender] = (last, inquiry_id, version)
    return {sender: (inquiry_id, version) for sender, (_, inquiry_id, version) in latest.items()}


async def store_supplements(
    connection: BatchConnection, supplements: Sequence[Supplement], versions: Mapping[int, int]
) -> None:
    """Store joins: each joined inquiry as its in-memory copy now is (compare-and-set on ``versions``,
    as read), then each message, its audit event and its media. :class:`StaleInquiries` if a version
    had moved meanwhile."""
    joins = Counter(s.inquiry.id for s in supplements)
    inquiries = {s.inquiry.id: s.inquiry for s in supplements}
    changed: dict[int, set[str]] = {}
    for supplement in supplements:
        changed.setdefault(supplement.inquiry.id, set()).update(supplement.fields)
    # inquiries that differ only in version and updated_at share a statement; any other change is
    # written alone, with that inquiry's own values
    groups: dict[tuple[int, datetime], list[Inquiry]] = {}
    alone: list[Inquiry] = []
    for inquiry_id, inquiry in inquiries.items():
        if changed[inquiry_id]:
            alone.append(inquiry)
        else:
            groups.setdefault((joins[inquiry_id], inquiry.updated_at), []).append(inquiry)
    batches = [(group, ()) for group in groups.values()]
    batches += [([inquiry], tuple(sorted(changed[inquiry.id]))) for inquiry in alone]
    stale: set[int] = set()
    for group, fields in batches:
        stale |= await _set_versions(connection, group, joins[group[0].id], fields, versions)
    if stale:
        raise StaleInquiries(stale)
    messages = [_chat_message_row(s.inquiry.id, s.message, s.now) for s in supplements]
    await _insert_rows(connection, "inquiry_message", MESSAGE_COLUMNS, messages)
    events = [
        AuditEvent(s.inquiry.id, "supplement", s.actor, State.RECEIVED, State.RECEIVED, s.event, s.now).row()
        for s in supplements
    ]
    await _insert_rows(connection, "inquiry_event", EVENT_COLUMNS, events)
    media = [
        pending_media(s.inquiry.id, s.message.channel, s.message.media_id, s.now)
        for s in supplements
        if s.message.media_id
    ]
    await _insert(connection, media)


async def _set_versions(
    connection: BatchConnection,
    inquiries: Sequence[Inquiry],
    joins: int,
    fields: Sequence[str],
    versions: Mapping[int, int],
) -> set[int]:
    """``version += joins``, and ``updated_at`` and ``fields`` as the first inquiry has them, on each
    inquiry still at its version in ``versions``; returns the ids that were not (stale)."""
    columns = ["updated_at", *fields]
    first, meta = inquiries[0], Inquiry._meta.fields_map
    values: list[Any] = [meta[name].to_db_value(getattr(first, name), first) for name in columns]
    marks = placeholders(connection, len(columns) + 2 * len(inquiries))
    sets = [f"version = version + {joins:d}"]
    sets += [f"{column} = {mark}" for column, mark in zip(columns, marks[: len(columns)], strict=True)]
    keys = marks[len(columns) :]
    where = " OR ".join(f"(id = {i} AND version = {v})" for i, v in zip(keys[::2], keys[1::2], strict=True))
    for inquiry in inquiries:
        values += [inquiry.id, versions[inquiry.id]]
    updated = await connection.execute(f"UPDATE inquiry SET {', '.join(sets)} WHERE {where}", values)
    if updated == len(inquiries):
        return set()
    # Rare: find the ones someone else changed (counting the rows updated, rather than RETURNING their
    # ids, spares the common case any rows back)
    ids = [inquiry.id for inquiry in inquiries]
    found = await connection.fetch(
        f"SELECT id, version FROM inquiry WHERE id IN ({', '.join(placeholders(connection, len(ids)))})", ids
    )
    stale = {row[0] for row in found if row[1] != versions[row[0]] + joins}
    return stale or set(ids)


async def _insert(connection: BatchConnection, rows: Sequence[Model]) -> None:
    """Insert rows of one model with a single multi-row INSERT, values converted (and checked, e.g.
    lengths) as the ORM does. For the hot tables' rows, built as tuples, see :func:`_insert_rows`."""
    if not rows:
        return
    meta = type(rows[0])._meta
    names = [name for name in meta.fields_db_projection if name != meta.pk_attr]
    fields = [meta.fields_map[name] for name in names]
    values = [
        tuple(field.to_db_value(getattr(row, field.model_field_name), row) for field in fields)
        for row in rows
    ]
    columns = [meta.fields_db_projection[name] for name in names]
    await _insert_rows(connection, meta.db_table, columns, values)


async def _insert_rows(
    connection: BatchConnection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (values as stored, in the order of ``columns``) with one multi-row INSERT.

    Cheaper than ``bulk_create``, which builds its statement through the query builder on every call
    and runs it once per row.
    """
    if not rows:
        return
    tuples = values_clause(connection, len(columns), len(rows))
    names = ", ".join(f'"{column}"' for column in columns)
    values = [value for row in rows for value in row]
    await connection.execute(f'INSERT INTO "{table}" ({names}) VALUES {tuples}', values)


async def _stored_by_dedupe_key(connection: BatchConnection, keys: list[str]) -> dict[str, Inquiry]:
    stored = await stored_inquiry_ids(connection, keys)
    if not stored:
        return {}
    inquiries = await load_inquiries(connection, set(stored.values()))
    return {key: inquiries[inquiry_id] for key, inquiry_id in stored.items()}


async def load_inquiries(connection: BatchConnection, ids: Collection[int]) -> dict[int, Inquiry]:
    """The inquiries ``ids``, read on the batch's own connection, by id."""
    if not ids:
        return {}
    meta = Inquiry._meta
    names = list(meta.fields_db_projection)
    columns = ", ".join(f'"{meta.fields_db_projection[name]}"' for name in names)
    marks = ", ".join(placeholders(connection, len(ids)))
    found = await connection.fetch(f"SELECT {columns} FROM inquiry WHERE id IN ({marks})", list(ids))
    convert = [meta.fields_map[name].to_python_value for name in names]
    inquiries = (
        Inquiry.construct(_saved_in_db=True, **{n: c(v) for n, c, v in zip(names, convert, row, strict=True)})
        for row in found
    )
    return {inquiry.id: inquiry for inquiry in inquiries}


async def _case_numbers(connection: BatchConnection, fresh: list[PendingIntake]) -> list[str]:
    """One number per item, each from its own Beijing day's sequence, in order."""
    days = [case_day(p.now) for p in fresh]
    issued = {
        day: iter(await next_case_numbers(connection, day, days.count(day))) for day in sorted(set(days))
    }
    return [next(issued[day]) for day in days]


async def _citizen_ids(connection: BatchConnection, fresh: Sequence[PendingIntake]) -> list[int | None]:
    """The citizen behind each request's channel identity, created on first contact; None without one."""
    requests = [pending.request for pending in fresh]
    known: dict[tuple[Channel, str], int] = {}
    for channel in {r.channel for r in requests if r.identity}:
        identities = list({r.identity for r in requests if r.channel == channel and r.identity})
        marks = placeholders(connection, 1 + len(identities))
        sql = (
            "SELECT external_id, citizen_id FROM citizen_identity "
            f"WHERE channel = {marks[0]} AND external_id IN ({', '.join(marks[1:])})"
        )
        rows = await connection.fetch(sql, [channel.value, *identities])
        known |= {(channel, external_id): citizen_id for external_id, citizen_id in rows}
    found: list[int | None] = []
    for pending in fresh:
        request = pending.request
        if not request.identity:
            found.append(None)
            continue
        who = (request.channel, request.identity)
        if who not in known:
            known[who] = await _new_citizen(connection, pending)
        found.append(known[who])
    return found


async def _new_citizen(connection: BatchConnection, pending: PendingIntake) -> int:
    """A citizen first heard from through ``pending``'s request, with their identity on its channel (two
    statements, once per citizen: rare next to their messages); their id."""
    request = pending.request
    marks = ", ".join(placeholders(connection, 3))
    made = await connection.fetch(
        f"INSERT INTO citizen (name, phone, created_at) VALUES ({marks}) RETURNING id",
        [request.contact_name, request.contact_phone, pending.now],
    )
    citizen: int = made[0][0]
    await connection.execute(
        f"INSERT INTO citizen_identity (citizen_id, channel, external_id) VALUES ({marks})",
        [citizen, request.channel.value, request.identity],
    )
    return citizen


def _inquiry(pending: PendingIntake, number: str, citizen_id: int | None) -> Inquiry:
    request = pending.request
    return Inquiry.construct(
        number=number,
        query_code=new_query_code(),
        kind=request.kind,
        category=request.category,
        channel=request.channel,
        state=State.RECEIVED,
        citizen_id=citizen_id,
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


MESSAGE_COLUMNS = (
    "inquiry_id",
    "direction",
    "channel",
    "kind",
    "text",
    "payload",
    "dedupe_key",
    "created_at",
)
"""The columns of an inbound message's row in ``inquiry_message``, in the order :func:`_message_row` gives."""


def _message_row(
    inquiry_id: int, channel: Channel, kind: str, text: str, raw: str, key: str | None, now: datetime
) -> tuple[Any, ...]:
    """An inbound message's stored row (values as the ORM stores them; their lengths are checked at
    intake: a message can join only an inquiry whose intake checked its sender)."""
    return (inquiry_id, "in", channel.value, kind, text, raw, key, now)


def _chat_message_row(inquiry_id: int, message: InboundMessage, now: datetime) -> tuple[Any, ...]:
    """A chat message that joins an inquiry (or rates one), as stored."""
    return _message_row(
        inquiry_id, message.channel, message.kind, message.text, message.raw, message.dedupe_key, now
    )


def inbound_message(inquiry_id: int, message: InboundMessage, now: datetime) -> InquiryMessage:
    """A chat message stored on an inquiry outside a batch (a rating replied in chat), as a batch
    stores one."""
    row = _chat_message_row(inquiry_id, message, now)
    return InquiryMessage(**dict(zip(MESSAGE_COLUMNS, row, strict=True)))


def _opening_message_row(pending: PendingIntake, inquiry: Inquiry) -> tuple[Any, ...]:
    """The message that opens ``inquiry``, as stored."""
    request = pending.request
    return _message_row(
        inquiry.id,
        request.channel,
        request.message_kind,
        request.content,
        request.raw,
        request.dedupe_key,
        pending.now,
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


def _event(pending: PendingIntake, inquiry: Inquiry) -> tuple[Any, ...]:
    data = {"channel": pending.request.channel.value}
    return AuditEvent(inquiry.id, "intake", pending.actor, "", State.RECEIVED, data, pending.now).row()
