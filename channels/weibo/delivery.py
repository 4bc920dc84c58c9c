"""Delivering queued messages to citizens on Weibo (protocols.md §4.3, §4.6).

Where a message goes is decided by how the inquiry began, its origin (first inbound) message: an
@-mention in a status is answered with a comment on that status, an @-mention in a comment with a reply
to that comment, and a fans-service private message with a private reply, which Weibo allows only
within 48 hours of the citizen's last message. Comments are public: they stay within 140 characters,
point to the case page for the full text and never repeat phone or ID numbers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from channels.chat.outbound import ANSWERS, full_text
from channels.links import case_link
from channels.privacy import mask_personal
from channels.weibo.api import WeiboApi, WeiboApiError
from channels.weibo.inbound import MentionTarget, comment_mention, item_id, status_mention
from channels.weibo.replies import COMMENT_LIMIT, MESSAGE_LIMIT, comment_text, fit
from channels.weibo.security import WeiboRejected
from core import outbox
from core.models import Inquiry, InquiryMessage, OutboxMessage
from core.vocab import Channel

WINDOW = timedelta(hours=48)
"""How long after the citizen's last private message a fans-service reply may be sent."""
RECEIPT = "receipt"
STATUS_KEY = "weibo:status:"
COMMENT_KEY = "weibo:comment:"
RATING_INVITATION = "回复1满意 2基本满意 3不满意"


class Undeliverable(Exception):
    """The message cannot reach the citizen, now or later; the reason is shown to staff."""


@dataclass(frozen=True)
class WeiboDeliveryOptions:
    public_base_url: str
    templates: Mapping[str, str]
    """config.yaml ``templates``: ``answer`` frames an answer in a private reply, ``weibo_receipt``
    (``{number}``, ``{link}``) acknowledges a new inquiry."""


class WeiboDelivery:
    def __init__(self, api: WeiboApi, options: WeiboDeliveryOptions) -> None:
        self.api = api
        self.options = options

    def link(self, inquiry: Inquiry) -> str:
        return case_link(self.options.public_base_url, inquiry)

    def public_text(self, message: OutboxMessage, inquiry: Inquiry) -> str:
        """A comment: a receipt, a short notice of the answer with the rating invitation, or a short
        progress notice; the case page behind the link holds the whole text."""
        link = self.link(inquiry)
        if message.kind == RECEIPT:
            receipt = self.options.templates["weibo_receipt"]
            return comment_text(receipt.format(number=inquiry.number, link=link))
        body = mask_personal(" ".join(message.text.split()))
        if message.kind in ANSWERS:
            return _framed(f"【答复】{inquiry.number}：", body, f" 详见 {link} {RATING_INVITATION}")
        return _framed(f"诉求 {inquiry.number}：", body, f" 详见 {link}")

    def private_text(self, message: OutboxMessage, inquiry: Inquiry) -> str:
        """A private reply carries the full text, as on WeChat, within Weibo's 300 characters."""
        templates = self.options.templates
        if message.kind == RECEIPT:
            text = templates["weibo_receipt"].format(number=inquiry.number, link=self.link(inquiry))
        else:
            text = full_text(templates, message.kind, message.text, inquiry)
        return fit(text, MESSAGE_LIMIT)

    async def attempt(self, message: OutboxMessage, inquiry: Inquiry, now: datetime) -> str | None:
        """:meth:`deliver`, as the outbox drain attempts a message (core.outbox.Attempt)."""
        origin = (
            await InquiryMessage.filter(inquiry_id=inquiry.id, direction="in")
            .order_by("created_at", "id")
            .first()
        )
        try:
            if origin is None:
                raise Undeliverable("no inbound Weibo message to reply to")
            return await self.deliver(message, inquiry, origin, now)
        except Undeliverable as error:
            raise outbox.DeliveryFailed(str(error), retryable=False) from error
        except WeiboApiError as error:
            if error.duplicate:  # 20019: an earlier attempt already posted this very text
                return None
            reason = f"{error.code} {error.message}"
            raise outbox.DeliveryFailed(
                reason, retryable=error.retryable, rate_limited=error.rate_limited
            ) from error

    async def deliver(
        self, message: OutboxMessage, inquiry: Inquiry, origin: InquiryMessage, now: datetime
    ) -> str | None:
        """Send ``message`` where ``origin`` came from; returns the id of the comment when Weibo gives one.

        Raises :class:`WeiboApiError` when Weibo refused it, :class:`Undeliverable` when it cannot go.
        """
        target = mention_target(origin)
        if target is None:
            last_heard = await outbox.last_heard(inquiry.id)  # private replies only: comments have no window
            if last_heard is None or now - last_heard >= WINDOW:
                raise Undeliverable("48-hour reply window closed: the citizen has not written since")
            await self.api.reply_message(message.recipient, self.private_text(message, inquiry))
            return None  # messages/reply answers no message id
        text = self.public_text(message, inquiry)
        if target.comment_id is None:
            sent = await self.api.create_comment(target.status_id, text)
        else:
            sent = await self.api.reply_comment(target.comment_id, target.status_id, text)
        return _sent_id(sent)


def mention_target(origin: InquiryMessage) -> MentionTarget | None:
    """Where a comment goes for an inquiry that began as an @-mention; ``None`` for a private message.

    The target is read again from the stored payload, so a bare repost's comment goes to its original.
    """
    key = origin.dedupe_key or ""
    if not key.startswith((STATUS_KEY, COMMENT_KEY)):
        return None
    try:
        item = json.loads(origin.payload)
        if not isinstance(item, dict):
            raise WeiboRejected(400, "payload is not an object")
        _, target = status_mention(item) if key.startswith(STATUS_KEY) else comment_mention(item)
    except (ValueError, WeiboRejected) as error:
        raise Undeliverable(f"the stored mention cannot be read: {error}") from error
    return target


async def drain(delivery: WeiboDelivery, now: datetime, limit: int = 50) -> int:
    """Attempt every due Weibo message once; returns how many were delivered."""
    return await outbox.drain(Channel.WEIBO, delivery.attempt, now, limit)


def _framed(prefix: str, body: str, suffix: str) -> str:
    """``prefix + body + suffix`` in a comment's 140 characters, only ``body`` shortened."""
    room = COMMENT_LIMIT - len(prefix) - len(suffix)
    if room < 2:
        raise Undeliverable("public_base_url is too long for a 140-character comment")
    try:
        summary = fit(body, room)
    except ValueError:  # the body ends in a link longer than the room: cut it like any text
        summary = body[: room - 1] + "…"
    return prefix + summary + suffix


def _sent_id(answer: Mapping[str, Any]) -> str | None:
    try:
        return item_id(answer)
    except WeiboRejected:
        return None
