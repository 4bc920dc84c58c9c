"""`wenzheng demo`'s citizen phone: its pushes go through the real callback, staff answers come back
through the mounted fake WeChat API, and the rating typed on the phone closes the inquiry."""

from __future__ import annotations

import html
import socket
from pathlib import Path
from typing import Any

import pytest
from web_form import RECEIPT, VALID, read_tokens

from channels.wechat.simulator import MENU_CREATE
from core.models import Inquiry
from core.states import State
from core.vocab import Channel, Rating
from gateway.demo import demo_app, demo_wechat_environ
from gateway.demo_phone import CHAT_PATH, PHONE_PATH, demo_phone_key
from gateway.wechat_outbound import deliver_wechat

ROOT = Path(__file__).resolve().parents[2]
OPENID = "oPhoneTest01"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def demo(settings_with: Any, aiohttp_server: Any, aiohttp_client: Any) -> Any:
    """The demo's wiring on the test database, served on a known port so the outbound worker can reach
    the fake API mounted on the same server; deliveries are run by the test, not the scheduler."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = settings_with(
        WENZHENG_PUBLIC_BASE_URL=base_url,
        WENZHENG_SCHEDULER__ENABLED="false",
        **demo_wechat_environ(base_url),
    )
    server = await aiohttp_server(demo_app(settings), port=port)
    return await aiohttp_client(server)


async def say(demo: Any, action: str, text: str = "", openid: str = OPENID) -> None:
    form = {"openid": openid, "text": text, "action": action}
    response = await demo.post(PHONE_PATH, data=form, allow_redirects=False)
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == f"{PHONE_PATH}?openid={openid}"


async def conversation(demo: Any, openid: str = OPENID) -> str:
    response = await demo.get(CHAT_PATH, params={"openid": openid})
    assert response.status == 200
    body = await response.text()
    assert '<meta http-equiv="refresh" content="5">' in body
    return html.unescape(body)


async def test_a_message_from_the_phone_is_answered_by_staff_and_closed_by_its_rating(
    demo: Any, make_staff: Any, login: Any
) -> None:
    await say(demo, "text", "小区路灯坏了一个月")
    chat = await conversation(demo)
    assert "小区路灯坏了一个月" in chat
    assert "您的诉求已受理。编号：WZ" in chat
    inquiry = await Inquiry.get(channel=Channel.WECHAT, citizen__identities__external_id=OPENID)
    assert f"编号：{inquiry.number}" in chat

    await make_staff("desk1", "desk")
    await make_staff("mzj-h", "handler", "mzj")
    desk, handler = await login("desk1"), await login("mzj-h")
    api = f"/api/v1/inquiries/{inquiry.number}/actions/"
    assert (await demo.post(api + "dispatch", json={}, headers=desk)).status == 200
    assert (await demo.post(api + "acknowledge", headers=handler)).status == 200
    reply = {"text": "路灯已于今日修复。", "resolved": True}
    assert (await demo.post(api + "reply", json=reply, headers=handler)).status == 200
    await deliver_wechat(demo.app)
    assert f"【诉求答复】{inquiry.number}：路灯已于今日修复。" in await conversation(demo)

    await say(demo, "text", "1")
    assert "感谢您的评价，诉求已办结。" in await conversation(demo)
    await inquiry.refresh_from_db()
    assert (inquiry.state, inquiry.rating) == (State.CLOSED, Rating.SATISFIED)


async def test_subscribe_and_the_menu_are_answered_and_the_page_escapes_everything(demo: Any) -> None:
    page = await (await demo.get(PHONE_PATH)).text()
    assert "市民手机（模拟微信）" in page
    assert f"{CHAT_PATH}?openid=oDemoCitizen01" in page
    await say(demo, "subscribe")
    await say(demo, "click:HELP")
    await say(demo, "click:MY_CASES")
    await say(demo, "click:NOT_IN_THE_MENU")
    await say(demo, "text", "<b>路灯</b> ]]> & 坏了")
    response = await demo.get(CHAT_PATH, params={"openid": OPENID})
    raw = await response.text()
    assert "<b>路灯</b>" not in raw
    assert "&lt;b&gt;路灯&lt;/b&gt; ]]&gt; &amp; 坏了" in raw
    chat = html.unescape(raw)
    assert chat.count("您可以发送文字、图片、语音或位置反映问题") == 2  # subscribe and 帮助
    assert "（点击菜单：我的诉求）" in chat
    assert "<b>路灯</b> ]]> & 坏了" in chat
    assert "您的诉求已受理。编号：WZ" in chat


async def test_a_bad_openid_is_refused(demo: Any) -> None:
    response = await demo.get(PHONE_PATH, params={"openid": "<x>"})
    assert response.status == 400


async def test_the_menu_is_pushed_and_its_form_button_opens_the_form_as_the_phones_citizen(demo: Any) -> None:
    page = await (await demo.get(PHONE_PATH, params={"openid": OPENID})).text()
    fake = demo.app[demo_phone_key].fake
    assert len(fake.calls_to(MENU_CREATE)) == 1
    form_link = str(demo.make_url("/channels/wechat/web")) + "?next=/submit"
    assert f'<a class="menu__item" href="{form_link}" target="_blank" rel="noopener">我要问政</a>' in page
    assert (
        '<button class="menu__item" type="submit" name="action" value="click:HELP">使用帮助</button>' in page
    )
    await demo.get(PHONE_PATH, params={"openid": OPENID})
    assert len(fake.calls_to(MENU_CREATE)) == 1  # pushed once

    # the view button, through the fake's authorize page, back to the form as this citizen
    form = await demo.get("/channels/wechat/web?next=/submit")  # redirects go to absolute URLs on the demo
    assert form.url.path == "/submit"
    assert "您是从微信进入的" in await form.text()
    data = {**await read_tokens(demo, "/submit"), **VALID}
    response = await demo.post("/submit", data=data, allow_redirects=False)
    number = RECEIPT.match(response.headers["Location"])[1]  # type: ignore[index]
    inquiry = await Inquiry.get(number=number)
    assert inquiry.channel == Channel.WECHAT
    assert await Inquiry.filter(citizen__identities__external_id=OPENID, number=number).exists()
