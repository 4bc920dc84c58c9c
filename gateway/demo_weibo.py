"""`wenzheng demo`'s Weibo page: demo users @-mention the city's account as on Weibo.

The fake Weibo API (channels.weibo.simulator) is mounted under ``/simulator/weibo-api/``; the gateway
polls its mentions and writes its comments there, exactly as it would on Weibo. ``/simulator/weibo``
posts a status that @-mentions the account as a chosen user, and shows the account's mentions timeline
(``/simulator/weibo/timeline``, in a frame that reloads itself every few seconds, so typing is not
interrupted), each status with the comments under it. Under the account's comments a 回复 link opens a
reply form on the main page, so the demo user can answer the receipt or rate an answer ("1"). No
JavaScript.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from aiohttp import web

from channels.web.forms import form_text
from channels.weibo.inbound import TIME_FORMAT
from channels.weibo.simulator import FakeWeiboApi
from core.numbers import BEIJING
from gateway.demo_phone import SIMULATOR_PAGES

API_PREFIX: Final = "/simulator/weibo-api"
PAGE_PATH: Final = "/simulator/weibo"
TIMELINE_PATH: Final = "/simulator/weibo/timeline"
REPLY_PATH: Final = "/simulator/weibo/reply"
DEFAULT_USER: Final = "热心市民小王"
MAX_TEXT: Final = 140
REFRESH_SECONDS: Final = 5

_USER = re.compile(r"\w{1,30}")


@dataclass(frozen=True)
class Comment:
    user: str
    text: str
    at: str
    by_account: bool


@dataclass(frozen=True)
class Status:
    """A mention of the account on the timeline, with every comment under it, oldest first."""

    id: str
    user: str
    text: str
    at: str
    comments: list[Comment]

    @property
    def answered(self) -> bool:
        return any(comment.by_account for comment in self.comments)


def demo_weibo_environ(base_url: str) -> dict[str, str]:
    """Weibo on with a fresh access token, its API being the fake mounted at ``base_url``."""
    api = base_url + API_PREFIX
    return {
        "WENZHENG_CHANNELS__WEIBO__ENABLED": "true",
        # Prefixed so that YAML never reads it as a number.
        "WENZHENG_CHANNELS__WEIBO__ACCESS_TOKEN": "demo" + secrets.token_hex(14),
        # The environment is read as YAML: quoted, so that the uid stays a string.
        "WENZHENG_CHANNELS__WEIBO__ACCOUNT_UID": f"'{7_000_000_000 + secrets.randbelow(10**9)}'",
        "WENZHENG_CHANNELS__WEIBO__API_BASE": api,
        "WENZHENG_CHANNELS__WEIBO__MESSAGES_BASE": api,
        "WENZHENG_CHANNELS__WEIBO__POLL_SECONDS": "5",
        "WENZHENG_CHANNELS__WEIBO__DELIVERY_SECONDS": "2",
    }


class DemoWeibo:
    """The Weibo page's handlers over the fake API's statuses and comments."""

    def __init__(self, fake: FakeWeiboApi) -> None:
        self.fake = fake
        self.mention = f"@{fake.account_name}"
        self._pages = SIMULATOR_PAGES

    async def page(self, request: web.Request) -> web.Response:
        user = _user(request.query.get("user"))
        reply_id = request.query.get("reply")
        replying = self._status(reply_id) if reply_id else None
        timeline = request.app.router["demo-weibo-timeline"].url_for().with_query(user=user)
        return self._render(
            "weibo.html",
            user=user,
            account=self.fake.account_name,
            prefill=self.mention + " ",
            replying=replying,
            reply_path=REPLY_PATH,
            timeline_url=str(timeline),
            max_text=MAX_TEXT,
        )

    async def timeline(self, request: web.Request) -> web.Response:
        user = _user(request.query.get("user"))
        return self._render(
            "weibo_timeline.html",
            user=user,
            account=self.fake.account_name,
            statuses=self._timeline(),
            refresh=REFRESH_SECONDS,
            page_path=PAGE_PATH,
        )

    async def post(self, request: web.Request) -> web.Response:
        """Post the form's status as a mention of the account (the prefilled @ is not doubled)."""
        form = await request.post()
        user = _user(form_text(form, "user"))
        text = _text(form_text(form, "text"))
        if text.startswith(self.mention):
            text = text[len(self.mention) :].strip()
        if not text:
            raise web.HTTPBadRequest(text=f"内容：除 {self.mention} 外还要写点什么")
        self.fake.post_mention(user, text)
        raise web.HTTPSeeOther(request.app.router["demo-weibo"].url_for().with_query(user=user))

    async def reply(self, request: web.Request) -> web.Response:
        """Comment on a status mentioning the account, below the account's comment there.

        The fake's comment reads "@<account> <text>": its mention is what the poller picks up, and the
        text after it is what the citizen said, so "1" rates the answer.
        """
        form = await request.post()
        user = _user(form_text(form, "user"))
        status = self._status(form_text(form, "status_id"))
        self.fake.comment_mention(user, _text(form_text(form, "text")), status.id)
        raise web.HTTPSeeOther(request.app.router["demo-weibo"].url_for().with_query(user=user))

    def _timeline(self) -> list[Status]:
        """The statuses mentioning the account, newest first."""
        mentions = [s for s in self.fake.statuses.values() if self.mention in s["text"]]
        return [self._entry(status) for status in sorted(mentions, key=lambda s: s["id"], reverse=True)]

    def _entry(self, status: dict[str, Any]) -> Status:
        under = sorted(
            (c for c in self.fake.comments.values() if c["status"]["idstr"] == status["idstr"]),
            key=lambda c: c["id"],
        )
        account = self.fake.account_name
        comments = [Comment(_name(c), c["text"], _shown(c), _name(c) == account) for c in under]
        return Status(status["idstr"], _name(status), status["text"], _shown(status), comments)

    def _status(self, status_id: str) -> Status:
        status = self.fake.statuses.get(int(status_id)) if status_id.isdigit() else None
        if status is None or self.mention not in status["text"]:
            raise web.HTTPBadRequest(text="微博不存在，或没有 @ 本账号")
        return self._entry(status)

    def _render(self, template: str, **context: Any) -> web.Response:
        return self._pages.render(template, context)


def setup_demo_weibo(app: web.Application, fake: FakeWeiboApi) -> None:
    """Mount the fake Weibo API and the Weibo page on ``app`` (before it starts)."""
    app.add_subapp(API_PREFIX, fake.app)
    demo = DemoWeibo(fake)
    app.router.add_get(PAGE_PATH, demo.page, name="demo-weibo")
    app.router.add_post(PAGE_PATH, demo.post)
    app.router.add_get(TIMELINE_PATH, demo.timeline, name="demo-weibo-timeline")
    app.router.add_post(REPLY_PATH, demo.reply)


def _user(value: str | None) -> str:
    if value is None or not value.strip():
        return DEFAULT_USER
    if not _USER.fullmatch(value.strip()):
        raise web.HTTPBadRequest(text="用户名：1–30 个汉字、字母、数字或下划线")
    return value.strip()


def _text(value: str) -> str:
    text = value.strip()
    if not 1 <= len(text) <= MAX_TEXT:
        raise web.HTTPBadRequest(text=f"内容：1–{MAX_TEXT} 字")
    return text


def _shown(item: dict[str, Any]) -> str:
    """Weibo's ``created_at`` as the timeline shows it."""
    return datetime.strptime(item["created_at"], TIME_FORMAT).astimezone(BEIJING).strftime("%m-%d %H:%M:%S")


def _name(item: dict[str, Any]) -> str:
    return str(item["user"]["screen_name"])
