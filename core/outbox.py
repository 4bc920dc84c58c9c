"""Draining the outbox: claim a due message (:mod:`core.retry`), record how its delivery went, retry
with backoff. Delivery is at-least-once; WeChat's template API deduplicates on ``client_msg_id``."""

from __future__ import annotations

from datetime import datetime

from core import retry
from core.actors import Actor
from core.audit import AuditEvent
from core.models import OutboxMessage


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
    if not retry.gives_up(message, retryable=retryable):
        await OutboxMessage.filter(id=message.id).update(
            next_attempt_at=now + retry.backoff(message.attempts), last_error=error[:300]
        )
        return
    await OutboxMessage.filter(id=message.id).update(state="failed", last_error=error[:300])
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
