"""A WeiboApi client talking to the local FakeWeiboApi."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from channels.weibo.api import WeiboApi
from channels.weibo.simulator import FakeWeiboApi

TOKEN = "test-weibo-token"


@pytest.fixture
def fake() -> FakeWeiboApi:
    return FakeWeiboApi(access_token=TOKEN)


@pytest.fixture
async def base_url(fake: FakeWeiboApi, aiohttp_server: Any) -> str:
    server = await aiohttp_server(fake.app)
    return str(server.make_url("")).rstrip("/")


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def api(session: aiohttp.ClientSession, base_url: str) -> WeiboApi:
    return WeiboApi(session, TOKEN, api_base=base_url, messages_base=base_url)
