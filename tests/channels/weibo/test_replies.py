"""Comments capped at 140 characters with the link kept; the passive reply against the official vector."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from channels.weibo.replies import COMMENT_LIMIT, comment_text, fit, message_data, passive_reply

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures/weibo/official_vectors.json").read_text()
)
LINK = "https://wz.example.gov.cn/t/WZ20261127-00042"


def test_message_data_reproduces_the_official_vector() -> None:
    vector = VECTORS["passive_reply_text"]
    assert message_data(vector["text"]) == vector["expected_data_field"]


def test_the_passive_reply_swaps_the_ids_and_carries_the_encoded_text() -> None:
    body = json.loads(passive_reply("1902538057", "2489518277", "中文消息"))
    assert body == {
        "result": True,
        "sender_id": "1902538057",
        "receiver_id": "2489518277",
        "type": "text",
        "data": VECTORS["passive_reply_text"]["expected_data_field"],
    }


def test_a_long_passive_reply_is_cut_below_300_characters() -> None:
    body = json.loads(passive_reply("1", "2", "长" * 400))
    text = json.loads(unquote(body["data"]))["text"]
    assert (len(text), text[-1]) == (299, "…")


def test_a_short_comment_is_left_alone() -> None:
    receipt = f"您反映的问题已受理，编号 WZ20261127-00042，进度请见 {LINK}"
    assert comment_text(receipt) == receipt


def test_a_comment_of_exactly_140_chinese_characters_fits() -> None:
    assert comment_text("问" * 140) == "问" * 140


def test_a_long_comment_is_cut_with_an_ellipsis() -> None:
    assert comment_text("问" * 141) == "问" * 139 + "…"


def test_a_long_comment_keeps_its_trailing_link_whole() -> None:
    summary = "您反映的幸福路小区路灯问题" * 20
    text = comment_text(f"{summary} {LINK}")
    room = COMMENT_LIMIT - len(LINK) - 2
    assert text == f"{summary[:room]}… {LINK}"
    assert len(text) == COMMENT_LIMIT


def test_a_link_that_leaves_no_room_is_an_error() -> None:
    with pytest.raises(ValueError, match="no room"):
        fit("问" * 50 + " https://example.org/" + "x" * 40, 50)
