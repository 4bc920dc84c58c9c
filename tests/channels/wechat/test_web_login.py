"""Web-page authorisation: the form opened from the menu knows the citizen's openid, the inquiry is
theirs on WeChat and its answer comes back in WeChat; every way the round trip can go wrong is refused."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from web_form import RECEIPT, VALID, read_tokens
from yarl import URL

from channels.wechat.simulator import OAUTH_TOKEN, USER_COOKIE, FakeWeChatApi
from channels.wechat.web_login import ENTRY_PATH, IDENTITY_COOKIE, RETURN_PATH, STATE_COOKIE
from core.actors import Actor
from core.models import CitizenIdentity, Inquiry, OutboxMessage
from core.vocab import Channel
from gateway.wechat_outbound import deliver_wechat

OPENID = "oWebFormCitizen"


async def start(phone: Any, target: str = "/submit") -> URL:
    """The menu's view button: returns where the gateway sends the browser (WeChat's authorize page)."""
    response = await phone.client.get(ENTRY_PATH, params={"next": target}, allow_redirects=False)
    assert response.status == 302, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    return URL(response.headers["Location"])


async def authorize(location: URL, openid: str = OPENID) -> dict[str, str]:
    """WeChat's authorize page (the fake), opened by the citizen's WeChat browser: the query it sends the
    browser back to the gateway with."""
    async with (
        aiohttp.ClientSession(cookies={USER_COOKIE: openid}) as browser,
        browser.get(location.with_fragment(None), allow_redirects=False) as answer,
    ):
        assert answer.status == 302, await answer.text()
        back = URL(answer.headers["Location"])
    assert back.path == RETURN_PATH
    return dict(back.query)


async def sign_in(phone: Any, openid: str = OPENID) -> Any:
    return await phone.client.get(RETURN_PATH, params=await authorize(await start(phone), openid))


async def test_the_entry_sends_the_browser_to_the_authorize_page_with_a_state_it_remembers(
    phone: Any, fake: FakeWeChatApi
) -> None:
    response = await phone.client.get(ENTRY_PATH, params={"next": "/submit"}, allow_redirects=False)
    location = URL(response.headers["Location"])
    assert location.path == "/connect/oauth2/authorize"
    assert location.fragment == "wechat_redirect"
    query = location.query
    assert query["appid"] == fake.app_id
    assert query["redirect_uri"] == f"http://127.0.0.1:8080{RETURN_PATH}"
    assert (query["response_type"], query["scope"]) == ("code", "snsapi_base")
    assert re.fullmatch(r"[\w-]{32}", query["state"])
    remembered = response.cookies[STATE_COOKIE]
    assert remembered.value == query["state"] + ".%2Fsubmit"
    assert (remembered["httponly"], remembered["samesite"], remembered["path"]) == (True, "Lax", RETURN_PATH)
    assert remembered["max-age"] == "600"


async def test_the_form_submitted_after_authorisation_is_the_citizens_and_answered_in_wechat(
    phone: Any, fake: FakeWeChatApi, service: Any, make_staff: Any
) -> None:
    landed = await phone.client.get(
        RETURN_PATH, params=await authorize(await start(phone)), allow_redirects=False
    )
    assert landed.status == 303
    assert landed.headers["Location"] == "/submit"
    cookie = landed.cookies[IDENTITY_COOKIE]
    assert (cookie["httponly"], cookie["samesite"], cookie["path"]) == (True, "Lax", "/")
    assert len(fake.calls_to(OAUTH_TOKEN)) == 1

    form = await phone.client.get("/submit")
    assert "您是从微信进入的：这件诉求将关联您的微信账号" in await form.text()
    response = await phone.client.post(
        "/submit", data={**await read_tokens(phone.client, "/submit"), **VALID}, allow_redirects=False
    )
    assert response.status == 303
    number = RECEIPT.match(response.headers["Location"])[1]  # type: ignore[index]
    inquiry = await Inquiry.get(number=number)
    assert inquiry.channel == Channel.WECHAT
    identity = await CitizenIdentity.get(citizen_id=inquiry.citizen_id)  # type: ignore[attr-defined]
    assert (identity.channel, identity.external_id) == (Channel.WECHAT, OPENID)
    assert (await inquiry.citizen).phone == VALID["contact_phone"]  # type: ignore[attr-defined]

    desk = Actor.of_staff(await make_staff("desk", "desk"))
    handler = Actor.of_staff(await make_staff("rsj-h", "handler", "rsj"))
    await service.act(number, "dispatch", desk, {})
    await service.act(number, "acknowledge", handler, {})
    await service.act(number, "reply", handler, {"text": "已督促单位补缴。", "resolved": True})
    assert await OutboxMessage.filter(inquiry_id=inquiry.id, recipient=OPENID).count() == 1
    await deliver_wechat(phone.client.app)
    assert "已督促单位补缴。" in fake.sent[OPENID][-1]["text"]["content"]


async def test_a_form_without_authorisation_stays_a_web_inquiry(phone: Any) -> None:
    form = await phone.client.get("/submit")
    assert "您是从微信进入的" not in await form.text()
    response = await phone.client.post(
        "/submit", data={**await read_tokens(phone.client, "/submit"), **VALID}, allow_redirects=False
    )
    number = RECEIPT.match(response.headers["Location"])[1]  # type: ignore[index]
    assert (await Inquiry.get(number=number)).channel == Channel.WEB


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "submit"])
async def test_only_a_page_of_this_site_may_follow(phone: Any, target: str) -> None:
    response = await phone.client.get(ENTRY_PATH, params={"next": target}, allow_redirects=False)
    assert response.status == 400
    assert "next 只能是本站的页面地址" in await response.text()


async def test_a_state_that_this_browser_did_not_start_is_refused(phone: Any) -> None:
    query = await authorize(await start(phone))
    phone.client.session.cookie_jar.clear()
    response = await phone.client.get(RETURN_PATH, params=query)
    assert response.status == 400
    assert "不是从本站发起的" in await response.text()

    await start(phone)  # a state of this browser, but another one
    response = await phone.client.get(RETURN_PATH, params=query)
    assert response.status == 400
    assert "与本浏览器不符" in await response.text()
    assert IDENTITY_COOKIE not in response.cookies


async def test_a_used_code_or_a_refusal_is_a_clear_400_and_no_identity(
    phone: Any, fake: FakeWeChatApi
) -> None:
    query = await authorize(await start(phone))
    state_cookie = phone.client.session.cookie_jar.filter_cookies(phone.client.make_url(RETURN_PATH))
    assert (await phone.client.get(RETURN_PATH, params=query)).status == 200  # lands on the form
    phone.client.session.cookie_jar.clear()
    phone.client.session.cookie_jar.update_cookies(state_cookie, phone.client.make_url(RETURN_PATH))
    again = await phone.client.get(RETURN_PATH, params=query, allow_redirects=False)
    assert again.status == 400
    assert "微信授权已失效" in await again.text()

    await start(phone)
    denied = await phone.client.get(RETURN_PATH, params={"state": query["state"]}, allow_redirects=False)
    assert denied.status == 400


async def test_wechat_down_is_a_502_and_the_citizen_is_told_to_retry(phone: Any, fake: FakeWeChatApi) -> None:
    fake.fail(OAUTH_TOKEN, -1)
    response = await sign_in(phone)
    assert response.status == 502
    assert "暂时无法连接微信" in await response.text()


async def test_a_forged_or_stale_identity_cookie_is_ignored(phone: Any) -> None:
    assert (await sign_in(phone)).status == 200
    url = phone.client.make_url("/")
    genuine = phone.client.session.cookie_jar.filter_cookies(url)[IDENTITY_COOKIE].value
    openid, expires, signature = genuine.split(".")
    for forged in [f"oSomeoneElse.{expires}.{signature}", f"{openid}.{int(expires) + 1}.{signature}", "x"]:
        phone.client.session.cookie_jar.update_cookies({IDENTITY_COOKIE: forged}, url)
        form = await phone.client.get("/submit")
        assert "您是从微信进入的" not in await form.text(), forged
