"""Fixtures for the inbox's tests: a client that signs in through the form, seeded inquiries, and for the
browser tests the system's Chromium and the app served on a port."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright

from core.actors import Actor
from core.models import Staff
from core.service import InquiryService, IntakeRequest
from core.vocab import Channel, Kind
from gateway.app import create_app
from gateway.settings import Settings

CHROMIUM = os.environ.get("WENZHENG_TEST_CHROMIUM") or "/usr/bin/chromium"
PASSWORD = "correct horse battery"  # tests/conftest.py's make_staff
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class InboxClient:
    """The aiohttp test client, with the steps a browser takes through the inbox's forms."""

    def __init__(self, client: Any) -> None:
        self.client = client

    async def form_token(self, path: str) -> str:
        """The CSRF token of the form on ``path`` (the matching cookie stays in the client's jar)."""
        response = await self.client.get(path)
        assert response.status == 200, response.url
        match = CSRF.search(await response.text())
        assert match, await response.text()
        return match.group(1)

    async def sign_in(self, username: str, password: str = PASSWORD, next_path: str | None = None) -> Any:
        """Post the sign-in form (not following the redirect)."""
        data = {
            "csrf_token": await self.form_token("/inbox/login"),
            "username": username,
            "password": password,
        }
        if next_path is not None:
            data["next"] = next_path
        return await self.client.post("/inbox/login", data=data, allow_redirects=False)

    async def post_form(self, path: str, data: dict[str, str], token_from: str = "/inbox") -> Any:
        """Post ``data`` to ``path`` with the CSRF token of the page ``token_from``."""
        token = await self.form_token(token_from)
        return await self.client.post(path, data={"csrf_token": token, **data}, allow_redirects=False)

    def session(self) -> str | None:
        """The session token in the client's cookie jar."""
        tokens = [c.value for c in self.client.session.cookie_jar if c.key == "wz_session"]
        return tokens[0] if tokens else None


@pytest.fixture
def inbox(client: Any) -> InboxClient:
    return InboxClient(client)


@pytest.fixture
def inbox_with(
    settings_with: Callable[..., Any], service: InquiryService, aiohttp_client: Any
) -> Callable[..., Awaitable[InboxClient]]:
    """An inbox client of an app with more WENZHENG_* settings."""

    async def make(**environ: str) -> InboxClient:
        return InboxClient(await aiohttp_client(create_app(settings_with(**environ), service)))

    return make


Seed = Callable[..., Awaitable[str]]


@pytest.fixture
def seed_inquiry(service: InquiryService) -> Seed:
    """Take in a web inquiry and, given a unit, dispatch it there; returns its number (needs the database
    open: with the ``client`` or ``server`` fixture)."""

    async def seed(content: str, category: str = "shebao", unit: str | None = None) -> str:
        request = IntakeRequest(channel=Channel.WEB, kind=Kind.COMPLAINT, category=category, content=content)
        inquiry = await service.intake(request, Actor.citizen())
        if unit is not None:
            defaults = {"display_name": "受理员", "password_hash": "!", "role": "desk"}
            desk, _ = await Staff.get_or_create(username="seed-desk", defaults=defaults)
            await service.act(inquiry.number, "dispatch", Actor.of_staff(desk), {"unit": unit})
        return inquiry.number

    return seed


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium (or ``WENZHENG_TEST_CHROMIUM``), headless; the test is skipped without one, since
    Playwright must never download a browser."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install Debian's chromium and fonts-wqy-zenhei (.ci/run does), "
            "or set WENZHENG_TEST_CHROMIUM to a Chromium executable"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        await browser.close()


@pytest.fixture
async def base_url(settings: Settings, service: InquiryService, aiohttp_server: Any) -> str:
    """The whole gateway served on a free port of this test's loop (its database open from here on)."""
    server = await aiohttp_server(create_app(settings, service))
    return str(server.make_url("")).rstrip("/")
