"""Messages from chat channels: a new inquiry, joining the open one within the window, repeats stored once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.actors import Actor
from core.errors import Forbidden, InvalidInput
from core.intake import IntakeRequest
from core.messages import InboundMessage
from core.models import Inquiry, InquiryEvent, InquiryMessage, OutboxMessage
from core.service import InquiryService, Reception
from core.states import State
from core.vocab import Channel, Kind

pytestmark = pytest.mark.usefixtures("db")

START = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def svc(service: InquiryService, clock: FakeClock) -> InquiryService:
    return InquiryService(service.rules, service.deadlines, clock=clock)


def message(msg_id: str, sender: str = "oUser1", **fields: object) -> InboundMessage:
    values: dict[str, object] = {
        "channel": Channel.WECHAT,
        "sender": sender,
        "kind": "text",
        "sent_at": START,
        "raw": f"<xml><MsgId>{msg_id}</MsgId></xml>",
        "text": "小区路灯坏了",
        "platform_id": msg_id,
    }
    return InboundMessage(**(values | fields))  # type: ignore[arg-type]


async def receive(svc: InquiryService, msg: InboundMessage) -> Reception:
    return await svc.receive(msg, kind=Kind.COMPLAINT, category="qita")


async def test_a_first_message_opens_an_inquiry_for_the_citizens_identity(svc: InquiryService) -> None:
    got = await receive(svc, message("1"))
    assert (got.joined, got.repeated) == (False, False)
    inquiry = await Inquiry.get(id=got.inquiry.id).prefetch_related("citizen__identities")
    assert (inquiry.channel, inquiry.content, inquiry.state) == (
        Channel.WECHAT,
        "小区路灯坏了",
        State.RECEIVED,
    )
    assert [(i.channel, i.external_id) for i in inquiry.citizen.identities] == [(Channel.WECHAT, "oUser1")]
    stored = await InquiryMessage.get(inquiry_id=inquiry.id)
    assert (stored.dedupe_key, stored.payload) == ("wechat:oUser1:1", "<xml><MsgId>1</MsgId></xml>")


async def test_messages_within_the_window_join_and_later_ones_open_a_new_inquiry(
    svc: InquiryService, clock: FakeClock
) -> None:
    first = (await receive(svc, message("1"))).inquiry
    clock.now += timedelta(minutes=9)
    photo = await receive(svc, message("2", kind="image", text="", media_id="m1"))
    clock.now += timedelta(minutes=9)  # 18 minutes after the first, 9 after the photo: still joins
    place = await receive(
        svc, message("3", kind="location", text="天山区人民路", latitude=43.8, longitude=87.6)
    )
    assert (photo.joined, place.joined) == (True, True)
    assert photo.inquiry.id == place.inquiry.id == first.id
    joined = await Inquiry.get(id=first.id)
    assert (joined.latitude, joined.longitude, joined.location) == (43.8, 87.6, "天山区人民路")
    kinds = await InquiryMessage.filter(inquiry_id=first.id).order_by("id").values_list("kind", flat=True)
    assert kinds == ["text", "image", "location"]
    events = await InquiryEvent.filter(inquiry_id=first.id).order_by("id").values_list("action", flat=True)
    assert events == ["intake", "supplement", "supplement"]
    clock.now += timedelta(minutes=11)
    later = await receive(svc, message("4"))
    assert not later.joined
    assert later.inquiry.id != first.id


@pytest.mark.parametrize("screened_by", ["this process", "another process"])
async def test_a_screened_inquiry_is_not_joined(
    svc: InquiryService, clock: FakeClock, make_staff: Any, screened_by: str
) -> None:
    # another process: this one remembers the inquiry as still waiting, at the version it filed
    desk_service = (
        svc if screened_by == "this process" else InquiryService(svc.rules, svc.deadlines, clock=clock)
    )
    first = (await receive(svc, message("1"))).inquiry
    desk = Actor.of_staff(await make_staff("desk", "desk"))
    await desk_service.act(first.number, "dispatch", desk, {"unit": "cgj"})
    second = await receive(svc, message("2"))
    assert not second.joined
    assert second.inquiry.id != first.id
    assert (await Inquiry.get(id=first.id)).state == State.DISPATCHED


async def test_a_process_that_remembers_an_inquiry_another_process_joined_reads_it_again(
    svc: InquiryService, clock: FakeClock
) -> None:
    other_process = InquiryService(svc.rules, svc.deadlines, clock=clock)
    first = (await receive(svc, message("1"))).inquiry
    assert (await receive(other_process, message("2"))).joined  # moves the version svc remembers
    third = await receive(svc, message("3"))
    assert third.joined
    assert third.inquiry.id == first.id
    assert await Inquiry.filter(citizen_id=first.citizen_id).count() == 1  # type: ignore[attr-defined]
    assert (await Inquiry.get(id=first.id)).version == first.version + 2


async def test_another_citizen_never_joins(svc: InquiryService) -> None:
    first = (await receive(svc, message("1"))).inquiry
    other = await receive(svc, message("1", sender="oUser2"))  # the same MsgId from someone else
    assert (other.joined, other.repeated) == (False, False)
    assert other.inquiry.id != first.id


async def test_wechat_retries_store_a_message_once(svc: InquiryService, clock: FakeClock) -> None:
    first = await receive(svc, message("1"))
    again = await receive(svc, message("1"))
    assert (again.repeated, again.joined, again.inquiry.id) == (True, False, first.inquiry.id)
    clock.now += timedelta(minutes=1)
    together = await asyncio.gather(*(receive(svc, message("2", kind="image", text="")) for _ in range(3)))
    assert {r.inquiry.id for r in together} == {first.inquiry.id}
    # each delivery of the message that joined is told so, as the first was (in the same batch or later)
    assert [(r.joined, r.repeated) for r in together] == [(True, False), (True, True), (True, True)]
    later = await receive(InquiryService(svc.rules, svc.deadlines, clock=clock), message("2", kind="image"))
    assert (later.joined, later.repeated) == (True, True)
    assert await InquiryMessage.filter(dedupe_key="wechat:oUser1:2").count() == 1
    assert await Inquiry.all().count() == 1


@pytest.mark.parametrize(
    ("fields", "content"),
    [
        ({"kind": "image", "text": ""}, "[图片]"),
        ({"kind": "voice", "text": "我要反映噪音"}, "我要反映噪音"),
        ({"kind": "voice", "text": ""}, "[语音]"),
        ({"kind": "location", "text": "", "latitude": 1.0, "longitude": 2.0}, "[位置]"),
    ],
)
async def test_what_a_media_message_opens_with(svc: InquiryService, fields: dict, content: str) -> None:
    got = await receive(svc, message("9", **fields))
    assert got.inquiry.content == content


async def test_an_answer_to_a_chat_citizen_is_queued_with_the_state_change(
    svc: InquiryService, make_staff: Any
) -> None:
    inquiry = (await receive(svc, message("1"))).inquiry
    desk = Actor.of_staff(await make_staff("desk", "desk"))
    handler = Actor.of_staff(await make_staff("mzj-h", "handler", "mzj"))
    await svc.act(inquiry.number, "dispatch", desk, {})
    await svc.act(inquiry.number, "acknowledge", handler, {})
    await svc.act(inquiry.number, "reply", handler, {"text": "路灯已修复。", "resolved": True})
    queued = await OutboxMessage.filter(inquiry_id=inquiry.id).values_list(
        "recipient", "kind", "text", "state"
    )
    assert queued == [("oUser1", "reply", "路灯已修复。", "pending")]


async def test_web_inquiries_queue_nothing_and_a_refused_action_queues_nothing(
    svc: InquiryService, make_staff: Any
) -> None:
    desk = Actor.of_staff(await make_staff("desk", "desk"))
    web = await svc.intake(
        IntakeRequest(channel=Channel.WEB, kind=Kind.HELP, category="qita", content="求助"), Actor.citizen()
    )
    await svc.act(web.number, "reject", desk, {"reason": "重复"})
    chat = (await receive(svc, message("1"))).inquiry
    with pytest.raises(InvalidInput):
        await svc.act(chat.number, "reject", desk, {"reason": ""})
    assert await OutboxMessage.all().count() == 0
    await svc.act(chat.number, "reject", desk, {"reason": "非本市事项"})
    assert await OutboxMessage.all().values_list("kind", flat=True) == ["reject"]


async def test_a_mention_owes_one_receipt_however_often_it_arrives(svc: InquiryService) -> None:
    """A Weibo mention cannot be answered at once: its receipt is queued with the inquiry, once."""
    mention = message("4890", sender="1404376560", channel=Channel.WEIBO, unique_id="status:4890")
    together = await asyncio.gather(
        *(svc.receive(mention, kind=Kind.COMPLAINT, category="qita", owe_receipt=True) for _ in range(3))
    )
    again = await svc.receive(mention, kind=Kind.COMPLAINT, category="qita", owe_receipt=True)
    inquiry_id = again.inquiry.id
    assert {r.inquiry.id for r in together} == {inquiry_id}
    owed = await OutboxMessage.filter(inquiry_id=inquiry_id).values_list(
        "channel", "recipient", "kind", "text"
    )
    assert owed == [(Channel.WEIBO, "1404376560", "receipt", "")]

    joined = await svc.receive(
        message("4891", sender="1404376560", channel=Channel.WEIBO, unique_id="status:4891"),
        kind=Kind.COMPLAINT,
        category="qita",
        owe_receipt=True,
    )
    assert (joined.joined, joined.inquiry.id) == (True, inquiry_id)
    assert await OutboxMessage.all().count() == 1  # joining is not a new inquiry: nothing more owed
    await receive(svc, message("77"))
    assert await OutboxMessage.all().count() == 1  # WeChat answers at once, in the passive reply


async def test_a_message_joins_only_through_reception_never_as_a_bare_action(svc: InquiryService) -> None:
    """act() would store the join without the message itself: it refuses, receive() is the one path."""
    got = await receive(svc, message("1"))
    with pytest.raises(Forbidden):
        await svc.act(got.inquiry.number, "supplement", Actor.citizen(), {"message": message("2")})
    assert await InquiryMessage.filter(inquiry_id=got.inquiry.id).count() == 1
