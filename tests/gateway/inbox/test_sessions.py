"""Signing in and out of the inbox without a browser: cookies, renewal, CSRF, throttling, passwords."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from core.models import StaffToken
from gateway.auth import issue_token
from gateway.inbox import sessions

PASSWORD = "correct horse battery"  # tests/conftest.py's make_staff
NEW_PASSWORD = "a much longer passphrase"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture
async def zhang(make_staff: Any, client: Any) -> Any:
    return await make_staff("zhang", "handler", "rsj")


async def test_the_right_password_opens_a_session_in_a_cookie_for_the_inbox_only(
    inbox: Any, zhang: Any
) -> None:
    response = await inbox.sign_in("zhang")
    assert response.status == 303
    assert response.headers["Location"] == "/inbox"
    cookie = response.cookies["wz_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/inbox"
    assert not cookie["secure"]  # plain HTTP here; see the next test for HTTPS
    assert not cookie["max-age"]  # gone when the browser closes
    row = await StaffToken.get(token_hash=digest(cookie.value))
    assert row.staff_id == zhang.id  # type: ignore[attr-defined]
    page = await inbox.client.get("/inbox")
    assert page.status == 200
    assert "zhang" in await page.text()


async def test_the_cookie_is_secure_on_https(zhang: Any) -> None:
    request = make_mocked_request("POST", "/inbox/login").clone(scheme="https")
    response = web.Response()
    await sessions.start(request, response, zhang, hours=1)
    assert response.cookies["wz_session"]["secure"] is True


async def test_a_wrong_password_is_refused_and_opens_nothing(inbox: Any, zhang: Any) -> None:
    response = await inbox.sign_in("zhang", "not the password")
    assert response.status == 401
    assert "用户名或密码错误" in await response.text()
    assert "wz_session" not in response.cookies
    assert (await inbox.sign_in("nobody")).status == 401
    assert await StaffToken.all().count() == 0


async def test_signing_in_replaces_any_session_the_browser_sent(inbox: Any, zhang: Any) -> None:
    await inbox.sign_in("zhang")
    first = inbox.session()
    form = await (await inbox.client.get("/inbox/login")).text()
    assert "您已登录为 zhang" in form
    response = await inbox.sign_in("zhang")
    assert response.status == 303
    second = inbox.session()
    assert second not in (None, first)
    assert not await StaffToken.filter(token_hash=digest(first)).exists()
    assert await StaffToken.filter(staff_id=zhang.id).count() == 1


async def test_a_planted_cookie_never_becomes_the_session(inbox: Any, zhang: Any) -> None:
    inbox.client.session.cookie_jar.update_cookies({"wz_session": "chosen-by-the-attacker"})
    response = await inbox.sign_in("zhang")
    assert response.cookies["wz_session"].value not in ("", "chosen-by-the-attacker")


async def test_pages_without_a_session_send_to_sign_in_and_back(inbox: Any, zhang: Any) -> None:
    response = await inbox.client.get("/inbox/password?x=1", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/inbox/login?next=%2Finbox%2Fpassword%3Fx%3D1"
    page = await (await inbox.client.get(response.headers["Location"])).text()
    assert 'name="next" value="/inbox/password?x=1"' in page
    signed_in = await inbox.sign_in("zhang", next_path="/inbox/password?x=1")
    assert signed_in.headers["Location"] == "/inbox/password?x=1"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/inbox",
        "https://evil.example/inbox",
        "/\\evil.example",
        "javascript:alert(1)",
        "/api/v1/me",
        "/inboxes",
        "/inbox\r\nLocation: https://evil.example",
    ],
)
async def test_sign_in_follows_no_next_outside_the_inbox(inbox: Any, zhang: Any, target: str) -> None:
    form = await inbox.client.get("/inbox/login", params={"next": target})
    assert 'name="next" value="/inbox"' in await form.text()
    response = await inbox.sign_in("zhang", next_path=target)
    assert response.status == 303
    assert response.headers["Location"] == "/inbox"


async def test_a_post_without_the_sessions_csrf_token_is_refused(inbox: Any, zhang: Any) -> None:
    response = await inbox.client.post("/inbox/login", data={"username": "zhang", "password": PASSWORD})
    assert response.status == 403
    assert "CSRF 校验未通过" in await response.text()
    assert await StaffToken.all().count() == 0
    # a token from before sign-in belongs to no session: it cannot sign out the session opened since
    stale = await inbox.form_token("/inbox/login")
    await inbox.sign_in("zhang")
    refused = await inbox.client.post("/inbox/logout", data={"csrf_token": stale}, allow_redirects=False)
    assert refused.status == 403
    assert "CSRF" in await refused.text()
    assert await StaffToken.all().count() == 1


async def test_signing_out_ends_the_session(inbox: Any, zhang: Any) -> None:
    await inbox.sign_in("zhang")
    token = inbox.session()
    response = await inbox.post_form("/inbox/logout", {})
    assert response.status == 303
    assert response.headers["Location"] == "/inbox/login?out=1"
    assert response.cookies["wz_session"].value == ""
    assert not await StaffToken.filter(token_hash=digest(token)).exists()
    again = await inbox.client.get("/inbox", allow_redirects=False)
    assert again.status == 303
    assert "您已安全退出" in await (await inbox.client.get("/inbox/login?out=1")).text()


async def test_failed_sign_ins_are_throttled_per_account(inbox_with: Any, make_staff: Any) -> None:
    inbox = await inbox_with(WENZHENG_INBOX__LOGIN_THROTTLE__ACCOUNT_PER_MINUTE="2")
    await make_staff("zhang", "handler", "rsj")
    for _ in range(2):
        assert (await inbox.sign_in("zhang", "wrong password")).status == 401
    refused = await inbox.sign_in("zhang")  # even the right password, until the window moves on
    assert refused.status == 429
    assert "登录失败次数过多" in await refused.text()
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert await StaffToken.all().count() == 0
    await make_staff("li", "desk")
    assert (await inbox.sign_in("li")).status == 303  # another account is not affected


async def test_failed_sign_ins_are_throttled_per_client_address(inbox_with: Any, make_staff: Any) -> None:
    inbox = await inbox_with(WENZHENG_INBOX__LOGIN_THROTTLE__ADDRESS_PER_MINUTE="3")
    await make_staff("zhang", "handler", "rsj")
    for name in ("a", "b", "c"):
        assert (await inbox.sign_in(name, "guess")).status == 401
    refused = await inbox.sign_in("zhang")
    assert refused.status == 429
    assert "Retry-After" in refused.headers


async def test_changing_the_password_revokes_every_other_session_and_api_token(
    inbox: Any, zhang: Any, login: Any
) -> None:
    api_headers = await login("zhang")
    other, _ = await issue_token(zhang, 1)  # a session in another browser
    await inbox.sign_in("zhang")
    assert await StaffToken.filter(staff_id=zhang.id).count() == 3
    fields = {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    response = await inbox.post_form("/inbox/password", fields, token_from="/inbox/password")
    assert response.status == 200
    assert "密码已修改" in await response.text()
    assert [row.token_hash for row in await StaffToken.filter(staff_id=zhang.id)] == [digest(inbox.session())]
    assert not await StaffToken.filter(token_hash=digest(other)).exists()
    assert (await inbox.client.get("/api/v1/me", headers=api_headers)).status == 401
    assert (await inbox.client.get("/inbox")).status == 200
    assert (await inbox.sign_in("zhang", PASSWORD)).status == 401
    assert (await inbox.sign_in("zhang", NEW_PASSWORD)).status == 303


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"current": "wrong password", "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}, "当前密码不正确"),
        ({"current": PASSWORD, "new": "short", "repeat": "short"}, "新密码至少需要 10 个字符"),
        ({"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD + "x"}, "两次输入的新密码不一致"),
        ({"current": PASSWORD, "new": PASSWORD, "repeat": PASSWORD}, "新密码不能与当前密码相同"),
    ],
)
async def test_a_bad_password_change_changes_nothing(
    inbox: Any, zhang: Any, fields: dict[str, str], message: str
) -> None:
    await inbox.sign_in("zhang")
    response = await inbox.post_form("/inbox/password", fields, token_from="/inbox/password")
    assert response.status == 400
    assert message in await response.text()
    await zhang.refresh_from_db()
    assert (await inbox.sign_in("zhang", PASSWORD)).status == 303
