"""The WeChat callback through the real HTTP endpoint: official vectors, receipts, retries, hostile input."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from channels.wechat.security import CallbackSecurity, WeChatKeys, parse_fields
from core.models import Inquiry, InquiryEvent, InquiryMessage, OutboxMessage
from gateway.app import create_app

ROOT = Path(__file__).resolve().parents[3]
VECTORS = json.loads((ROOT / "tests" / "fixtures" / "wechat" / "official_vectors.json").read_text("utf-8"))
SAFE = VECTORS["safe_mode_message"]
PLAIN_TOKEN = "plain-token"


def sign(token: str, timestamp: str, nonce: str, *more: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, *more])).encode()).hexdigest()


def plain_push(sender: str, body: str, msg_type: str = "text", msg_id: str = "1001") -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_city]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>1795752817</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{body}"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


async def post_plain(client: Any, xml: str | bytes, token: str = SAFE["token"]) -> Any:
    query = {"timestamp": "1795752817", "nonce": "42", "signature": sign(token, "1795752817", "42")}
    return await client.post("/channels/wechat", params=query, data=xml)


def content_of(reply: str) -> str:
    found = re.search(r"<Content><!\[CDATA\[(.*)\]\]></Content>", reply, re.S)
    assert found, reply
    return found[1]


async def test_official_url_verification_vector(settings_with: Any, aiohttp_client: Any) -> None:
    vector = VECTORS["url_verification"]
    settings = settings_with(
        WENZHENG_CHANNELS__WECHAT__ENABLED="true",
        WENZHENG_CHANNELS__WECHAT__TOKEN=vector["token"],
        WENZHENG_CHANNELS__WECHAT__APP_ID="wx0000000000000000",
        WENZHENG_CHANNELS__WECHAT__REPLAY_WINDOW_SECONDS="0",
    )
    client = await aiohttp_client(create_app(settings))
    response = await client.get("/channels/wechat", params=vector["query"])
    assert (response.status, await response.text()) == (200, vector["expected_body"])
    bad = dict(vector["query"], signature="0" * 40)
    assert (await client.get("/channels/wechat", params=bad)).status == 403


async def test_official_safe_mode_vector_gets_an_encrypted_receipt(wechat: Any) -> None:
    query = dict(
        SAFE["query"], signature=sign(SAFE["token"], SAFE["query"]["timestamp"], SAFE["query"]["nonce"])
    )
    response = await wechat.post("/channels/wechat", params=query, data=SAFE["body"])
    assert response.status == 200
    sealed = await response.text()
    fields = parse_fields(sealed)
    keys = WeChatKeys(token=SAFE["token"], app_id=SAFE["app_id"], encoding_aes_key=SAFE["encoding_aes_key"],
                      replay_window_seconds=0)  # fmt: skip
    reply_query = {
        "timestamp": fields["TimeStamp"],
        "nonce": fields["Nonce"],
        "signature": sign(SAFE["token"], fields["TimeStamp"], fields["Nonce"]),
        "encrypt_type": "aes",
        "msg_signature": fields["MsgSignature"],
    }
    reply = CallbackSecurity(keys).open(reply_query, sealed.encode()).xml
    inquiry = await Inquiry.get(content="abcdteT")
    assert parse_fields(reply)["ToUserName"] == "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
    assert parse_fields(reply)["FromUserName"] == "gh_10f6c3c3ac5a"
    text = content_of(reply)
    assert text.startswith(f"您的诉求已受理。编号：{inquiry.number}，查询码：{inquiry.query_code}。")
    assert f"/cases/{inquiry.number}?code={inquiry.query_code}" in text
    message = await InquiryMessage.get(inquiry_id=inquiry.id)
    assert message.payload == SAFE["expected_decrypted"]
    assert message.dedupe_key == "wechat:oyORnuP8q7ou2gfYjqLzSIWZf0rs:6054768590064713728"


async def test_retries_store_once_and_answer_the_same(wechat: Any) -> None:
    push = plain_push("oCitizen", "<Content><![CDATA[供暖不热]]></Content>")
    first = content_of(await (await post_plain(wechat, push)).text())
    again = await asyncio.gather(*(post_plain(wechat, push) for _ in range(3)))
    assert {content_of(await r.text()) for r in again} == {first}
    assert await Inquiry.all().count() == 1
    assert await InquiryMessage.all().count() == 1


async def test_a_follow_up_joins_and_says_so_on_every_delivery(wechat: Any) -> None:
    await post_plain(wechat, plain_push("oCitizen", "<Content><![CDATA[供暖不热]]></Content>", msg_id="1"))
    photo = plain_push(
        "oCitizen", "<PicUrl><![CDATA[http://x]]></PicUrl><MediaId><![CDATA[m]]></MediaId>", "image", "2"
    )
    number = (await Inquiry.first()).number  # type: ignore[union-attr]
    assert content_of(await (await post_plain(wechat, photo)).text()) == f"已补充到诉求 {number}。"
    retries = await asyncio.gather(*(post_plain(wechat, photo) for _ in range(2)))
    assert {content_of(await r.text()) for r in retries} == {f"已补充到诉求 {number}。"}
    assert await Inquiry.all().count() == 1
    assert await InquiryMessage.all().count() == 2


async def test_a_message_the_intake_refuses_is_answered_with_the_reason_and_not_stored(wechat: Any) -> None:
    push = plain_push("oCitizen", f"<Content><![CDATA[{'长' * 5001}]]></Content>")
    response = await post_plain(wechat, push)
    assert (response.status, content_of(await response.text())) == (200, "诉求内容不能超过 5000 字")
    assert not await InquiryMessage.exists()


async def test_subscribe_is_welcomed_and_other_events_get_success(wechat: Any) -> None:
    event = (
        "<xml><ToUserName><![CDATA[gh_city]]></ToUserName><FromUserName><![CDATA[oNew]]></FromUserName>"
        "<CreateTime>1795752817</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{0}]]></Event>"
        "<EventKey><![CDATA[K]]></EventKey></xml>"
    )
    welcome = content_of(await (await post_plain(wechat, event.format("subscribe"))).text())
    assert "查询" in welcome
    assert "/submit" in welcome
    click = await post_plain(wechat, event.format("CLICK"))
    assert (click.status, await click.text()) == (200, "success")
    assert await Inquiry.all().count() == 0


@pytest.mark.parametrize(
    ("body", "token", "status"),
    [
        (plain_push("o1", "<Content>x</Content>"), "wrong-token", 403),
        (
            '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Content>&a;</Content></xml>',
            None,
            400,
        ),
        ("<xml><Content>unclosed", None, 400),
        ("x" * (64 * 1024 + 1), None, 413),
    ],
)
async def test_hostile_pushes_are_refused_and_nothing_is_stored(
    wechat: Any, body: str, token: str | None, status: int
) -> None:
    response = await post_plain(wechat, body, token or SAFE["token"])
    assert response.status == status
    assert await Inquiry.all().count() == 0
    assert (await wechat.get("/healthz")).status == 200


async def test_a_template_job_report_is_recorded_on_the_sent_message(wechat: Any) -> None:
    inquiry_push = plain_push("oCitizen", "<Content><![CDATA[供暖不热]]></Content>")
    await post_plain(wechat, inquiry_push)
    inquiry = await Inquiry.get()
    await OutboxMessage.create(
        inquiry=inquiry, channel="wechat", recipient="oCitizen", kind="reply", text="已处理", state="sent",
        platform_id="200163836", next_attempt_at=inquiry.created_at, created_at=inquiry.created_at,
    )  # fmt: skip
    report = (
        "<xml><ToUserName><![CDATA[gh_city]]></ToUserName><FromUserName><![CDATA[oCitizen]]></FromUserName>"
        "<CreateTime>1795752900</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>200163836</MsgID>"
        "<Status><![CDATA[failed:user block]]></Status></xml>"
    )
    response = await post_plain(wechat, report)
    assert (response.status, await response.text()) == (200, "success")
    assert (await OutboxMessage.get()).platform_status == "failed:user block"
    assert await InquiryEvent.filter(inquiry_id=inquiry.id, action="delivery-failed").count() == 1
