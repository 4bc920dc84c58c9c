"""Passive text replies: well-formed whatever the content."""

from __future__ import annotations

import pytest

from channels.wechat.replies import SUCCESS, text_reply
from channels.wechat.security import parse_fields


def test_a_text_reply_has_the_documented_fields() -> None:
    reply = text_reply("oCitizen0001", "gh_wenzheng", "您好，已收到", 1795752817)
    assert parse_fields(reply) == {
        "ToUserName": "oCitizen0001",
        "FromUserName": "gh_wenzheng",
        "CreateTime": "1795752817",
        "MsgType": "text",
        "Content": "您好，已收到",
    }
    assert SUCCESS == "success"


@pytest.mark.parametrize(
    "content",
    [
        "a]]>b",
        "]]>",
        "]]]]>",
        "<xml>&amp;</xml>",
        "<![CDATA[x]]>",
        "line\nbreak\ttab",
        "]]><MsgType>news</MsgType>",
    ],
)
def test_content_cannot_break_out_of_its_cdata(content: str) -> None:
    fields = parse_fields(text_reply("o1", "gh_1", content, 1))
    assert fields["Content"] == content
    assert fields["MsgType"] == "text"


def test_characters_xml_cannot_carry_are_dropped() -> None:
    fields = parse_fields(text_reply("o1", "gh_1", "a\x00b\x08c\x1b[0m\ud800d\ufffee😀", 1))
    assert fields["Content"] == "abc[0mde😀"


def test_user_ids_are_escaped_too() -> None:
    fields = parse_fields(text_reply("o]]>1", "gh]]>", "x", 1))
    assert (fields["ToUserName"], fields["FromUserName"]) == ("o]]>1", "gh]]>")
