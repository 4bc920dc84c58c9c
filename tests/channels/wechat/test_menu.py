"""The custom menu from config as WeChat's menu/create body, and every rule WeChat would refuse it by."""

from __future__ import annotations

import pytest

from channels.wechat.menu import MenuButton, MenuError, menu_body

LINKS = {
    "form": "https://wz.example.gov.cn/channels/wechat/web?next=/submit",
    "site": "https://wz.example.gov.cn",
}


def click(name: str = "我的诉求", key: str = "MY_CASES") -> MenuButton:
    return MenuButton(name=name, type="click", key=key)


def view(name: str = "我要问政", url: str = "{form}") -> MenuButton:
    return MenuButton(name=name, type="view", url=url)


def test_buttons_groups_and_placeholders_become_wechats_body() -> None:
    guide = view("办事指南", "{site}/guide")
    body = menu_body(
        [view(), click(), MenuButton(name="服务", sub_buttons=(guide, click("帮助", "HELP")))], LINKS
    )
    assert body == {
        "button": [
            {"type": "view", "name": "我要问政", "url": LINKS["form"]},
            {"type": "click", "name": "我的诉求", "key": "MY_CASES"},
            {
                "name": "服务",
                "sub_button": [
                    {"type": "view", "name": "办事指南", "url": "https://wz.example.gov.cn/guide"},
                    {"type": "click", "name": "帮助", "key": "HELP"},
                ],
            },
        ]
    }


@pytest.mark.parametrize(
    ("buttons", "reason"),
    [
        ([], "1 to 3 buttons, not 0"),
        ([click()] * 4, "1 to 3 buttons, not 4"),
        ([click("我要反映城市问题")], "'我要反映城市问题': the name needs 1 to 16 bytes"),
        ([click(" ")], "the name needs 1 to 16 bytes"),
        ([MenuButton(name="服务", sub_buttons=(click(),) * 6)], "at most 5 sub-buttons"),
        (
            [MenuButton(name="服务", type="click", key="K", sub_buttons=(click(),))],
            "a group has sub-buttons only",
        ),
        (
            [MenuButton(name="服务", sub_buttons=(MenuButton(name="子", sub_buttons=(click(),)),))],
            "only top-level buttons hold sub-buttons",
        ),
        ([click(key="")], "a click button has a key of 1 to 128 bytes"),
        ([click(key="K" * 129)], "a click button has a key of 1 to 128 bytes"),
        ([view(url="ftp://example.org/")], "a view button has an http(s) url"),
        ([view(url="https://x.example/" + "a" * 1024)], "at most 1024 bytes"),
        ([view(url="{home}")], "unknown placeholder {home} in url"),
        ([view(url="{form")], "'我要问政': "),
        ([MenuButton(name="扫一扫", type="scancode_push", key="SCAN")], "type is click or view"),
    ],
)
def test_a_menu_wechat_would_refuse_is_refused_naming_the_button(
    buttons: list[MenuButton], reason: str
) -> None:
    with pytest.raises(MenuError) as refused:
        menu_body(buttons, LINKS)
    assert reason in str(refused.value)


def test_sub_buttons_may_have_longer_names() -> None:
    body = menu_body([MenuButton(name="服务", sub_buttons=(click("查询我提交过的诉求"),))], LINKS)
    assert body["button"][0]["sub_button"][0]["name"] == "查询我提交过的诉求"
