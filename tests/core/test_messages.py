from datetime import UTC, datetime

from core.messages import InboundMessage
from core.vocab import Channel

SENT = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


def message(**fields: str) -> InboundMessage:
    base = {"channel": Channel.WECHAT, "sender": "o1", "kind": "text", "sent_at": SENT, "raw": "<xml/>"}
    return InboundMessage(**{**base, **fields})


def test_a_message_is_keyed_on_sender_and_message_id() -> None:
    assert message(platform_id="1001").dedupe_key == "wechat:o1:1001"
    assert message(platform_id="1001", sender="o2").dedupe_key != message(platform_id="1001").dedupe_key


def test_an_event_is_keyed_on_sender_time_event_and_key() -> None:
    event = message(kind="event", event="click", event_key="MY_CASES", platform_id="ignored")
    assert event.dedupe_key == f"wechat:o1:{int(SENT.timestamp())}:click:MY_CASES"


def test_a_platform_wide_id_names_the_message_whoever_sends_it() -> None:
    first = message(channel=Channel.WEIBO, sender="u1", unique_id="status:4890", platform_id="4891")
    repost = message(channel=Channel.WEIBO, sender="u2", unique_id="status:4890", platform_id="4892")
    assert first.dedupe_key == repost.dedupe_key == "weibo:status:4890"
