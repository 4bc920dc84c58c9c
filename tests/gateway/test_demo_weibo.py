"""`wenzheng demo`'s Weibo page on its own: the statuses it posts are mentions the fake API serves, the
comments the gateway writes through that API show under them, and replies are comment mentions."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from channels.weibo.api import COMMENTS_CREATE, COMMENTS_MENTIONS, STATUSES_MENTIONS
from channels.weibo.simulator import FakeWeiboApi
from gateway.demo_weibo import (
    API_PREFIX,
    PAGE_PATH,
    REPLY_PATH,
    TIMELINE_PATH,
    demo_weibo_environ,
    setup_demo_weibo,
)
from gateway.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]

TOKEN = "demo-weibo-token"
USER = "热心市民小李"


@pytest.fixture
def fake() -> FakeWeiboApi:
    return FakeWeiboApi(access_token=TOKEN)


@pytest.fixture
async def page(fake: FakeWeiboApi, aiohttp_client: Any) -> Any:
    app = web.Application()
    setup_demo_weibo(app, fake)
    return await aiohttp_client(app)


async def post(page: Any, path: str, **form: str) -> Any:
    return await page.post(path, data=form, allow_redirects=False)


async def timeline(page: Any) -> str:
    response = await page.get(TIMELINE_PATH, params={"user": USER})
    assert response.status == 200
    assert "script-src" not in response.headers["Content-Security-Policy"]
    body = await response.text()
    assert '<meta http-equiv="refresh" content="5">' in body
    return body


async def gateway_comments(page: Any, status_id: str, text: str) -> None:
    """What the gateway's delivery does: comments/create through the mounted API with the token."""
    form = {"access_token": TOKEN, "id": status_id, "comment": text}
    response = await page.post(API_PREFIX + COMMENTS_CREATE, data=form)
    assert response.status == 200, await response.text()


def test_the_environment_points_the_gateway_at_the_mounted_fake(tmp_path: Path) -> None:
    environ = demo_weibo_environ("http://127.0.0.1:8080")
    weibo = load_settings(
        ROOT / "config.yaml", {"WENZHENG_DATA_DIR": str(tmp_path), **environ}
    ).channels.weibo
    assert weibo.enabled
    assert weibo.api_base == weibo.messages_base == "http://127.0.0.1:8080" + API_PREFIX
    assert weibo.account_uid.isdigit()
    assert (weibo.poll_seconds, weibo.delivery_seconds) == (5, 2)
    assert (
        environ["WENZHENG_CHANNELS__WEIBO__ACCESS_TOKEN"]
        != demo_weibo_environ("x")["WENZHENG_CHANNELS__WEIBO__ACCESS_TOKEN"]
    )


async def test_the_form_is_prefilled_with_the_mention(page: Any, fake: FakeWeiboApi) -> None:
    response = await page.get(PAGE_PATH)
    assert response.status == 200
    body = html.unescape(await response.text())
    assert f"以网友身份 @{fake.account_name} 发微博" in body
    assert f">@{fake.account_name} </textarea>" in body
    assert "<script" not in body


async def test_a_posted_mention_is_served_to_the_poller_and_shown(page: Any, fake: FakeWeiboApi) -> None:
    response = await post(page, PAGE_PATH, user=USER, text=f"@{fake.account_name} 小区路灯坏了一个月")
    assert response.status == 303
    assert response.headers["Location"].startswith(PAGE_PATH + "?user=")

    [status] = fake.statuses.values()
    assert status["text"] == f"@{fake.account_name} 小区路灯坏了一个月"  # the prefilled @ is not doubled
    assert status["user"]["screen_name"] == USER
    served = await page.get(API_PREFIX + STATUSES_MENTIONS, params={"access_token": TOKEN})
    assert [s["idstr"] for s in (await served.json())["statuses"]] == [status["idstr"]]
    shown = html.unescape(await timeline(page))
    assert USER in shown
    assert "小区路灯坏了一个月" in shown


async def test_the_timeline_is_newest_first_with_the_gateways_comment_and_a_reply_link(
    page: Any, fake: FakeWeiboApi
) -> None:
    first = fake.post_mention(USER, "第一条")
    fake.post_mention(USER, "第二条")
    fake.post_status(USER, "没有提到政务号的微博")
    await gateway_comments(page, first["idstr"], "您反映的问题已受理，编号 WZ20261127001")

    shown = html.unescape(await timeline(page))
    assert shown.index("第二条") < shown.index("第一条")
    assert "没有提到政务号的微博" not in shown
    assert shown.index("第一条") < shown.index("编号 WZ20261127001")
    assert f"reply={first['idstr']}" in shown

    form = html.unescape(
        await (await page.get(PAGE_PATH, params={"user": USER, "reply": first["idstr"]})).text()
    )
    assert f'name="status_id" value="{first["idstr"]}"' in form
    assert "编号 WZ20261127001" in form


async def test_a_reply_is_a_comment_mention_under_the_status(page: Any, fake: FakeWeiboApi) -> None:
    status = fake.post_mention(USER, "路灯坏了")
    await gateway_comments(page, status["idstr"], "【答复】已修复 回复1满意 2基本满意 3不满意")

    response = await post(page, REPLY_PATH, user=USER, status_id=status["idstr"], text="1")
    assert response.status == 303

    served = await page.get(API_PREFIX + COMMENTS_MENTIONS, params={"access_token": TOKEN})
    [mention] = (await served.json())["comments"]
    assert mention["status"]["idstr"] == status["idstr"]
    assert mention["user"]["screen_name"] == USER
    assert mention["text"] == f"@{fake.account_name} 1"
    shown = html.unescape(await timeline(page))
    assert shown.index("【答复】已修复") < shown.index(f"@{fake.account_name} 1")


async def test_everything_users_write_is_escaped(page: Any, fake: FakeWeiboApi) -> None:
    status = fake.post_mention(USER, "<script>alert(1)</script>")
    await gateway_comments(page, status["idstr"], '<img src=x onerror="alert(2)">')
    body = await timeline(page)
    assert "<script>" not in body
    assert "<img" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;img src=x" in body


@pytest.mark.parametrize(
    ("path", "form", "reason"),
    [
        (PAGE_PATH, {"user": "坏<名字>", "text": "路灯坏了"}, "用户名"),
        (PAGE_PATH, {"user": "a" * 31, "text": "路灯坏了"}, "用户名"),
        (PAGE_PATH, {"user": USER, "text": "   "}, "内容"),
        (PAGE_PATH, {"user": USER, "text": "长" * 141}, "内容"),
        (PAGE_PATH, {"user": USER, "text": "@乌鲁木齐网络问政 "}, "内容"),
        (REPLY_PATH, {"user": USER, "status_id": "123", "text": "1"}, "微博不存在"),
        (REPLY_PATH, {"user": USER, "status_id": "abc", "text": "1"}, "微博不存在"),
    ],
)
async def test_bad_input_is_refused_with_a_reason(
    page: Any, fake: FakeWeiboApi, path: str, form: dict[str, str], reason: str
) -> None:
    response = await post(page, path, **form)
    assert response.status == 400
    assert reason in await response.text()
    assert not fake.statuses
    assert not fake.comments


async def test_a_bad_reply_target_in_the_page_query_is_refused(page: Any) -> None:
    response = await page.get(PAGE_PATH, params={"reply": "9"})
    assert response.status == 400
