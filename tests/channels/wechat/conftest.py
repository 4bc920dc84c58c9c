"""The app with WeChat on, in the official safe-mode vector's keys, and a chat helper that posts
signed plaintext pushes through the real endpoint as a citizen's phone would."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from channels.wechat.simulator import FakeWeChatApi
from core.actors import Actor
from core.models import Staff
from core.service import InquiryService
from gateway.app import create_app
from gateway.keys import service_key

ROOT = Path(__file__).resolve().parents[3]
VECTORS = json.loads((ROOT / "tests" / "fixtures" / "wechat" / "official_vectors.json").read_text("utf-8"))
SAFE = VECTORS["safe_mode_message"]
SENT = 1795752817
"""The CreateTime of the pushes unless a test says otherwise (2026-11-27 04:13:37 UTC)."""


def sign(token: str, timestamp: str, nonce: str, *more: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, *more])).encode()).hexdigest()


def wechat_environ(**more: str) -> dict[str, str]:
    """WeChat on, in the official safe-mode vector's keys, the replay check off for the 2014 vector."""
    return {
        "WENZHENG_CHANNELS__WECHAT__ENABLED": "true",
        "WENZHENG_CHANNELS__WECHAT__TOKEN": SAFE["token"],
        "WENZHENG_CHANNELS__WECHAT__APP_ID": SAFE["app_id"],
        "WENZHENG_CHANNELS__WECHAT__ENCODING_AES_KEY": SAFE["encoding_aes_key"],
        "WENZHENG_CHANNELS__WECHAT__REPLAY_WINDOW_SECONDS": "0",
    } | more


@pytest.fixture
async def wechat(settings_with: Any, aiohttp_client: Any) -> Any:
    """The test client of the app with WeChat on."""
    return await aiohttp_client(create_app(settings_with(**wechat_environ())))


class Chat:
    """A citizen's side of the conversation: each call posts one signed push and returns the passive
    reply's text, or ``success``."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.service: InquiryService = client.app[service_key]
        self._msg_id = 5000

    async def post(self, xml: str, token: str = SAFE["token"]) -> Any:
        query = {"timestamp": str(SENT), "nonce": "42", "signature": sign(token, str(SENT), "42")}
        return await self.client.post("/channels/wechat", params=query, data=xml)

    async def send(self, sender: str, text: str, sent: int = SENT, msg_id: int | None = None) -> str:
        if msg_id is None:
            self._msg_id += 1
            msg_id = self._msg_id
        body = f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId>"
        return await self._push(sender, "text", body, sent)

    async def click(self, sender: str, key: str) -> str:
        body = f"<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[{key}]]></EventKey>"
        return await self._push(sender, "event", body, SENT)

    async def _push(self, sender: str, msg_type: str, body: str, sent: int) -> str:
        xml = (
            f"<xml><ToUserName><![CDATA[gh_city]]></ToUserName><FromUserName><![CDATA[{sender}]]>"
            f"</FromUserName><CreateTime>{sent}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
            f"{body}</xml>"
        )
        response = await self.post(xml)
        assert response.status == 200, await response.text()
        return content_of(await response.text())


def content_of(reply: str) -> str:
    """The text of a passive reply; ``success`` as it is."""
    if reply == "success":
        return reply
    found = re.search(r"<Content><!\[CDATA\[(.*)\]\]></Content>", reply, re.S)
    assert found, reply
    return found[1]


@pytest.fixture
def chat(wechat: Any) -> Chat:
    return Chat(wechat)


@pytest.fixture
async def staff(wechat: Any, make_staff: Any) -> dict[str, Actor]:
    """The desk and a handler of 市民政局 (mzj), where WeChat's default category 其他 goes."""
    rows: list[Staff] = [await make_staff("desk", "desk"), await make_staff("mzj-h", "handler", "mzj")]
    return {row.username: Actor.of_staff(row) for row in rows}


@pytest.fixture
def fake() -> FakeWeChatApi:
    return FakeWeChatApi(app_id=SAFE["app_id"], app_secret="app-secret")


@pytest.fixture
async def phone(settings_with: Any, aiohttp_client: Any, aiohttp_server: Any, fake: Any) -> Chat:
    """A citizen's phone on the app with outbound WeChat on, the API being the local fake."""
    api = await aiohttp_server(fake.app)
    base = str(api.make_url("")).rstrip("/")
    outbound = wechat_environ(
        WENZHENG_CHANNELS__WECHAT__APP_SECRET="app-secret",
        WENZHENG_CHANNELS__WECHAT__API_BASE=base,
        WENZHENG_CHANNELS__WECHAT__OAUTH_BASE=base,
    )
    return Chat(await aiohttp_client(create_app(settings_with(**outbound))))
