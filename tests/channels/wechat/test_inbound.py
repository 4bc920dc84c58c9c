"""Push XML → InboundMessage for every sample in messages.xml, and the dedupe keys that follow."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from channels.wechat.inbound import parse
from channels.wechat.security import WeChatRejected
from core.messages import InboundMessage
from core.vocab import Channel

SAMPLES = [
    line
    for line in (Path(__file__).resolve().parents[2] / "fixtures/wechat/messages.xml")
    .read_text("utf-8")
    .splitlines()
    if line.startswith("<xml>")
]


def at(second: int) -> datetime:
    """CreateTime 1795752800 + second."""
    return datetime(2026, 11, 27, 4, 13, 20 + second, tzinfo=UTC)


W = Channel.WECHAT
# In samples order; raw is left empty here and compared with the sample line itself.
EXPECTED = [
    (
        "text",
        InboundMessage(
            W,
            "oCitizen0001",
            "text",
            at(0),
            "",
            text="幸福路小区门口的路灯坏了三天了，晚上很不安全，请尽快修理。",
            platform_id="24000000000000001",
        ),
    ),
    (
        "image",
        InboundMessage(
            W, "oCitizen0001", "image", at(1), "", media_id="media_id_0001", platform_id="24000000000000002"
        ),
    ),
    (
        "voice",
        InboundMessage(
            W,
            "oCitizen0002",
            "voice",
            at(2),
            "",
            text="我想咨询一下社保卡怎么补办",
            media_id="media_id_0002",
            platform_id="24000000000000003",
        ),
    ),
    (
        "video",
        InboundMessage(
            W, "oCitizen0002", "video", at(3), "", media_id="media_id_0003", platform_id="24000000000000004"
        ),
    ),
    (
        "location",
        InboundMessage(
            W,
            "oCitizen0001",
            "location",
            at(4),
            "",
            text="新疆乌鲁木齐市天山区",
            latitude=43.825592,
            longitude=87.616848,
            platform_id="24000000000000005",
        ),
    ),
    (
        "link",
        InboundMessage(
            W,
            "oCitizen0003",
            "link",
            at(5),
            "",
            text="关于小区停车的问题\nhttp://example.org/a",
            platform_id="24000000000000006",
        ),
    ),
    ("subscribe", InboundMessage(W, "oCitizen0004", "event", at(6), "", event="subscribe")),
    (
        "subscribe-qrscene",
        InboundMessage(W, "oCitizen0004", "event", at(7), "", event="subscribe", event_key="qrscene_123123"),
    ),
    ("unsubscribe", InboundMessage(W, "oCitizen0004", "event", at(8), "", event="unsubscribe")),
    ("click", InboundMessage(W, "oCitizen0001", "event", at(9), "", event="click", event_key="MY_CASES")),
    (
        "location-event",
        InboundMessage(
            W, "oCitizen0001", "event", at(10), "", event="location", latitude=43.825592, longitude=87.616848
        ),
    ),
    (
        "view",
        InboundMessage(
            W, "oCitizen0001", "event", at(11), "", event="view", event_key="https://wz.example.gov.cn/track"
        ),
    ),
    (
        "template-finished",
        InboundMessage(
            W,
            "oCitizen0001",
            "event",
            at(12),
            "",
            event="templatesendjobfinish",
            event_key="success",
            platform_id="200163836",
        ),
    ),
    (
        "subscribe-msg-popup",
        InboundMessage(W, "oCitizen0001", "event", at(13), "", event="subscribe_msg_popup_event"),
    ),
]


def test_every_sample_has_an_expectation() -> None:
    assert len(SAMPLES) == len(EXPECTED)


@pytest.mark.parametrize(
    ("xml", "expected"),
    [(xml, expected) for xml, (_, expected) in zip(SAMPLES, EXPECTED, strict=True)],
    ids=[name for name, _ in EXPECTED],
)
def test_each_sample_parses_to_its_message(xml: str, expected: InboundMessage) -> None:
    assert parse(xml) == replace(expected, raw=xml)


def push(fields: str, *, sender: str = "oCitizen0001", created: str = "1795752800") -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_wenzheng]]></ToUserName><FromUserName><![CDATA[{sender}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime>{fields}</xml>"
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            "<MsgType>shortvideo</MsgType><MediaId>m1</MediaId><ThumbMediaId>t1</ThumbMediaId><MsgId>7</MsgId>",
            {"kind": "shortvideo", "media_id": "m1", "platform_id": "7"},
        ),
        (
            "<MsgType>voice</MsgType><MediaId>m2</MediaId><Format>amr</Format><MsgId>8</MsgId>",
            {"kind": "voice", "media_id": "m2", "platform_id": "8"},
        ),
        (
            "<MsgType>event</MsgType><Event>SCAN</Event><EventKey>SCENE_VALUE</EventKey><Ticket>T</Ticket>",
            {"kind": "event", "event": "scan", "event_key": "SCENE_VALUE"},
        ),
        (
            "<MsgType>event</MsgType><Event>subscribe_msg_change_event</Event><SubscribeMsgChangeEvent>"
            "<List><TemplateId>TPL</TemplateId><SubscribeStatusString>reject</SubscribeStatusString></List>"
            "</SubscribeMsgChangeEvent>",
            {"kind": "event", "event": "subscribe_msg_change_event"},
        ),
        (
            "<MsgType>event</MsgType><Event>subscribe_msg_sent_event</Event><SubscribeMsgSentEvent><List>"
            "<TemplateId>TPL</TemplateId><MsgID>1</MsgID><ErrorCode>0</ErrorCode></List></SubscribeMsgSentEvent>",
            {"kind": "event", "event": "subscribe_msg_sent_event"},
        ),
        (
            "<MsgType>location</MsgType><Location_X>-33.5</Location_X><Location_Y>-70</Location_Y>"
            "<Scale>15</Scale><MsgId>9</MsgId>",
            {"kind": "location", "latitude": -33.5, "longitude": -70.0, "platform_id": "9"},
        ),
    ],
    ids=[
        "shortvideo",
        "voice-unrecognised",
        "scan",
        "subscribe-msg-change",
        "subscribe-msg-sent",
        "no-label",
    ],
)
def test_types_not_in_the_samples_parse_too(fields: str, expected: dict[str, Any]) -> None:
    xml = push(fields)
    message = InboundMessage(Channel.WECHAT, "oCitizen0001", sent_at=at(0), raw=xml, **expected)
    assert parse(xml) == message


@pytest.mark.parametrize("kind", ["news", "miniprogrampage", "file", "TEXT"])
def test_an_unknown_type_gives_none(kind: str) -> None:
    assert parse(push(f"<MsgType>{kind}</MsgType><MsgId>1</MsgId>")) is None


@pytest.mark.parametrize(
    "xml",
    [
        push("<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId>", created="yesterday"),
        push("<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId>", created="１７９５７５２８００"),
        push("<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId>", created="99999999999999999999"),
        push("<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId>", sender=""),
        push("<MsgType>text</MsgType><Content>hi</Content><MsgId>abc</MsgId>"),
        push("<MsgType>text</MsgType><Content>hi</Content>"),
        push("<MsgType>text</MsgType><MsgId>1</MsgId>"),
        push("<Content>hi</Content><MsgId>1</MsgId>"),
        push("<MsgType>image</MsgType><PicUrl>u</PicUrl><MsgId>1</MsgId>"),
        push(
            "<MsgType>location</MsgType><Location_X>nan</Location_X><Location_Y>1</Location_Y><MsgId>1</MsgId>"
        ),
        push(
            "<MsgType>location</MsgType><Location_X>91</Location_X><Location_Y>1</Location_Y><MsgId>1</MsgId>"
        ),
        push("<MsgType>location</MsgType><Location_X>1</Location_X><MsgId>1</MsgId>"),
        push("<MsgType>link</MsgType><Title>t</Title><MsgId>1</MsgId>"),
        push("<MsgType>event</MsgType>"),
        push(
            "<MsgType>event</MsgType><Event>LOCATION</Event><Latitude>1e3</Latitude><Longitude>1</Longitude>"
        ),
        push("<MsgType>event</MsgType><Event>TEMPLATESENDJOBFINISH</Event><Status>success</Status>"),
        "<xml><MsgType>text</MsgType>",
        '<!DOCTYPE xml [<!ENTITY a "b">]><xml><MsgType>text</MsgType></xml>',
    ],
    ids=[
        *("created-word", "created-fullwidth", "created-huge", "no-sender", "msgid-word", "no-msgid"),
        *("no-content", "no-type", "no-media", "latitude-nan", "latitude-91", "no-longitude", "no-url"),
        *("no-event", "event-latitude-exponent", "template-no-msgid", "malformed", "doctype"),
    ],
)
def test_missing_or_garbled_fields_are_bad_requests(xml: str) -> None:
    with pytest.raises(WeChatRejected) as caught:
        parse(xml)
    assert caught.value.status == 400


def test_a_retried_message_keeps_its_key_and_message_ids_are_per_sender() -> None:
    assert dedupe_key(SAMPLES[0]) == dedupe_key(SAMPLES[0]) == "wechat:oCitizen0001:24000000000000001"
    other = SAMPLES[0].replace("oCitizen0001", "oCitizen0009")
    assert "<MsgId>24000000000000001</MsgId>" in other
    assert dedupe_key(other) == "wechat:oCitizen0009:24000000000000001"


def test_events_are_keyed_on_sender_time_event_and_key() -> None:
    click = push("<MsgType>event</MsgType><Event>CLICK</Event><EventKey>MY_CASES</EventKey>")
    assert dedupe_key(click) == dedupe_key(click) == "wechat:oCitizen0001:1795752800:click:MY_CASES"
    variants = [
        click,
        click.replace("MY_CASES", "GUIDE"),
        click.replace("1795752800", "1795752801"),
        click.replace("oCitizen0001", "oCitizen0002"),
        click.replace("CLICK", "VIEW"),
    ]
    assert len({dedupe_key(xml) for xml in variants}) == len(variants)
    template = "wechat:oCitizen0001:1795752812:templatesendjobfinish:success"
    assert dedupe_key(SAMPLES[12]) == template


def dedupe_key(xml: str) -> str:
    message = parse(xml)
    assert message is not None
    return message.dedupe_key
