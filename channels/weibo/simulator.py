"""A fake of the Weibo API v2 endpoints the channel uses (protocols.md §4.2–§4.6) as a local aiohttp app.

Tests serve :attr:`FakeWeiboApi.app` with pytest-aiohttp's ``aiohttp_server`` and point both bases of
:class:`channels.weibo.api.WeiboApi` at it. Demo users post statuses and comments that @-mention the
account (:meth:`FakeWeiboApi.post_mention`, :meth:`FakeWeiboApi.comment_mention`); the mentions
endpoints serve them newest first, honouring ``since_id`` (exclusive), ``max_id`` (inclusive) and
``count``, with ids above 2**53 so that any float on the way would show. Comments and private messages
the account sends are kept; every call is recorded; a test can queue Weibo errors per path.

Simplifications: a status is a mention when its text or its original's text contains "@<account
name>", a comment when its text does; the identical-text check (20019) compares with the account's
previous comment anywhere; ``page``, the filters and ``total_number`` beyond the list size are ignored.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from itertools import count
from typing import Any, Final
from urllib.parse import unquote

from aiohttp import web

from channels.weibo.api import (
    COMMENTS_CREATE,
    COMMENTS_MENTIONS,
    COMMENTS_REPLY,
    MAX_COUNT,
    MESSAGES_REPLY,
    STATUSES_MENTIONS,
)
from channels.weibo.inbound import TIME_FORMAT
from channels.weibo.replies import COMMENT_LIMIT, MESSAGE_LIMIT

FIRST_ID: Final = 2**53 + 1
"""The first id handed out: the smallest integer a double cannot hold."""
ID_STEP: Final = 7919
"""Ids grow with time but not by one, as on Weibo."""

ERRORS: Final = {
    10001: "System error",
    10006: "Source paramter (appkey) is missing",
    10008: "Param error, see doc for more info",
    10009: "Too many pending tasks, system is busy",
    10014: "Insufficient app permissions",
    10022: "IP requests out of rate limit",
    10023: "User requests out of rate limit",
    10024: "User requests for (statuses/mentions) out of rate limit",
    20008: "Content is null",
    20012: "Text too long, please input text less than 140 characters",
    20019: "Repeated weibo text",
    20101: "Target weibo does not exist",
    21327: "Expired token",
    21332: "Invalid access token",
}
_HTTP_STATUS: Final = {10001: 500, 10009: 503, 21327: 401, 21332: 401} | dict.fromkeys(
    (10014, 10022, 10023, 10024), 403
)
_BEIJING = timezone(timedelta(hours=8))
_SOURCE = '<a href="http://weibo.com" rel="nofollow">微博 weibo.com</a>'

_Handler = Callable[[Mapping[str, str]], Awaitable[web.Response]]


@dataclass(frozen=True)
class Call:
    """One request the fake received: its query and, for a POST, its form."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]


class _Failure:
    """A queued answer: Weibo's error body (code as a string or a number), or a bare HTTP status."""

    def __init__(self, code: int | None, status: int, numeric: bool = False) -> None:
        self.code, self.status, self.numeric = code, status, numeric

    def response(self, path: str) -> web.Response:
        if self.code is None:
            return web.Response(status=self.status, text="Service Temporarily Unavailable")
        return _error(path, self.code, numeric=self.numeric, status=self.status)


def _error(path: str, code: int, numeric: bool = False, status: int | None = None) -> web.Response:
    body = {"request": path, "error_code": code if numeric else str(code), "error": ERRORS.get(code, "error")}
    return web.json_response(body, status=status or _HTTP_STATUS.get(code, 400))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _now() -> datetime:
    return datetime.now(UTC)


class FakeWeiboApi:
    """The Weibo API of one account (``account_uid``, ``account_name``) in memory."""

    def __init__(
        self,
        access_token: str = "fake-weibo-token",
        account_uid: str = "7000000001",
        account_name: str = "乌鲁木齐网络问政",
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.access_token = access_token
        self.account_name = account_name
        self.calls: list[Call] = []
        self.statuses: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, dict[str, Any]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._account = self._user(account_name, account_uid)
        self._clock = clock
        self._ids = count(FIRST_ID, ID_STEP)
        self._messages: defaultdict[str, list[str]] = defaultdict(list)
        self._failures: defaultdict[str, deque[_Failure]] = defaultdict(deque)
        self._last_comment: str | None = None
        self.app = web.Application()
        self._route("GET", STATUSES_MENTIONS, self._statuses_mentions)
        self._route("GET", COMMENTS_MENTIONS, self._comments_mentions)
        self._route("POST", COMMENTS_CREATE, self._create_comment)
        self._route("POST", COMMENTS_REPLY, self._reply_comment)
        self._route("POST", MESSAGES_REPLY, self._reply_message)

    # -- what demo users do

    def post_status(self, user: str, text: str, geo: tuple[float, float] | None = None) -> dict[str, Any]:
        """``user`` (a screen name) posts a status; ``geo`` is (latitude, longitude)."""
        status = self._item(user, text)
        status |= {"favorited": False, "truncated": False, "reposts_count": 0, "comments_count": 0}
        status["geo"] = None if geo is None else {"type": "Point", "coordinates": list(geo)}
        self.statuses[status["id"]] = status
        return status

    def post_mention(self, user: str, text: str, geo: tuple[float, float] | None = None) -> dict[str, Any]:
        """``user`` posts "@<account> text"."""
        return self.post_status(user, f"@{self.account_name} {text}", geo)

    def repost(self, user: str, status_id: str, text: str = "转发微博") -> dict[str, Any]:
        """``user`` reposts a status with ``text`` (Weibo's default when nothing is added)."""
        status = self.post_status(user, text)
        status["retweeted_status"] = self.statuses[int(status_id)]
        return status

    def comment_mention(self, user: str, text: str, status_id: str | None = None) -> dict[str, Any]:
        """``user`` comments "@<account> text" on a status (by default a new one of their own)."""
        if status_id is None:
            status_id = self.post_status(user, "今天的路况真差")["idstr"]
        return self._comment(self._user(user), f"@{self.account_name} {text}", self.statuses[int(status_id)])

    # -- what the account did

    def comments_on(self, status_id: str) -> list[str]:
        """The texts of the account's comments on a status, oldest first, as Weibo shows them."""
        return [
            comment["text"]
            for comment in self.comments.values()
            if comment["status"]["idstr"] == status_id and comment["user"] is self._account
        ]

    def messages_to(self, uid: str) -> list[str]:
        """The private text replies sent to ``uid``, in order."""
        return list(self._messages[uid])

    # -- test controls

    def fail(self, path: str, error_code: int, times: int = 1, *, numeric: bool = False) -> None:
        """Answer the next ``times`` calls of ``path`` with Weibo's error ``error_code`` (before any
        other check); ``numeric`` sends the code as a JSON number instead of a string."""
        failure = _Failure(error_code, _HTTP_STATUS.get(error_code, 400), numeric)
        self._failures[path].extend([failure] * times)

    def fail_http(self, path: str, status: int, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``path`` with a bare HTTP ``status`` (a proxy's page)."""
        self._failures[path].extend([_Failure(None, status)] * times)

    def calls_to(self, path: str) -> list[Call]:
        return [call for call in self.calls if call.path == path]

    # -- the endpoints

    def _route(self, method: str, path: str, handler: _Handler) -> None:
        async def serve(request: web.Request) -> web.Response:
            form = {key: str(value) for key, value in (await request.post()).items()}
            self.calls.append(Call(request.method, path, dict(request.query), form))
            if self._failures[path]:
                return self._failures[path].popleft().response(path)
            fields = {**request.query, **form}
            token = fields.get("access_token")
            if token != self.access_token:
                return _error(path, 21332 if token else 10006)
            return await handler(fields)

        self.app.router.add_route(method, path, serve)

    async def _statuses_mentions(self, fields: Mapping[str, str]) -> web.Response:
        mentions = [status for status in self.statuses.values() if self._mentions_account(status)]
        return self._page(fields, "statuses", mentions, default_count=20)

    async def _comments_mentions(self, fields: Mapping[str, str]) -> web.Response:
        mentions = [comment for comment in self.comments.values() if self._mentions_account(comment)]
        return self._page(fields, "comments", mentions, default_count=50)

    async def _create_comment(self, fields: Mapping[str, str]) -> web.Response:
        status = self.statuses.get(_int(fields.get("id")))
        if status is None:
            return _error(COMMENTS_CREATE, 20101)
        text = fields.get("comment", "")
        if code := self._comment_refusal(text):
            return _error(COMMENTS_CREATE, code)
        self._last_comment = text
        return web.json_response(self._comment(self._account, text, status), dumps=_dumps)

    async def _reply_comment(self, fields: Mapping[str, str]) -> web.Response:
        status = self.statuses.get(_int(fields.get("id")))
        replied = self.comments.get(_int(fields.get("cid")))
        if status is None or replied is None or replied["status"] is not status:
            return _error(COMMENTS_REPLY, 20101)
        text = fields.get("comment", "")
        if code := self._comment_refusal(text):
            return _error(COMMENTS_REPLY, code)
        self._last_comment = text
        if fields.get("without_mention") != "1":
            text = f"回复@{replied['user']['screen_name']}:{text}"
        comment = self._comment(self._account, text, status)
        comment["reply_comment"] = replied
        return web.json_response(comment, dumps=_dumps)

    async def _reply_message(self, fields: Mapping[str, str]) -> web.Response:
        receiver = fields.get("receiver_id", "")
        try:
            data = json.loads(unquote(fields.get("data", "")))
        except ValueError:
            data = None
        text = data.get("text") if isinstance(data, dict) else None
        if fields.get("type") != "text" or not receiver.isdigit() or not isinstance(text, str):
            return _error(MESSAGES_REPLY, 10008)
        if not text or len(text) > MESSAGE_LIMIT:
            return _error(MESSAGES_REPLY, 20008 if not text else 10008)
        self._messages[receiver].append(text)
        return web.json_response({"result": True, "receiver_id": receiver}, dumps=_dumps)

    # -- helpers

    def _page(
        self, fields: Mapping[str, str], key: str, items: list[dict[str, Any]], default_count: int
    ) -> web.Response:
        since_id, max_id = _int(fields.get("since_id")), _int(fields.get("max_id"))
        size = min(_int(fields.get("count")) or default_count, MAX_COUNT)
        chosen = [item for item in items if item["id"] > since_id and (not max_id or item["id"] <= max_id)]
        chosen.sort(key=lambda item: item["id"], reverse=True)
        body = {key: chosen[:size], "previous_cursor": 0, "next_cursor": 0, "total_number": len(chosen)}
        return web.json_response(body, dumps=_dumps)

    def _mentions_account(self, item: dict[str, Any]) -> bool:
        mention = f"@{self.account_name}"
        original = item.get("retweeted_status") or {}
        return item["user"] is not self._account and (
            mention in item["text"] or mention in original.get("text", "")
        )

    def _comment_refusal(self, text: str) -> int:
        """Weibo's code refusing the account's comment ``text``, or 0."""
        if not text:
            return 20008
        if len(text) > COMMENT_LIMIT:
            return 20012
        return 20019 if text == self._last_comment else 0

    def _comment(self, user: dict[str, Any], text: str, status: dict[str, Any]) -> dict[str, Any]:
        comment = self._item(user["screen_name"], text) | {"status": status}
        self.comments[comment["id"]] = comment
        return comment

    def _item(self, user: str, text: str) -> dict[str, Any]:
        number = next(self._ids)
        return {
            "created_at": self._clock().astimezone(_BEIJING).strftime(TIME_FORMAT),
            "id": number,
            "idstr": str(number),
            "mid": str(number),
            "text": text,
            "source": _SOURCE,
            "user": self._user(user),
        }

    def _user(self, name: str, uid: str | None = None) -> dict[str, Any]:
        if name not in self._users:
            uid = uid or str(1404376560 + len(self._users))
            self._users[name] = {"id": int(uid), "idstr": uid, "screen_name": name, "name": name}
        return self._users[name]


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0
