"""Draining the outbox to Weibo through the fake API: comments, replies, private replies, errors."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from channels.weibo.api import COMMENTS_CREATE, COMMENTS_REPLY, MESSAGES_REPLY, WeiboApi
from channels.weibo.delivery import WeiboDelivery, WeiboDeliveryOptions, drain
from channels.weibo.inbound import comment_mention, push_message, status_mention
from channels.weibo.simulator import FakeWeiboApi
from core import outbox, retry
from core.actors import Actor
from core.messages import InboundMessage
from core.models import Inquiry, InquiryEvent, OutboxMessage
from core.service import InquiryService
from core.vocab import Channel, Kind
from gateway.settings import Settings

from .conftest import TOKEN

pytestmark = pytest.mark.usefixtures("db")

START = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
BASE = "https://wz.example.gov.cn"
CITIZEN_UID = "2489518277"
SOON = START + timedelta(hours=1)


@pytest.fixture
def fake() -> FakeWeiboApi:
    return FakeWeiboApi(access_token=TOKEN, clock=lambda: START)


@pytest.fixture
def delivery(api: WeiboApi, settings: Settings) -> WeiboDelivery:
    return WeiboDelivery(api, WeiboDeliveryOptions(BASE, settings.templates))


@pytest.fixture
def core(service: InquiryService) -> InquiryService:
    return InquiryService(service.rules, service.deadlines, clock=lambda: START)


async def received(core: InquiryService, message: InboundMessage) -> Inquiry:
    return (await core.receive(message, kind=Kind.COMPLAINT, category="qita")).inquiry


async def receipt(inquiry: Inquiry, recipient: str) -> None:
    """The receipt row the Weibo intake writes."""
    await OutboxMessage.create(
        inquiry_id=inquiry.id, channel="weibo", recipient=recipient, kind="receipt", text="",
        next_attempt_at=START, created_at=START,
    )  # fmt: skip


async def answer(core: InquiryService, make_staff: Any, number: str, text: str) -> None:
    desk = Actor.of_staff(await make_staff("desk", "desk"))
    handler = Actor.of_staff(await make_staff("mzj-h", "handler", "mzj"))
    await core.act(number, "dispatch", desk, {})
    await core.act(number, "acknowledge", handler, {})
    await core.act(number, "reply", handler, {"text": text, "resolved": True})


def link(inquiry: Inquiry) -> str:
    return f"{BASE}/cases/{inquiry.number}?code={inquiry.query_code}"


async def status_inquiry(core: InquiryService, fake: FakeWeiboApi) -> tuple[Inquiry, str]:
    """An inquiry begun by an @-mention in a status; returns it and the status id."""
    status = fake.post_mention("市民甲", "小区门口路灯坏了三天了")
    message, _ = status_mention(status)
    return await received(core, message), status["idstr"]


async def private_inquiry(core: InquiryService) -> Inquiry:
    push = {
        "type": "text", "receiver_id": 7000000001, "sender_id": int(CITIZEN_UID),
        "created_at": "Fri Nov 27 11:00:00 +0800 2026", "text": "我想反映一下供暖不热的问题", "data": {},
    }  # fmt: skip
    message = push_message(push, json.dumps(push, ensure_ascii=False))
    assert message is not None
    return await received(core, message)


async def test_a_receipt_is_commented_on_the_mentioning_status(
    core: InquiryService, fake: FakeWeiboApi, delivery: WeiboDelivery
) -> None:
    inquiry, status_id = await status_inquiry(core, fake)
    await receipt(inquiry, "1404376560")
    assert await drain(delivery, START) == 1
    [comment] = fake.comments_on(status_id)
    assert comment == f"您反映的问题已受理，编号 {inquiry.number}，进度请见 {link(inquiry)}"
    sent = await OutboxMessage.get()
    assert sent.state == "sent"
    assert sent.platform_id is not None
    assert fake.comments[int(sent.platform_id)]["text"] == comment
    assert await drain(delivery, SOON) == 0  # sent once


async def test_a_comment_mention_is_answered_by_a_reply_to_that_comment(
    core: InquiryService, fake: FakeWeiboApi, delivery: WeiboDelivery
) -> None:
    status = fake.post_status("市民丙", "今天的路况真差")
    item = fake.comment_mention("市民乙", "这条路的井盖丢了", status["idstr"])
    message, _ = comment_mention(item)
    inquiry = await received(core, message)
    await receipt(inquiry, message.sender)
    assert await drain(delivery, START) == 1
    [call] = fake.calls_to(COMMENTS_REPLY)
    assert (call.form["cid"], call.form["id"]) == (item["idstr"], status["idstr"])
    assert fake.comments_on(status["idstr"]) == [
        f"回复@市民乙:您反映的问题已受理，编号 {inquiry.number}，进度请见 {link(inquiry)}"
    ]
    assert fake.calls_to(COMMENTS_CREATE) == []


async def test_a_public_answer_is_masked_short_and_keeps_its_link(
    core: InquiryService, fake: FakeWeiboApi, delivery: WeiboDelivery, make_staff: Any
) -> None:
    inquiry, status_id = await status_inquiry(core, fake)
    text = "经核查，路灯线路老化，已于今日更换。如仍有问题请联系维修班组张师傅13812345678或0991-4567890。" * 3
    await answer(core, make_staff, inquiry.number, text)
    assert await drain(delivery, SOON) == 1
    [comment] = fake.comments_on(status_id)
    assert len(comment) <= 140
    assert comment.startswith(f"【答复】{inquiry.number}：经核查，路灯线路老化")
    assert comment.endswith(f"… 详见 {link(inquiry)} 回复1满意 2基本满意 3不满意")
    assert "13812345678" not in comment
    assert "***" in comment


async def test_other_notices_are_masked_in_public(
    core: InquiryService, fake: FakeWeiboApi, delivery: WeiboDelivery, make_staff: Any
) -> None:
    inquiry, status_id = await status_inquiry(core, fake)
    desk = Actor.of_staff(await make_staff("desk", "desk"))
    await core.act(inquiry.number, "reject", desk, {"reason": "请拨打 13912345678 咨询"})
    assert await drain(delivery, SOON) == 1
    assert fake.comments_on(status_id) == [
        f"诉求 {inquiry.number}：您的诉求不予受理。理由：请拨打 *** 咨询 详见 {link(inquiry)}"
    ]


async def test_a_private_message_is_answered_in_full_within_48_hours(
    core: InquiryService, fake: FakeWeiboApi, delivery: WeiboDelivery, make_staff: Any
) -> None:
    inquiry = await private_inquiry(core)
    await receipt(inquiry, CITIZEN_UID)
    await answer(core, make_staff, inquiry.number, "已修复，联系电话13812345678。")
    assert await drain(delivery, SOON) == 2
    assert fake.messages_to(CITIZEN_UID) == [
        f"您反映的问题已受理，编号 {inquiry.number}，进度请见 {link(inquiry)}",
        f"【诉求答复】{inquiry.number}：已修复，联系电话13812345678。 ——市民政局 网络发言人。"
        "请评价：回复 1 满意，2 基本满意，3 不满意。",
    ]
    assert fake.comments == {}


async def test_a_private_message_after_48_hours_fails_for_good(
    core: InquiryService, fake: FakeWeiboApi, delivery: WeiboDelivery, make_staff: Any
) -> None:
    inquiry = await private_inquiry(core)
    await answer(core, make_staff, inquiry.number, "已修复。")
    assert await drain(delivery, START + timedelta(hours=49)) == 0
    failed = await OutboxMessage.get()
    assert (failed.state, failed.attempts) == ("failed", 1)
    assert failed.last_error.startswith("48-hour reply window closed")
    event = await InquiryEvent.get(action="delivery-failed")
    assert event.data["error"] == failed.last_error
    assert fake.calls_to(MESSAGES_REPLY) == []


async def test_a_repeated_text_counts_as_delivered(
    core: InquiryService, fake: FakeWeiboApi, delivery: WeiboDelivery
) -> None:
    inquiry, _ = await status_inquiry(core, fake)
    await receipt(inquiry, "1404376560")
    fake.fail(COMMENTS_CREATE, 20019)
    assert await drain(delivery, START) == 1
    sent = await OutboxMessage.get()
    assert (sent.state, sent.platform_id) == ("sent", None)


async def test_a_rate_limit_is_retried_later(
    core: InquiryService, fake: FakeWeiboApi, delivery: WeiboDelivery
) -> None:
    inquiry, status_id = await status_inquiry(core, fake)
    await receipt(inquiry, "1404376560")
    fake.fail(COMMENTS_CREATE, 10022)
    assert await drain(delivery, START) == 0
    waiting = await OutboxMessage.get()
    assert (waiting.state, waiting.attempts, waiting.next_attempt_at) == (
        "pending",
        1,
        START + timedelta(seconds=30),
    )
    assert waiting.last_error == "10022 IP requests out of rate limit"
    assert await drain(delivery, START + timedelta(seconds=10)) == 0  # not due yet
    assert await drain(delivery, START + timedelta(seconds=31)) == 1
    assert len(fake.comments_on(status_id)) == 1


async def test_a_rate_limit_ends_the_pass_without_spending_the_other_messages_attempts(
    core: InquiryService, fake: FakeWeiboApi, delivery: WeiboDelivery
) -> None:
    for _ in range(2):
        inquiry, _ = await status_inquiry(core, fake)
        await receipt(inquiry, "1404376560")
    fake.fail(COMMENTS_CREATE, 10023, times=2)
    assert await drain(delivery, START) == 0
    assert len(fake.calls_to(COMMENTS_CREATE)) == 1
    assert await OutboxMessage.all().order_by("id").values_list("attempts", flat=True) == [1, 0]


async def test_a_permission_error_fails_at_once_and_shows_on_the_timeline(
    core: InquiryService, fake: FakeWeiboApi, delivery: WeiboDelivery
) -> None:
    inquiry, _ = await status_inquiry(core, fake)
    await receipt(inquiry, "1404376560")
    fake.fail(COMMENTS_CREATE, 21327)
    assert await drain(delivery, START) == 0
    failed = await OutboxMessage.get()
    assert (failed.state, failed.attempts, failed.last_error) == ("failed", 1, "21327 Expired token")
    event = await InquiryEvent.get(action="delivery-failed")
    assert event.data["error"] == "21327 Expired token"


async def test_a_busy_server_is_retried_until_the_budget_is_spent(
    core: InquiryService, fake: FakeWeiboApi, delivery: WeiboDelivery
) -> None:
    inquiry, _ = await status_inquiry(core, fake)
    await receipt(inquiry, "1404376560")
    fake.fail(COMMENTS_CREATE, 10001, times=retry.MAX_ATTEMPTS)
    now = START
    for _ in range(retry.MAX_ATTEMPTS):
        assert await drain(delivery, now) == 0
        now += timedelta(hours=2)  # past any backoff
    failed = await OutboxMessage.get()
    assert (failed.state, failed.attempts) == ("failed", retry.MAX_ATTEMPTS)
    assert await InquiryEvent.filter(action="delivery-failed").count() == 1


async def test_racing_drains_send_once(
    core: InquiryService, fake: FakeWeiboApi, delivery: WeiboDelivery
) -> None:
    inquiry, status_id = await status_inquiry(core, fake)
    await receipt(inquiry, "1404376560")
    assert sorted(await asyncio.gather(drain(delivery, START), drain(delivery, START))) == [0, 1]
    assert len(fake.comments_on(status_id)) == 1
    assert len(fake.calls_to(COMMENTS_CREATE)) == 1


async def test_a_message_claimed_by_another_process_is_left_alone(
    core: InquiryService, fake: FakeWeiboApi, delivery: WeiboDelivery
) -> None:
    inquiry, _ = await status_inquiry(core, fake)
    await receipt(inquiry, "1404376560")
    [theirs] = await outbox.due(Channel.WEIBO, START)
    assert await outbox.claim(theirs, START)
    assert await drain(delivery, START) == 0  # leased: due again only after the lease
    assert fake.calls_to(COMMENTS_CREATE) == []
