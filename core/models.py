"""Tortoise models: units, staff, citizens, inquiries, their messages, attachments and audit events.

All times are aware UTC datetimes. The inquiry row carries the deadlines as they were set (product.md
§4: "deadlines are stored on the case when set") and a ``version`` for compare-and-set updates.

Tortoise copies class docstrings into the schema as table comments and its SQLite migration runner
splits statements on semicolons, so model docstrings here must not contain one.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from core.deadlines import Clock
from core.states import State
from core.vocab import Channel, Kind, Rating, Role


class Unit(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=100)
    active = fields.BooleanField(default=True)

    class Meta:
        table = "unit"


class Staff(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=64)
    password_hash = fields.CharField(max_length=200)
    role = fields.CharEnumField(Role, max_length=16)
    unit: fields.ForeignKeyNullableRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="staff", null=True, on_delete=fields.RESTRICT
    )
    active = fields.BooleanField(default=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    seen_event_id = fields.IntField(default=0, db_default=0)
    """The newest audit event the staff member has seen in the inbox's notification list."""

    class Meta:
        table = "staff"


class StaffToken(Model):
    """A bearer token of the staff API, stored as its SHA-256 digest only."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "models.Staff", related_name="tokens", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "staff_token"


class Citizen(Model):
    """One person across channels. Name and phone are private and never published."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, default="")
    phone = fields.CharField(max_length=32, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "citizen"


class CitizenIdentity(Model):
    id = fields.IntField(primary_key=True)
    citizen: fields.ForeignKeyRelation[Citizen] = fields.ForeignKeyField(
        "models.Citizen", related_name="identities", on_delete=fields.CASCADE
    )
    channel = fields.CharEnumField(Channel, max_length=16)
    external_id = fields.CharField(max_length=128)

    class Meta:
        table = "citizen_identity"
        unique_together = (("channel", "external_id"),)


class CaseCounter(Model):
    """The last case number issued per Beijing-time day (core.numbers)."""

    day = fields.CharField(max_length=8, primary_key=True)
    issued = fields.IntField()

    class Meta:
        table = "case_counter"


class Inquiry(Model):
    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=20, unique=True)
    query_code = fields.CharField(max_length=8)
    kind = fields.CharEnumField(Kind, max_length=16)
    category = fields.CharField(max_length=32)
    channel = fields.CharEnumField(Channel, max_length=16)
    state = fields.CharEnumField(State, max_length=16, default=State.RECEIVED)
    unit: fields.ForeignKeyNullableRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="inquiries", null=True, on_delete=fields.RESTRICT
    )
    citizen: fields.ForeignKeyNullableRelation[Citizen] = fields.ForeignKeyField(
        "models.Citizen", related_name="inquiries", null=True, on_delete=fields.RESTRICT
    )
    content = fields.TextField()
    location = fields.CharField(max_length=200, default="")
    latitude = fields.FloatField(null=True)
    longitude = fields.FloatField(null=True)
    # the private zone (隐私区): never published, shown only to staff who may see the case
    contact_name = fields.CharField(max_length=64, default="")
    contact_phone = fields.CharField(max_length=32, default="")
    consent_to_publish = fields.BooleanField(default=False)
    published_at = fields.DatetimeField(null=True)
    urgent = fields.BooleanField(default=False)

    promised_reply_at = fields.DatetimeField(null=True)
    ack_due_at = fields.DatetimeField(null=True)
    reply_due_at = fields.DatetimeField(null=True)
    rating_due_at = fields.DatetimeField(null=True)
    deadlines_provisional = fields.BooleanField(default=False)

    dispatched_at = fields.DatetimeField(null=True)
    acknowledged_at = fields.DatetimeField(null=True)
    replied_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    close_reason = fields.CharField(max_length=16, default="")

    reply_text = fields.TextField(default="")
    reply_note = fields.TextField(default="")
    reply_resolved = fields.BooleanField(null=True)
    reply_basis = fields.TextField(default="")
    reply_contact = fields.CharField(max_length=100, default="", db_default="")
    """Whom the citizen may call about the answer (a 制度性答复 names a contact)."""
    reply_signature = fields.CharField(max_length=100, default="")

    rating = fields.CharEnumField(Rating, max_length=24, null=True)
    rating_comment = fields.TextField(default="")
    rated_at = fields.DatetimeField(null=True)

    merged_into: fields.ForeignKeyNullableRelation[Inquiry] = fields.ForeignKeyField(
        "models.Inquiry", related_name="merged", null=True, on_delete=fields.RESTRICT
    )
    extension_pending_days = fields.IntField(default=0)
    extension_pending_reason = fields.TextField(default="")
    extension_days = fields.IntField(default=0)
    extension_count = fields.IntField(default=0)
    return_count = fields.IntField(default=0)
    reopen_count = fields.IntField(default=0)
    urge_count = fields.IntField(default=0)
    supervision_level = fields.IntField(default=0)

    version = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "inquiry"
        indexes = (
            # queues and sweeps: a unit's cases by state and deadline, the desk's by state and age
            Index(fields=("state", "unit_id", "ack_due_at"), name="inquiry_state_unit_ack"),
            Index(fields=("state", "unit_id", "reply_due_at"), name="inquiry_state_unit_reply"),
            Index(fields=("state", "rating_due_at"), name="inquiry_state_rating"),
            Index(fields=("unit_id", "created_at"), name="inquiry_unit_created"),
            # the inbox's queues: a unit's cases in one state, newest first; the desk's extension requests
            Index(fields=("unit_id", "state", "created_at"), name="inquiry_unit_state_created"),
            Index(fields=("extension_pending_days", "created_at"), name="inquiry_extension_created"),
            Index(fields=("state", "created_at"), name="inquiry_state_created"),
            Index(fields=("created_at",), name="inquiry_created"),
            Index(fields=("citizen_id", "state"), name="inquiry_citizen_state"),
            # the list filters, newest first: a category (with its kind and channel), a kind (with its
            # channel), a channel; without them a filter on these reads every row of its date range
            Index(fields=("category", "kind", "channel", "created_at"), name="inquiry_category_filters"),
            Index(fields=("kind", "channel", "created_at"), name="inquiry_kind_channel_created"),
            Index(fields=("channel", "created_at"), name="inquiry_channel_created"),
            # the case page: the inquiries merged into this one
            Index(fields=("merged_into_id",), name="inquiry_merged_into"),
        )


class InquiryMessage(Model):
    """One message in or out on any channel, with the raw platform payload kept as received."""

    id = fields.IntField(primary_key=True)
    inquiry: fields.ForeignKeyRelation[Inquiry] = fields.ForeignKeyField(
        "models.Inquiry", related_name="messages", on_delete=fields.CASCADE
    )
    direction = fields.CharField(max_length=3)  # "in" from the citizen, "out" to the citizen
    channel = fields.CharEnumField(Channel, max_length=16)
    kind = fields.CharField(max_length=32, default="text")
    text = fields.TextField(default="")
    payload = fields.TextField(default="")
    dedupe_key = fields.CharField(max_length=200, null=True, unique=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "inquiry_message"
        indexes = (Index(fields=("inquiry_id", "id"), name="message_inquiry"),)  # the case page's timeline


class Attachment(Model):
    """A file kept with an inquiry. Media that arrived on a chat channel is first recorded by its
    platform id (state pending) and fetched promptly by a worker, since WeChat's media ids expire
    after 3 days."""

    id = fields.IntField(primary_key=True)
    inquiry: fields.ForeignKeyRelation[Inquiry] = fields.ForeignKeyField(
        "models.Inquiry", related_name="attachments", on_delete=fields.CASCADE
    )
    message: fields.ForeignKeyNullableRelation[InquiryMessage] = fields.ForeignKeyField(
        "models.InquiryMessage", related_name="attachments", null=True, on_delete=fields.CASCADE
    )
    # db_default: columns added to a table that may already hold rows
    channel = fields.CharEnumField(Channel, max_length=16, default=Channel.WEB, db_default="web")
    media_id = fields.CharField(max_length=200, default="", db_default="")
    state = fields.CharField(max_length=16, default="stored", db_default="stored")  # pending, stored, failed
    attempts = fields.IntField(default=0, db_default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=300, default="", db_default="")
    filename = fields.CharField(max_length=200, default="")
    content_type = fields.CharField(max_length=100, default="")
    size = fields.IntField(default=0)
    sha256 = fields.CharField(max_length=64, default="")
    storage_path = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "attachment"
        indexes = (
            Index(fields=("state", "next_attempt_at"), name="attachment_due"),
            Index(fields=("inquiry_id", "id"), name="attachment_inquiry"),  # the case page
        )


class InquiryEvent(Model):
    """The append-only audit trail: one row per action, never updated or deleted."""

    id = fields.IntField(primary_key=True)
    inquiry: fields.ForeignKeyRelation[Inquiry] = fields.ForeignKeyField(
        "models.Inquiry", related_name="events", on_delete=fields.CASCADE
    )
    action = fields.CharField(max_length=32)
    actor_kind = fields.CharField(max_length=16)  # staff, citizen, system
    actor_id = fields.IntField(null=True)
    actor_name = fields.CharField(max_length=100, default="")
    from_state = fields.CharField(max_length=16, default="")
    to_state = fields.CharField(max_length=16)
    data = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()

    class Meta:
        table = "inquiry_event"
        indexes = (Index(fields=("inquiry_id", "id"), name="event_inquiry"),)


class OutboxMessage(Model):
    """A message owed to a citizen on a chat channel, written in the transaction of the action that owes
    it, and delivered later by a worker, so a state change and its message are never one without the
    other."""

    id = fields.IntField(primary_key=True)
    inquiry: fields.ForeignKeyRelation[Inquiry] = fields.ForeignKeyField(
        "models.Inquiry", related_name="outbox", on_delete=fields.CASCADE
    )
    channel = fields.CharEnumField(Channel, max_length=16)
    recipient = fields.CharField(max_length=128)
    """The citizen's id on the channel (openid, Weibo uid)."""
    kind = fields.CharField(max_length=32)
    """The action that owes the message: reply, answer-directly, reject, ..."""
    text = fields.TextField()
    state = fields.CharField(max_length=16, default="pending")  # pending, sent, failed
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.CharField(max_length=300, default="")
    platform_id = fields.CharField(max_length=64, null=True)
    """The platform's id of the sent message (a template message's msgid), to match its delivery report."""
    platform_status = fields.CharField(max_length=64, default="", db_default="")
    """The platform's delivery report, e.g. TEMPLATESENDJOBFINISH's success or failed:user block."""
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
        indexes = (
            Index(fields=("state", "next_attempt_at"), name="outbox_due"),
            Index(fields=("channel", "platform_id"), name="outbox_platform_id"),
            Index(fields=("inquiry_id", "id"), name="outbox_inquiry"),  # the case page
        )


class ChannelCursor(Model):
    """How far a polled stream has been read (the since_id of each of Weibo's mentions streams), kept
    in the database so that a restart neither loses nor repeats what was polled."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=64, unique=True)
    value = fields.CharField(max_length=64)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "channel_cursor"


class ReplyTemplate(Model):
    """A reply text staff start from, such as the 制度性答复 (formal answer). Its body may hold the
    placeholders {basis}, {contact} and {signature}, filled in from the reply form. A template without
    a unit is offered to every unit."""

    id = fields.IntField(primary_key=True)
    unit: fields.ForeignKeyNullableRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="reply_templates", null=True, on_delete=fields.CASCADE
    )
    name = fields.CharField(max_length=60)
    body = fields.TextField()
    active = fields.BooleanField(default=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "reply_template"


class Category(Model):
    """A category citizens file under: the unit it goes to, whether it is urgent, and its deadline
    policies (a null clock and amount mean the sla default of config.yaml). Seeded from config.yaml,
    then edited in the admin pages. A category in use is deactivated, never deleted."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=32)
    unit: fields.ForeignKeyRelation[Unit] = fields.ForeignKeyField(
        "models.Unit", related_name="categories", on_delete=fields.RESTRICT
    )
    urgent = fields.BooleanField(default=False)
    ack_clock = fields.CharEnumField(Clock, max_length=16, null=True)
    ack_amount = fields.IntField(null=True)
    reply_clock = fields.CharEnumField(Clock, max_length=16, null=True)
    reply_amount = fields.IntField(null=True)
    active = fields.BooleanField(default=True)
    version = fields.IntField(default=1)
    """Raised by one on every change, so the sum over the table tells a process its rules are stale."""
    updated_at = fields.DatetimeField()

    class Meta:
        table = "category"
