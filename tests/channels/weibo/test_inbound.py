"""Fans-service pushes and polled mentions → InboundMessage, from the fixtures and their variations."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from channels.weibo.inbound import (
    MentionTarget,
    comment_mention,
    item_id,
    push_message,
    status_mention,
)
from channels.weibo.security import WeiboRejected, json_object
from core.messages import InboundMessage
from core.vocab import Channel

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "weibo"
PUSHES = (FIXTURES / "fans_push.jsonl").read_text("utf-8").splitlines()
STATUS = json.loads((FIXTURES / "mentions_status.json").read_text("utf-8"))["statuses"][0]
COMMENT = json.loads((FIXTURES / "mentions_comment.json").read_text("utf-8"))["comments"][0]
SENDER = "2489518277"


def parse_push(raw: str) -> InboundMessage | None:
    """A push body read as the callback reads it (channels.weibo.security, then push_message)."""
    return push_message(json_object(raw), raw)


def at(hour: int, minute: int, second: int) -> datetime:
    return datetime(2026, 11, 27, hour, minute, second, tzinfo=UTC)


def push(**fields: Any) -> str:
    base = {
        "receiver_id": 1902538057,
        "sender_id": 2489518277,
        "created_at": "Fri Nov 27 18:09:20 +0800 2026",
    }
    return json.dumps({**base, **fields}, ensure_ascii=False)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            0,
            {
                "kind": "text",
                "text": "我想反映一下供暖不热的问题",
                "platform_id": "1795774160:text:a705f9697f8d",
            },
        ),
        (
            1,
            {
                "kind": "location",
                "latitude": 43.825592,
                "longitude": 87.616848,
                "platform_id": "1795774161:position:36b0bf0eeb7a",
            },
        ),
        (2, {"kind": "event", "event": "follow"}),
        (3, {"kind": "event", "event": "click", "event_key": "MY_CASES"}),
    ],
)
def test_every_fixture_push_parses(line: int, expected: dict[str, Any]) -> None:
    raw = PUSHES[line]
    message = parse_push(raw)
    assert message == InboundMessage(
        channel=Channel.WEIBO, sender=SENDER, sent_at=at(10, 9, 20 + line), raw=raw, **expected
    )


def test_push_dedupe_keys_are_sender_time_and_type_or_event_and_key() -> None:
    keys = [message.dedupe_key for message in map(parse_push, PUSHES) if message]
    assert keys == [
        "weibo:2489518277:1795774160:text:a705f9697f8d",
        "weibo:2489518277:1795774161:position:36b0bf0eeb7a",
        "weibo:2489518277:1795774162:follow:",
        "weibo:2489518277:1795774163:click:MY_CASES",
    ]


def test_a_retried_push_has_the_same_key_and_another_push_in_the_same_second_does_not() -> None:
    text = parse_push(push(type="text", text="a"))
    again = parse_push(push(type="text", text="a"))
    other = parse_push(push(type="text", text="b"))
    image = parse_push(push(type="image", text="图片", data={"vfid": 821804459, "tovfid": 821804469}))
    assert text is not None
    assert again is not None
    assert other is not None
    assert image is not None
    assert text.dedupe_key == again.dedupe_key
    assert len({text.dedupe_key, other.dedupe_key, image.dedupe_key}) == 3


@pytest.mark.parametrize("kind", ["image", "voice"])
def test_media_pushes_keep_their_file_id_in_raw_not_as_media_to_fetch(kind: str) -> None:
    # no API we may call downloads a Weibo file: a media id would be an attachment waiting for ever
    raw = push(type=kind, text="发送了一张图片", data={"vfid": 821804459, "tovfid": 821804469})
    message = parse_push(raw)
    assert message is not None
    assert (message.kind, message.media_id, message.text, message.raw) == (kind, "", "", raw)
    other = parse_push(push(type=kind, text="发送了一张图片", data={"vfid": 821804459, "tovfid": 821804470}))
    assert other is not None
    assert other.dedupe_key != message.dedupe_key  # another file in the same second


@pytest.mark.parametrize("subtype", ["unfollow", "subscribe", "unsubscribe", "view", "SCAN", "scan_follow"])
def test_event_subtypes_come_through_lower_cased(subtype: str) -> None:
    message = parse_push(
        push(type="event", text="事件", data={"subtype": subtype, "key": "K1", "ticket": "T"})
    )
    assert message is not None
    assert (message.kind, message.event, message.event_key) == ("event", subtype.lower(), "K1")


@pytest.mark.parametrize("push_type", ["mention", "articles", "unknown"])
def test_unknown_push_types_are_none(push_type: str) -> None:
    assert parse_push(push(type=push_type, text="x")) is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (push(type="text"), "field text missing or not a string"),
        (push(type="text", text=""), "field text missing or not a string"),
        (push(type="text", text="a", sender_id=2.5e9), "field sender_id missing or not an id"),
        (push(type="text", text="a", sender_id=None), "field sender_id missing or not an id"),
        (push(type="text", text="a", created_at="2026-11-27 18:09:20"), "is not a Weibo time"),
        (push(type="position", data={"latitude": "91", "longitude": "87.6"}), "latitude is not a coordinate"),
        (push(type="position", data={"latitude": "43.8"}), "longitude is not a coordinate"),
        (push(type="image", data={}), "field vfid missing or not an id"),
        (push(type="event", data={"key": "K"}), "field subtype missing or not a string"),
        (push(type="event", data=[]), "push field data is not an object"),
        (push(text="a"), "field type missing or not a string"),
        ("[]", "JSON body is not an object"),
    ],
)
def test_garbled_pushes_are_rejected_with_400(body: str, reason: str) -> None:
    with pytest.raises(WeiboRejected) as caught:
        parse_push(body)
    assert caught.value.status == 400
    assert reason in caught.value.reason


def test_the_fixture_status_mention() -> None:
    message, target = status_mention(STATUS)
    assert message == InboundMessage(
        channel=Channel.WEIBO,
        sender="1404376560",
        kind="text",
        sent_at=at(2, 15, 2),
        raw=message.raw,
        text="@乌鲁木齐网络问政 幸福路小区门口路灯坏了三天了，请尽快处理",
        platform_id="5203311904440001",
        unique_id="status:5203311904440001",
    )
    assert json.loads(message.raw) == STATUS
    assert message.dedupe_key == "weibo:status:5203311904440001"
    assert target == MentionTarget("5203311904440001")


def test_the_fixture_comment_mention() -> None:
    message, target = comment_mention(COMMENT)
    assert (message.sender, message.kind, message.text) == (
        "1404376560",
        "text",
        "@乌鲁木齐网络问政 这个问题还没解决",
    )
    assert message.sent_at == at(3, 20, 25)
    assert (message.platform_id, message.unique_id) == ("5203311904450002", "comment:5203311904450002")
    assert json.loads(message.raw) == COMMENT
    assert target == MentionTarget(status_id="5203311904430000", comment_id="5203311904450002")


def test_ids_beyond_a_double_survive_from_the_page_text() -> None:
    page = '{"statuses":[{"id":9007199254740993,"created_at":"Fri Nov 27 10:15:02 +0800 2026","text":"@x 问",'
    page += '"user":{"id":18446744073709551615}}]}'
    message, target = status_mention(json.loads(page)["statuses"][0])
    assert (message.sender, target.status_id) == ("18446744073709551615", "9007199254740993")
    assert '"id":9007199254740993' in message.raw


def test_ids_fall_back_to_the_integer_when_idstr_is_absent() -> None:
    assert item_id({"id": 11488058246}) == "11488058246"
    assert item_id({"id": 1, "idstr": "11488058246"}) == "11488058246"
    with pytest.raises(WeiboRejected):
        item_id({"id": 1.1488058246e10})


def test_a_status_position_is_latitude_then_longitude() -> None:
    message, _ = status_mention({**STATUS, "geo": {"type": "Point", "coordinates": [43.825592, 87.616848]}})
    assert (message.latitude, message.longitude) == (43.825592, 87.616848)


@pytest.mark.parametrize("geo", [None, {"type": "Point"}, {"coordinates": [43.8]}, {"coordinates": ["x", 1]}])
def test_an_absent_or_garbled_status_position_is_no_position(geo: Any) -> None:
    message, _ = status_mention({**STATUS, "geo": geo})
    assert (message.latitude, message.longitude) == (None, None)


def repost(text: str, original: dict[str, Any] = STATUS) -> dict[str, Any]:
    return {
        "created_at": "Fri Nov 27 12:00:00 +0800 2026",
        "id": 5203311904460003,
        "idstr": "5203311904460003",
        "text": text,
        "user": {"id": 1404376599, "idstr": "1404376599", "screen_name": "转发者"},
        "retweeted_status": original,
    }


@pytest.mark.parametrize(
    "text",
    ["转发微博", "", "  ", "//@天山区居民: @乌鲁木齐网络问政 幸福路小区", "@乌鲁木齐网络问政 ！", "Repost"],
)
def test_a_repost_that_adds_nothing_is_its_original(text: str) -> None:
    item = repost(text)
    message, target = status_mention(item)
    original, _ = status_mention(STATUS)
    assert message.dedupe_key == original.dedupe_key == "weibo:status:5203311904440001"
    assert (message.sender, message.text, message.sent_at) == (
        original.sender,
        original.text,
        original.sent_at,
    )
    assert target == MentionTarget("5203311904440001")
    assert json.loads(message.raw) == item


def test_a_repost_with_words_of_its_own_is_its_own_message() -> None:
    message, target = status_mention(repost("同样的问题，我们小区也是//@天山区居民: 路灯坏了"))
    assert (message.sender, message.unique_id) == ("1404376599", "status:5203311904460003")
    assert message.text == "同样的问题，我们小区也是//@天山区居民: 路灯坏了"
    assert target == MentionTarget("5203311904460003")


def test_a_bare_repost_of_a_deleted_original_stays_the_repost() -> None:
    deleted = {
        "id": 5203311904440001,
        "idstr": "5203311904440001",
        "deleted": "1",
        "text": "此微博已被作者删除。",
    }
    message, _ = status_mention(repost("转发微博", deleted))
    assert (message.unique_id, message.text) == ("status:5203311904460003", "转发微博")


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({**STATUS, "user": None}, "field user missing"),
        ({**STATUS, "text": None}, "field text missing"),
        ({**STATUS, "idstr": "", "id": None}, "field id missing or not an id"),
        ({**STATUS, "created_at": "yesterday"}, "not a Weibo time"),
    ],
)
def test_garbled_statuses_are_rejected(item: dict[str, Any], reason: str) -> None:
    with pytest.raises(WeiboRejected, match=reason):
        status_mention(item)


def test_a_comment_without_its_status_is_rejected() -> None:
    with pytest.raises(WeiboRejected, match="comment without its status"):
        comment_mention({**COMMENT, "status": None})
