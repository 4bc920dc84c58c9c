"""`wenzheng demo`'s citizen phone: a page that chats with the gateway as WeChat would.

The fake WeChat API (channels.wechat.simulator) is mounted under ``/simulator/wechat-api/`` so the
outbound worker delivers answers to it. ``/simulator/phone`` is a phone-sized page whose form posts a
signed plaintext push to the gateway's own ``/channels/wechat`` over HTTP, exactly as WeChat would, and
whose conversation (``/simulator/phone/chat``, in a frame that reloads itself every few seconds, so
typing is not interrupted) shows what the citizen sent, the passive replies, and what the gateway later
sent through the API. No JavaScript.

The phone's menu is the account's custom menu as the fake API holds it: the first visit pushes the
configured menu through the real API client (as ``wenzheng wechat-menu`` would), a click button sends its
CLICK event, and a view button opens its page in a new tab, as WeChat's own browser would, with the
fake's ``fake_wechat_user`` cookie telling its authorize page who is signed in to WeChat.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from itertools import count
from pathlib import Path
from typing import Any, Final, Literal

import aiohttp
from aiohttp import web

from channels.signing import sorted_sha1
from channels.web.forms import form_text
from channels.web.pages import HtmlPages
from channels.wechat.replies import cdata
from channels.wechat.security import WeChatRejected, parse_fields
from channels.wechat.simulator import USER_COOKIE, FakeWeChatApi
from core.numbers import BEIJING
from gateway.wechat_outbound import wechat_api_key

API_PREFIX: Final = "/simulator/wechat-api"
PHONE_PATH: Final = "/simulator/phone"
CHAT_PATH: Final = "/simulator/phone/chat"
DEFAULT_OPENID: Final = "oDemoCitizen01"
MAX_TEXT: Final = 600
REFRESH_SECONDS: Final = 5

_OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")
SIMULATOR_PAGES: Final = HtmlPages(
    Path(__file__).parent / "templates",
    {
        # Our own frames; each template's only style is its own block; no script at all.
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; form-action 'self'; "
            "frame-ancestors 'self'; base-uri 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    },
    {},
)
"""The demo's simulator pages (the citizen phone, the Weibo page): ours, in gateway/templates."""

Who = Literal["citizen", "account"]


@dataclass(frozen=True)
class Bubble:
    """One line of the conversation as the phone shows it."""

    who: Who
    text: str
    at: datetime
    note: str = ""
    """Where it came from: 被动回复, 客服消息, 模板消息; empty for the citizen's own lines."""
    link: str = ""


class DemoPhone:
    """The phone page's handlers and the conversations it has seen, per openid, oldest first."""

    def __init__(self, fake: FakeWeChatApi, token: str, account: str, menu: dict[str, Any]) -> None:
        self.fake = fake
        self.menu = menu
        self.token = token
        self.account = account
        self.conversations: defaultdict[str, list[Bubble]] = defaultdict(list)
        self._absorbed: defaultdict[str, int] = defaultdict(int)
        self._msg_ids = count(int(time.time()) * 1000)
        self._pages = SIMULATOR_PAGES

    async def page(self, request: web.Request) -> web.Response:
        openid = _openid(request.query.get("openid"))
        if not self.fake.menu:
            await request.app[wechat_api_key].create_menu(self.menu)
        chat_url = request.app.router["demo-phone-chat"].url_for().with_query(openid=openid)
        response = self._render(
            "phone.html", openid=openid, chat_url=str(chat_url), menu=self.fake.menu, max_text=MAX_TEXT
        )
        response.set_cookie(USER_COOKIE, openid, path=API_PREFIX, httponly=True, samesite="Lax")
        return response

    async def chat(self, request: web.Request) -> web.Response:
        openid = _openid(request.query.get("openid"))
        self._absorb(openid)
        return self._render(
            "phone_chat.html", openid=openid, bubbles=self.conversations[openid], refresh=REFRESH_SECONDS
        )

    async def send(self, request: web.Request) -> web.Response:
        """Post the form's text, subscribe or menu click to the callback as a signed push."""
        form = await request.post()
        openid = _openid(form_text(form, "openid"))
        action = form_text(form, "action")
        text = form_text(form, "text").strip()[:MAX_TEXT]
        if action == "subscribe":
            await self._push(request, openid, "（关注公众号）", _event("subscribe", ""))
        elif action.startswith("click:") and (label := self._click_labels().get(key := action[6:])):
            await self._push(request, openid, f"（点击菜单：{label}）", _event("CLICK", key))
        elif text:
            body = f"<Content>{cdata(text)}</Content><MsgId>{next(self._msg_ids)}</MsgId>"
            await self._push(request, openid, text, ("text", body))
        raise web.HTTPSeeOther(request.app.router["demo-phone"].url_for().with_query(openid=openid))

    async def _push(self, request: web.Request, openid: str, shown: str, message: tuple[str, str]) -> None:
        msg_type, fields = message
        now = int(time.time())
        xml = (
            f"<xml><ToUserName>{cdata(self.account)}</ToUserName>"
            f"<FromUserName>{cdata(openid)}</FromUserName><CreateTime>{now}</CreateTime>"
            f"<MsgType>{cdata(msg_type)}</MsgType>{fields}</xml>"
        )
        nonce = str(secrets.randbelow(10**10))
        signature = sorted_sha1(self.token, str(now), nonce)
        query = {"timestamp": str(now), "nonce": nonce, "signature": signature}
        self._absorb(openid)  # deliveries made before this push come first
        self.conversations[openid].append(Bubble("citizen", shown, _beijing(now)))
        url = request.url.origin().with_path("/channels/wechat")
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(url, params=query, data=xml.encode()) as response,
            ):
                answer = await response.text()
        except aiohttp.ClientError as error:
            failed = f"（无法连接回调地址：{error}）"
            self.conversations[openid].append(Bubble("account", failed, _beijing(time.time()), note="错误"))
            return
        self.conversations[openid].append(_passive(response.status, answer))

    def _click_labels(self) -> dict[str, str]:
        """The menu's click keys and their button names, sub-buttons included."""
        buttons = [sub for button in self.fake.menu for sub in (button, *button.get("sub_button", []))]
        return {b["key"]: b["name"] for b in buttons if b.get("type") == "click"}

    def _absorb(self, openid: str) -> None:
        """Add the messages the gateway sent through the fake API since the last look, stamped now."""
        sent = self.fake.sent.get(openid, [])
        for body in sent[self._absorbed[openid] :]:
            self.conversations[openid].append(_pushed(body))
        self._absorbed[openid] = len(sent)

    def _render(self, template: str, **context: Any) -> web.Response:
        return self._pages.render(template, context)


demo_phone_key = web.AppKey("demo_phone", DemoPhone)


def setup_demo_phone(
    app: web.Application,
    fake: FakeWeChatApi,
    token: str,
    menu: dict[str, Any],
    account: str = "gh_wenzheng_demo",
) -> None:
    """Mount the fake WeChat API and the phone page on ``app`` (before it starts); ``menu`` is the
    menu/create body the phone pushes on its first visit."""
    app.add_subapp(API_PREFIX, fake.app)
    phone = DemoPhone(fake, token, account, menu)
    app[demo_phone_key] = phone
    app.router.add_get(PHONE_PATH, phone.page, name="demo-phone")
    app.router.add_post(PHONE_PATH, phone.send)
    app.router.add_get(CHAT_PATH, phone.chat, name="demo-phone-chat")


def _openid(value: str | None) -> str:
    if value is None or not value.strip():
        return DEFAULT_OPENID
    if not _OPENID.fullmatch(value.strip()):
        raise web.HTTPBadRequest(text="openid: 1–64 个字母、数字、下划线或连字符")
    return value.strip()


def _event(event: str, key: str) -> tuple[str, str]:
    return "event", f"<Event>{cdata(event)}</Event><EventKey>{cdata(key)}</EventKey>"


def _beijing(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, BEIJING)


def _passive(status: int, answer: str) -> Bubble:
    """The callback's answer to a push: its reply's Content, nothing (``success``), or the refusal."""
    now = _beijing(time.time())
    if status != 200:
        return Bubble("account", f"（回调拒绝：HTTP {status} {answer}）", now, note="错误")
    if answer == "success":
        return Bubble("account", "（公众号未回复）", now, note="success")
    try:
        content = parse_fields(answer).get("Content", "")
    except WeChatRejected as rejected:
        return Bubble("account", f"（无法解析的回复：{rejected.reason}）", now, note="错误")
    return Bubble("account", content, now, note="被动回复")


def _pushed(body: dict[str, Any]) -> Bubble:
    """A message the gateway sent through the API: customer-service text, or a template message."""
    now = _beijing(time.time())
    if "template_id" in body:
        data = body.get("data", {})
        lines = [str(field.get("value", "")) for field in data.values() if isinstance(field, dict)]
        return Bubble("account", "\n".join(lines), now, note="模板消息", link=str(body.get("url", "")))
    msgtype = body.get("msgtype", "")
    content = body.get(msgtype, {}).get("content", "") if msgtype == "text" else f"（{msgtype} 消息）"
    return Bubble("account", content, now, note="客服消息")
