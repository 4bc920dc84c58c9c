"""Draining the outbox: claim a due message (:mod:`core.retry`), record how its delivery went, retry
with backoff. Delivery is at-least-once; WeChat's template API deduplicates on ``client_msg_id``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from core import retry
from core.actors import Actor
from core.audit import AuditEvent
from core.models import Inquiry, InquiryMessage, OutboxMessage

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """A channel could not deliver a message: ``reason`` goes to staff; a ``retryable`` failure is
    attempted again later (with backoff), any other at once marks the message failed. ``rate_limited``:
    the platform refuses every call for a while, so the drain's pass ends here rather than spend the
    other messages' attempts on the same refusal."""

    def __init__(self, reason: str, *, retryable: bool, rate_limited: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.rate_limited = rate_limited


Attempt = Callable[[OutboxMessage, Inquiry, datetime], Awaitable[str | None]]
"""A channel's delivery of one message of an inquiry: the platform's id for it (when the platform gives
one, to match later delivery reports), or :class:`DeliveryFailed`."""


async def drain(channel: str, attempt: Attempt, now: datetime, limit: int = 50) -> int:
    """Attempt every due message of ``channel`` once; returns how many were delivered."""
    sent = 0
    for message in await due(channel, now, limit):
        if not await claim(message, now):
            continue  # another process has it
        inquiry = await Inquiry.get(id=message.inquiry_id)  # type: ignore[attr-defined]
        try:
            platform_id = await attempt(message, inquiry, now)
        except DeliveryFailed as failure:
            await failed(message, now, failure.reason, retryable=failure.retryable)
            if failure.rate_limited:
                break
            continue
        except Exception as error:
            # a fault of ours (a template that does not fit, say): the message is tried again with
            # backoff and in the end shown failed to staff, and the messages after it still go out
            log.exception("delivery of outbox message %s failed unexpectedly", message.id)
            await failed(message, now, f"unexpected error: {error!r}", retryable=True)
            continue
        await delivered(message, now, platform_id)
        sent += 1
    return sent


async def last_heard(inquiry_id: int) -> datetime | None:
    """When the citizen last wrote on the inquiry (a platform's reply window runs from then)."""
    latest = (
        await InquiryMessage.filter(inquiry_id=inquiry_id, direction="in")
        .order_by("-created_at", "-id")
        .first()
    )
    return latest.created_at if latest is not None else None


async def due(channel: str, now: datetime, limit: int = 50) -> list[OutboxMessage]:
    return (
        await OutboxMessage.filter(channel=channel, state="pending", next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .limit(limit)
    )


claim = retry.claim


async def delivered(message: OutboxMessage, now: datetime, platform_id: str | None = None) -> None:
    await OutboxMessage.filter(id=message.id).update(
        state="sent", sent_at=now, last_error="", platform_id=platform_id
    )


async def delivery_report(channel: str, platform_id: str, status: str, now: datetime) -> bool:
    """Record the platform's later report on a sent message; a failure goes on the inquiry's timeline.
    Returns False when no sent message has that id (a report for someone else's message, or a repeat)."""
    message = await OutboxMessage.get_or_none(channel=channel, platform_id=platform_id, platform_status="")
    if message is None:
        return False
    await OutboxMessage.filter(id=message.id).update(platform_status=status[:64])
    if status != "success":
        await _failure_event(message, now, f"delivery report: {status}")
    return True


async def failed(message: OutboxMessage, now: datetime, error: str, *, retryable: bool) -> None:
    """Retry later, or give up and leave the failure on the inquiry's timeline for staff."""
    if await retry.failed(message, now, error, retryable=retryable):
        await _failure_event(message, now, error)


async def _failure_event(message: OutboxMessage, now: datetime, error: str) -> None:
    data = {
        "channel": message.channel,
        "kind": message.kind,
        "error": error[:300],
        "attempts": message.attempts,
    }
    inquiry_id = message.inquiry_id  # type: ignore[attr-defined]
    await AuditEvent(inquiry_id, "delivery-failed", Actor.system(), "", "", data, now).model().save()
