"""Draining the outbox: a delivery that fails in a way no channel foresaw is retried, then given up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core import retry
from core.actors import Actor
from core.intake import IntakeRequest
from core.models import Inquiry, InquiryEvent, OutboxMessage
from core.outbox import drain
from core.service import InquiryService
from core.vocab import Channel, Kind

pytestmark = pytest.mark.usefixtures("db")

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


async def queued(inquiry: Inquiry, text: str) -> OutboxMessage:
    return await OutboxMessage.create(
        inquiry=inquiry,
        channel="wechat",
        recipient="oA",
        kind="reply",
        text=text,
        next_attempt_at=NOW,
        created_at=NOW,
    )


async def test_an_unforeseen_error_neither_stops_the_others_nor_retries_for_ever(
    service: InquiryService, caplog: pytest.LogCaptureFixture
) -> None:
    request = IntakeRequest(channel=Channel.WEB, kind=Kind.COMPLAINT, category="qita", content="路灯不亮")
    inquiry = await service.intake(request, Actor.citizen())
    broken, fine = await queued(inquiry, "{unfilled}"), await queued(inquiry, "已安排维修")

    async def attempt(message: OutboxMessage, _: Inquiry, __: datetime) -> str:
        return message.text.format()  # KeyError for the broken one

    assert await drain("wechat", attempt, NOW) == 1
    assert (await OutboxMessage.get(id=fine.id)).state == "sent"
    row = await OutboxMessage.get(id=broken.id)
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.last_error == "unexpected error: KeyError('unfilled')"
    assert "delivery of outbox message" in caplog.text
    later = NOW
    for _ in range(retry.MAX_ATTEMPTS - 1):
        later += timedelta(days=1)
        assert await drain("wechat", attempt, later) == 0
    row = await OutboxMessage.get(id=broken.id)
    assert (row.state, row.attempts) == ("failed", retry.MAX_ATTEMPTS)
    assert await InquiryEvent.filter(inquiry_id=inquiry.id, action="delivery-failed").count() == 1
