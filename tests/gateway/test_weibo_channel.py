"""Weibo in the running gateway, against the local fake API: a mention becomes an inquiry the staff see,
the receipt and the answer go back as comments, a reply rates it; restarts lose and repeat nothing; a
limit shows the channel degraded; the fans-service push is answered in its own format."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from channels.weibo.api import COMMENTS_MENTIONS, STATUSES_MENTIONS
from channels.weibo.security import signature
from channels.weibo.simulator import FakeWeiboApi
from core.models import Inquiry, OutboxMessage
from core.states import State
from core.vocab import Channel, Rating
from gateway.app import create_app
from gateway.weibo_channel import deliver_weibo, weibo_poller_key

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "weibo-gateway-test-token"
SECRET = "weibo-push-secret"


@pytest.fixture
def fake() -> FakeWeiboApi:
    return FakeWeiboApi(access_token=TOKEN)


@pytest.fixture
async def weibo(settings_with: Any, aiohttp_server: Any, aiohttp_client: Any, fake: FakeWeiboApi) -> Any:
    """Starts the gateway with Weibo on (each call a fresh process on the same database)."""
    api = str((await aiohttp_server(fake.app)).make_url("")).rstrip("/")
    settings = settings_with(
        WENZHENG_SCHEDULER__ENABLED="false",
        WENZHENG_CHANNELS__WEIBO__ENABLED="true",
        WENZHENG_CHANNELS__WEIBO__ACCESS_TOKEN=TOKEN,
        WENZHENG_CHANNELS__WEIBO__APP_SECRET=SECRET,
        WENZHENG_CHANNELS__WEIBO__API_BASE=api,
        WENZHENG_CHANNELS__WEIBO__MESSAGES_BASE=api,
        WENZHENG_CHANNELS__WEIBO__POLL_SECONDS="3600",
    )

    async def start() -> Any:
        return await aiohttp_client(create_app(settings))

    return start


async def first_cycle(client: Any) -> None:
    """The poller's first cycle runs as the app starts: wait until it has read both streams."""
    for _ in range(500):
        if client.app[weibo_poller_key].last_cycle_at is not None:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the first poll cycle did not finish")


async def test_a_mention_is_received_answered_in_comments_and_rated_by_a_reply(
    weibo: Any, fake: FakeWeiboApi, make_staff: Any, login: Any
) -> None:
    status = fake.post_mention("zaku", "小区门口路灯坏了三天了，请尽快处理")
    client = await weibo()
    await first_cycle(client)
    desk = await login("desk1") if await make_staff("desk1", "desk") else None
    listed = await (await client.get("/api/v1/inquiries", headers=desk)).json()
    [item] = listed["items"]
    number = item["number"]
    assert item["channel"] == "weibo"

    await deliver_weibo(client.app)
    [receipt] = fake.comments_on(status["idstr"])
    assert number in receipt
    assert len(receipt) <= 140

    await make_staff("mzj-h", "handler", "mzj")
    handler = await login("mzj-h")
    actions = f"/api/v1/inquiries/{number}/actions/"
    assert (await client.post(actions + "dispatch", json={}, headers=desk)).status == 200
    assert (await client.post(actions + "acknowledge", headers=handler)).status == 200
    answer = {"text": "路灯已修复，如仍有问题请拨打 13912345678 联系。", "resolved": True}
    assert (await client.post(actions + "reply", json=answer, headers=handler)).status == 200
    await deliver_weibo(client.app)
    answered = fake.comments_on(status["idstr"])[-1]
    assert answered.startswith(f"【答复】{number}：路灯已修复")
    assert "13912345678" not in answered

    fake.comment_mention("zaku", f"回复@{fake.account_name}:1", status["idstr"])
    await client.app[weibo_poller_key].cycle()
    inquiry = await Inquiry.get(number=number)
    assert (inquiry.state, inquiry.rating) == (State.CLOSED, Rating.SATISFIED)
    assert await Inquiry.all().count() == 1  # the rating opened nothing


async def test_each_mention_is_an_inquiry_answered_where_it_was_posted(
    weibo: Any, fake: FakeWeiboApi
) -> None:
    first = fake.post_mention("zaku", "小区门口路灯坏了")
    second = fake.post_mention("zaku", "另外，楼下的井盖也丢了")  # within the joining window
    client = await weibo()
    await first_cycle(client)
    await deliver_weibo(client.app)
    numbers = [inquiry.number for inquiry in await Inquiry.filter(channel=Channel.WEIBO).order_by("id")]
    assert len(numbers) == 2
    for status, number in zip((first, second), numbers, strict=True):
        [receipt] = fake.comments_on(status["idstr"])
        assert number in receipt


async def test_a_restart_mid_poll_loses_and_repeats_nothing(weibo: Any, fake: FakeWeiboApi) -> None:
    for n in range(3):
        fake.post_mention(f"user{n}", f"第{n}条：道路积水")
    fake.fail(COMMENTS_MENTIONS, 10001)  # the cycle dies after the statuses stream
    first = await weibo()
    for _ in range(500):
        if fake.calls_to(COMMENTS_MENTIONS):
            break
        await asyncio.sleep(0.02)
    assert await Inquiry.all().count() == 3
    await first.close()  # the process goes away mid-way: the comments stream was never read
    fake.comment_mention("user9", "评论里反映：噪音扰民")
    fake.post_mention("user3", "第3条：井盖丢失")

    second = await weibo()
    await first_cycle(second)
    await second.app[weibo_poller_key].cycle()  # and once more: nothing new
    assert await Inquiry.filter(channel=Channel.WEIBO).count() == 5
    assert await OutboxMessage.filter(kind="receipt").count() == 5


async def test_a_rate_limit_shows_the_channel_degraded_then_ok_again(
    weibo: Any, fake: FakeWeiboApi, make_staff: Any, login: Any
) -> None:
    client = await weibo()
    await first_cycle(client)
    assert (await (await client.get("/readyz")).json())["channels"] == {"weibo": "ok"}
    fake.fail(STATUSES_MENTIONS, 10023)
    await client.app[weibo_poller_key].cycle()
    ready = await client.get("/readyz")
    assert ready.status == 200  # the gateway still serves the other channels
    state = (await ready.json())["channels"]["weibo"]
    assert state.startswith("degraded: ")
    assert "10023" in state
    await make_staff("desk1", "desk")
    staff_view = await client.get("/api/v1/channels", headers=await login("desk1"))
    assert (await staff_view.json())["channels"]["weibo"] == state
    await client.app[weibo_poller_key].cycle()
    assert (await (await client.get("/readyz")).json())["channels"] == {"weibo": "ok"}


def signed(secret: str = SECRET, stamp: str | None = None) -> dict[str, str]:
    timestamp = stamp or str(int(time.time() * 1000))
    return {
        "timestamp": timestamp,
        "nonce": "57155157",
        "signature": signature(secret, timestamp, "57155157"),
    }


async def test_the_fans_service_push_files_a_message_once_and_replies_in_its_format(weibo: Any) -> None:
    client = await weibo()
    echo = await client.get("/channels/weibo", params={**signed(), "echostr": "dnPdpTZz85"})
    assert (echo.status, await echo.text()) == (200, "dnPdpTZz85")
    push = {
        "type": "text",
        "receiver_id": 1902538057,
        "sender_id": 2489518277,
        "created_at": "Fri Nov 27 18:09:20 +0800 2026",
        "text": "我想反映一下供暖不热的问题",
        "data": {},
    }
    body = json.dumps(push, ensure_ascii=False).encode()
    answers = [await client.post("/channels/weibo", params=signed(), data=body) for _ in range(3)]
    replies = [json.loads(await answer.text()) for answer in answers]
    assert all(reply == replies[0] for reply in replies)
    reply = replies[0]
    assert (reply["result"], reply["sender_id"], reply["receiver_id"], reply["type"]) == (
        True,
        "1902538057",
        "2489518277",
        "text",
    )
    inquiry = await Inquiry.get(channel=Channel.WEIBO)
    assert f"编号：{inquiry.number}" in json.loads(unquote(reply["data"]))["text"]
    assert await Inquiry.all().count() == 1


@pytest.mark.parametrize(
    ("query", "body", "status"),
    [
        ({"timestamp": "1", "nonce": "1", "signature": "0" * 40}, b"{}", 403),
        ("signed", b"{not json", 400),
        ("signed", b"[1, 2]", 400),
        ("signed", b"{" + b" " * 70_000 + b"}", 413),
        ({}, b"{}", 400),
    ],
)
async def test_hostile_pushes_are_refused_and_nothing_is_stored(
    weibo: Any, query: Any, body: bytes, status: int
) -> None:
    client = await weibo()
    response = await client.post(
        "/channels/weibo", params=signed() if query == "signed" else query, data=body
    )
    assert response.status == status
    assert await Inquiry.all().count() == 0


async def test_the_official_signature_vector_passes_through_the_endpoint(
    settings_with: Any, aiohttp_client: Any
) -> None:
    vector = json.loads((ROOT / "tests" / "fixtures" / "weibo" / "official_vectors.json").read_text("utf-8"))
    verification = vector["url_verification"]
    settings = settings_with(
        WENZHENG_CHANNELS__WEIBO__ENABLED="true",
        WENZHENG_CHANNELS__WEIBO__APP_SECRET=verification["app_secret"],
        WENZHENG_CHANNELS__WEIBO__REPLAY_WINDOW_SECONDS="0",  # the vector dates from 2014
    )
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/channels/weibo", params=verification["query"])
    assert (response.status, await response.text()) == (200, verification["expected_body"])
    forged = {**verification["query"], "nonce": "57155158"}
    assert (await client.get("/channels/weibo", params=forged)).status == 403
