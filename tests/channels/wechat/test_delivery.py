"""Draining the outbox to WeChat through the fake API: window, template fallback, retries, failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from channels.wechat.api import WeChatApi
from channels.wechat.delivery import DeliveryOptions, WeChatDelivery, drain
from channels.wechat.simulator import FakeWeChatApi
from core import outbox
from core.actors import Actor
from core.messages import InboundMessage
from core.models import InquiryEvent, OutboxMessage
from core.service import InquiryService
from core.vocab import Channel, Kind

pytestmark = pytest.mark.usefixtures("db")

APP_ID, SECRET = "wxdelivery0000000", "secret"
START = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
TEMPLATES = {
    "answer": "【诉求答复】{number}：{answer} ——{signature}。请评价：回复 1 满意，2 基本满意，3 不满意。"
}


@pytest.fixture
def fake() -> FakeWeChatApi:
    return FakeWeChatApi(app_id=APP_ID, app_secret=SECRET)


@pytest.fixture
async def delivery(fake: FakeWeChatApi, aiohttp_server: Any) -> AsyncIterator[WeChatDelivery]:
    server = await aiohttp_server(fake.app)
    async with aiohttp.ClientSession() as session:
        api = WeChatApi(session, APP_ID, SECRET, api_base=str(server.make_url("")))
        options = DeliveryOptions("https://wz.example.gov.cn", TEMPLATES, {"notice": "TPL_NOTICE"})
        yield WeChatDelivery(api, options)


async def answered(service: InquiryService, make_staff: Any) -> str:
    """A WeChat citizen's inquiry, answered by the unit, with the answer queued."""
    svc = InquiryService(service.rules, service.deadlines, clock=lambda: START)
    message = InboundMessage(
        channel=Channel.WECHAT, sender="oCitizen", kind="text", sent_at=START, raw="<xml/>", text="路灯坏了",
        platform_id="1",
    )  # fmt: skip
    number = (await svc.receive(message, kind=Kind.COMPLAINT, category="qita")).inquiry.number
    desk = Actor.of_staff(await make_staff("desk", "desk"))
    handler = Actor.of_staff(await make_staff("mzj-h", "handler", "mzj"))
    await svc.act(number, "dispatch", desk, {})
    await svc.act(number, "acknowledge", handler, {})
    await svc.act(number, "reply", handler, {"text": "已修复。", "resolved": True})
    return number


async def test_inside_the_window_the_answer_goes_as_a_customer_service_message(
    service: InquiryService, make_staff: Any, delivery: WeChatDelivery, fake: FakeWeChatApi
) -> None:
    number = await answered(service, make_staff)
    assert await drain(delivery, START + timedelta(hours=1)) == 1
    [sent] = fake.sent["oCitizen"]
    assert sent["msgtype"] == "text"
    assert sent["text"]["content"] == (
        f"【诉求答复】{number}：已修复。 ——市民政局 网络发言人。请评价：回复 1 满意，2 基本满意，3 不满意。"
    )
    assert await OutboxMessage.all().values_list("state", flat=True) == ["sent"]
    assert await drain(delivery, START + timedelta(hours=2)) == 0  # sent once


async def test_after_48_hours_a_template_links_to_the_case_page(
    service: InquiryService, make_staff: Any, delivery: WeChatDelivery, fake: FakeWeChatApi
) -> None:
    number = await answered(service, make_staff)
    queued = await OutboxMessage.get()
    assert await drain(delivery, START + timedelta(hours=49)) == 1
    [sent] = fake.sent["oCitizen"]
    assert sent["template_id"] == "TPL_NOTICE"
    assert sent["client_msg_id"] == f"wz-outbox-{queued.id}"
    assert sent["url"].startswith(f"https://wz.example.gov.cn/cases/{number}?code=")
    assert sent["data"]["keyword1"] == {"value": number}


async def test_a_closed_window_falls_back_to_the_template(
    service: InquiryService, make_staff: Any, delivery: WeChatDelivery, fake: FakeWeChatApi
) -> None:
    await answered(service, make_staff)
    fake.fail("/cgi-bin/message/custom/send", 45015)
    assert await drain(delivery, START + timedelta(hours=1)) == 1
    assert [m.get("msgtype", "template") for m in fake.sent["oCitizen"]] == ["template"]


async def test_outside_the_window_without_a_notice_template_the_failure_says_so(
    service: InquiryService, make_staff: Any, delivery: WeChatDelivery, fake: FakeWeChatApi
) -> None:
    await answered(service, make_staff)
    untemplated = WeChatDelivery(delivery.api, DeliveryOptions("https://wz.example.gov.cn", TEMPLATES, {}))
    assert await drain(untemplated, START + timedelta(hours=49)) == 0
    queued = await OutboxMessage.get()
    assert (queued.state, queued.last_error) == (
        "failed",
        "48 小时客服消息窗口已过，且未配置通知模板（channels.wechat.template_ids.notice）",
    )
    assert not fake.sent["oCitizen"]


async def test_a_used_up_quota_ends_the_pass(
    service: InquiryService, make_staff: Any, delivery: WeChatDelivery, fake: FakeWeChatApi
) -> None:
    await answered(service, make_staff)
    first = await OutboxMessage.get()
    await OutboxMessage.create(
        inquiry_id=first.inquiry_id,  # type: ignore[attr-defined]
        channel="wechat",
        recipient="oCitizen",
        kind="reply",
        text="补充答复",
        next_attempt_at=START,
        created_at=START,
    )
    fake.fail("/cgi-bin/message/custom/send", 45011, times=2)
    assert await drain(delivery, START + timedelta(hours=1)) == 0
    assert len(fake.calls_to("/cgi-bin/message/custom/send")) == 1
    assert await OutboxMessage.all().order_by("id").values_list("attempts", flat=True) == [1, 0]


async def test_busy_is_retried_with_backoff_and_a_permanent_error_shows_on_the_timeline(
    service: InquiryService, make_staff: Any, delivery: WeChatDelivery, fake: FakeWeChatApi
) -> None:
    await answered(service, make_staff)
    now = START + timedelta(hours=1)
    fake.fail("/cgi-bin/message/custom/send", -1)
    assert await drain(delivery, now) == 0
    waiting = await OutboxMessage.get()
    assert (waiting.state, waiting.attempts, waiting.next_attempt_at) == (
        "pending",
        1,
        now + timedelta(seconds=30),
    )
    assert await drain(delivery, now + timedelta(seconds=10)) == 0  # not due yet
    fake.fail("/cgi-bin/message/custom/send", 43004)  # the citizen unfollowed: no use retrying
    fake.fail("/cgi-bin/message/template/send", 43004)
    assert await drain(delivery, now + timedelta(seconds=31)) == 0
    gone = await OutboxMessage.get()
    assert (gone.state, gone.attempts) == ("failed", 2)
    event = await InquiryEvent.get(action="delivery-failed")
    assert event.data["error"].startswith("43004")


async def test_a_message_claimed_by_another_process_is_left_alone(
    service: InquiryService, make_staff: Any, delivery: WeChatDelivery, fake: FakeWeChatApi
) -> None:
    await answered(service, make_staff)
    now = START + timedelta(hours=1)
    [mine] = await outbox.due(Channel.WECHAT, now)
    [theirs] = await outbox.due(Channel.WECHAT, now)
    assert await outbox.claim(theirs, now)
    assert not await outbox.claim(mine, now)
    assert await drain(delivery, now) == 0  # leased: due again only after the lease
    assert fake.sent == {}


async def test_a_template_delivery_report_is_recorded_and_a_failure_shows(
    service: InquiryService, make_staff: Any, delivery: WeChatDelivery, fake: FakeWeChatApi
) -> None:
    await answered(service, make_staff)
    assert await drain(delivery, START + timedelta(hours=49)) == 1  # a template: WeChat reports later
    sent = await OutboxMessage.get()
    assert sent.platform_id is not None
    now = START + timedelta(hours=50)
    assert await outbox.delivery_report(Channel.WECHAT, sent.platform_id, "failed:user block", now)
    assert (await OutboxMessage.get()).platform_status == "failed:user block"
    event = await InquiryEvent.get(action="delivery-failed")
    assert event.data["error"] == "delivery report: failed:user block"
    assert not await outbox.delivery_report(Channel.WECHAT, sent.platform_id, "success", now)  # a repeat
    assert not await outbox.delivery_report(Channel.WECHAT, "999", "success", now)
