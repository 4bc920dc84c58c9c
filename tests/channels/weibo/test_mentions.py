import pytest

from channels.weibo.mentions import spoken_text


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("回复@乌鲁木齐网络问政:1", "1"),
        ("@乌鲁木齐网络问政 回复@乌鲁木齐网络问政：满意", "满意"),
        ("@乌鲁木齐网络问政 小区门口路灯坏了 @朋友 你看", "小区门口路灯坏了  你看"),
        ("回复 :3", "3"),
    ],
)
def test_what_the_citizen_said_without_the_reply_prefix_and_mentions(text: str, spoken: str) -> None:
    assert spoken_text(text) == spoken
