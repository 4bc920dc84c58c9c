"""Failed sign-ins are limited per account and per client address, through the staff API and the inbox
alike, and both count into the same limits (gateway.login_limits)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from staff_api import post

from core.models import StaffToken
from core.service import InquiryService
from gateway.app import create_app
from gateway.settings import Settings

PASSWORD = "correct horse battery"  # tests/conftest.py's make_staff
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TOO_MANY = re.compile(r"登录失败次数过多，请 (\d+ 秒|1 分钟)后再试")

Client = Callable[..., Awaitable[Any]]


@pytest.fixture
def throttled_settings(settings_with: Callable[..., Settings]) -> Settings:
    """Two failures a minute per account, four per client address."""
    return settings_with(
        WENZHENG_INBOX__LOGIN_THROTTLE__ACCOUNT_PER_MINUTE="2",
        WENZHENG_INBOX__LOGIN_THROTTLE__ADDRESS_PER_MINUTE="4",
    )


@pytest.fixture
def client_of(throttled_settings: Settings, service: InquiryService, aiohttp_client: Any) -> Client:
    """A test client of a new application built from ``throttled_settings``."""

    async def make() -> Any:
        return await aiohttp_client(create_app(throttled_settings, service))

    return make


@pytest.fixture
async def client(client_of: Client) -> Any:
    return await client_of()


async def api_sign_in(client: Any, username: str, password: str = PASSWORD) -> tuple[int, Any]:
    return await post(client, {}, "/auth/login", {"username": username, "password": password})


async def inbox_sign_in(client: Any, username: str, password: str = PASSWORD) -> Any:
    """Post the inbox's sign-in form, with its CSRF token, as a browser would."""
    form = await client.get("/inbox/login")
    match = CSRF.search(await form.text())
    assert match, await form.text()
    data = {"csrf_token": match.group(1), "username": username, "password": password}
    return await client.post("/inbox/login", data=data, allow_redirects=False)


async def assert_api_refuses(client: Any, username: str) -> None:
    """Even the right password is refused, with how long to wait."""
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status == 429
    assert response.content_type == "application/json"
    assert TOO_MANY.fullmatch((await response.json())["error"]), await response.text()
    assert 1 <= int(response.headers["Retry-After"]) <= 60


async def test_the_api_refuses_even_the_right_password_after_too_many_failures(
    client: Any, make_staff: Any
) -> None:
    await make_staff("zhang", "handler", "rsj")
    await make_staff("li", "desk")
    for _ in range(2):
        assert await api_sign_in(client, "zhang", "wrong password") == (401, {"error": "用户名或密码错误"})
    await assert_api_refuses(client, "zhang")
    assert await StaffToken.all().count() == 0
    status, _ = await api_sign_in(client, "li")  # another account is not affected
    assert status == 200


async def test_the_api_limits_failures_per_client_address(client: Any, make_staff: Any) -> None:
    await make_staff("zhang", "handler", "rsj")
    for name in ("a", "b", "c", "d"):
        assert (await api_sign_in(client, name, "guess"))[0] == 401
    await assert_api_refuses(client, "zhang")


async def test_only_failures_count(client: Any, make_staff: Any) -> None:
    await make_staff("zhang", "handler", "rsj")
    assert (await api_sign_in(client, "zhang", "wrong password"))[0] == 401
    for _ in range(3):
        assert (await api_sign_in(client, "zhang"))[0] == 200
    assert (await api_sign_in(client, "zhang", "wrong password"))[0] == 401
    await assert_api_refuses(client, "zhang")


async def test_failures_in_the_inbox_count_for_the_api(client: Any, make_staff: Any) -> None:
    await make_staff("zhang", "handler", "rsj")
    for _ in range(2):
        assert (await inbox_sign_in(client, "zhang", "wrong password")).status == 401
    await assert_api_refuses(client, "zhang")


async def test_failures_through_the_api_count_for_the_inbox(client: Any, make_staff: Any) -> None:
    await make_staff("zhang", "handler", "rsj")
    for _ in range(2):
        assert (await api_sign_in(client, "zhang", "wrong password"))[0] == 401
    refused = await inbox_sign_in(client, "zhang")
    assert refused.status == 429
    assert "登录失败次数过多" in await refused.text()
    assert "Retry-After" in refused.headers


async def test_each_application_counts_its_own_failures(client_of: Client, make_staff: Any) -> None:
    first, second = await client_of(), await client_of()  # the same settings, two applications
    await make_staff("zhang", "handler", "rsj")
    for _ in range(2):
        assert (await api_sign_in(first, "zhang", "wrong password"))[0] == 401
    await assert_api_refuses(first, "zhang")
    assert (await api_sign_in(second, "zhang"))[0] == 200
