"""A fake of the WeChat API (protocols.md §2.1–§2.6) as a local aiohttp application.

Tests serve :attr:`FakeWeChatApi.app` with pytest-aiohttp's ``aiohttp_server`` and point
:class:`channels.wechat.api.WeChatApi` at it; ``wenzheng demo`` can do the same on 127.0.0.1.
It checks the account's credentials and the access token on every call, records every call,
keeps what was sent per openid, serves media, keeps the custom menu, plays WeChat's side of web-page
authorisation, and lets a test queue errcodes per path.

The authorize page has no WeChat client to ask who the user is: it answers for the openid in the
``fake_wechat_user`` cookie (the demo phone sets it), else :attr:`FakeWeChatApi.web_user`.

Simplifications: ``GET /cgi-bin/token`` mints a new token per call without invalidating the old
ones, and ``client_msg_id`` is recorded but not deduplicated (WeChat's exact behaviour is unknown).
"""

from __future__ import annotations

import json
import mimetypes
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import count
from typing import Any, Final

from aiohttp import web
from yarl import URL

STABLE_TOKEN: Final = "/cgi-bin/stable_token"
TOKEN: Final = "/cgi-bin/token"
CUSTOM_SEND: Final = "/cgi-bin/message/custom/send"
TEMPLATE_SEND: Final = "/cgi-bin/message/template/send"
MEDIA_GET: Final = "/cgi-bin/media/get"
MENU_CREATE: Final = "/cgi-bin/menu/create"
AUTHORIZE: Final = "/connect/oauth2/authorize"
OAUTH_TOKEN: Final = "/sns/oauth2/access_token"
USER_COOKIE: Final = "fake_wechat_user"
CODE_TTL: Final = 300

TOKEN_TTL: Final = 7200

ERRMSGS: Final = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40007: "invalid media_id",
    40013: "invalid appid",
    40014: "invalid access_token",
    40016: "invalid button size",
    40029: "invalid code",
    40125: "invalid appsecret",
    40163: "code been used",
    41001: "access_token missing",
    42001: "access_token expired",
    43004: "require subscribe",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    47001: "data format error",
    48001: "api unauthorized",
}

_Handler = Callable[[web.Request, dict[str, Any] | None], Awaitable[web.Response]]


@dataclass(frozen=True)
class Call:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    json: dict[str, Any] | None
    """The JSON object posted, or None (GET, or a body that is not a JSON object)."""
    body: bytes
    """The raw request body (b"" for GET)."""


def _error(errcode: int, content_type: str = "application/json") -> web.Response:
    """WeChat's error answer: HTTP 200 with ``{"errcode", "errmsg"}``."""
    body = {"errcode": errcode, "errmsg": ERRMSGS.get(errcode, "error")}
    return web.Response(text=json.dumps(body), content_type=content_type)


def _ok(**fields: Any) -> web.Response:
    return web.json_response({"errcode": 0, "errmsg": "ok", **fields}, dumps=_dumps)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class FakeWeChatApi:
    """The WeChat API of one Official Account, in memory; ``clock`` is monotonic seconds."""

    def __init__(
        self,
        app_id: str = "wx-fake-app",
        app_secret: str = "fake-secret",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.calls: list[Call] = []
        self.sent: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        """The message bodies accepted by custom/send and template/send, per openid, in order."""
        self._clock = clock
        self._failures: defaultdict[str, deque[int]] = defaultdict(deque)
        self._tokens: dict[str, float] = {}
        self._stable_token: str | None = None
        self._media: dict[str, tuple[bytes, str]] = {}
        self._codes: dict[str, tuple[str, float]] = {}
        self._used_codes: set[str] = set()
        self._serial = count(1)
        self.menu: list[dict[str, Any]] = []
        """The buttons of the last menu/create."""
        self.web_user = "oFakeWebUser"
        """Who authorises when no ``fake_wechat_user`` cookie says otherwise."""
        self.app = web.Application()
        self._route("POST", STABLE_TOKEN, self._post_stable_token, needs_token=False)
        self._route("GET", TOKEN, self._get_token, needs_token=False)
        self._route("POST", CUSTOM_SEND, self._custom_send)
        self._route("POST", TEMPLATE_SEND, self._template_send)
        self._route("GET", MEDIA_GET, self._media_get)
        self._route("POST", MENU_CREATE, self._menu_create)
        self._route("GET", OAUTH_TOKEN, self._oauth_token, needs_token=False)
        self.app.router.add_get(AUTHORIZE, self._authorize)

    def fail(self, path: str, errcode: int, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``path`` with ``errcode`` (before any other check)."""
        self._failures[path].extend([errcode] * times)

    def expire_tokens(self) -> None:
        """Expire every token issued so far: calls with them get 42001."""
        now = self._clock()
        self._tokens = dict.fromkeys(self._tokens, now)

    def add_media(self, media_id: str, content: bytes, content_type: str) -> None:
        self._media[media_id] = (content, content_type)

    def calls_to(self, path: str) -> list[Call]:
        return [call for call in self.calls if call.path == path]

    def _route(self, method: str, path: str, handler: _Handler, needs_token: bool = True) -> None:
        async def serve(request: web.Request) -> web.Response:
            raw = await request.read()
            body = _json_object(raw)
            self.calls.append(Call(request.method, path, dict(request.query), body, raw))
            if self._failures[path]:
                return _error(self._failures[path].popleft())
            if needs_token and (errcode := self._token_errcode(request.query.get("access_token"))):
                return _error(errcode)
            return await handler(request, body)

        self.app.router.add_route(method, path, serve)

    def _token_errcode(self, token: str | None) -> int:
        if not token:
            return 41001
        if token not in self._tokens:
            return 40014
        return 42001 if self._tokens[token] <= self._clock() else 0

    def _credentials_errcode(self, fields: dict[str, Any]) -> int:
        if fields.get("grant_type") != "client_credential":
            return 40002
        if fields.get("appid") != self.app_id:
            return 40013
        return 40125 if fields.get("secret") != self.app_secret else 0

    def _mint_token(self) -> str:
        token = f"fake-access-token-{next(self._serial)}"
        self._tokens[token] = self._clock() + TOKEN_TTL
        return token

    def _token_answer(self, token: str) -> web.Response:
        expires_in = int(self._tokens[token] - self._clock())
        return web.json_response({"access_token": token, "expires_in": expires_in})

    async def _post_stable_token(self, request: web.Request, body: dict[str, Any] | None) -> web.Response:
        """Normal mode hands out the same token while it is valid; force_refresh replaces it."""
        if body is None:
            return _error(47001)
        if errcode := self._credentials_errcode(body):
            return _error(errcode)
        stable = self._stable_token
        if body.get("force_refresh") is True and stable is not None:
            del self._tokens[stable]
        elif stable is not None and self._token_errcode(stable) == 0:
            return self._token_answer(stable)
        self._stable_token = self._mint_token()
        return self._token_answer(self._stable_token)

    async def _get_token(self, request: web.Request, body: dict[str, Any] | None) -> web.Response:
        if errcode := self._credentials_errcode(dict(request.query)):
            return _error(errcode)
        return self._token_answer(self._mint_token())

    async def _custom_send(self, request: web.Request, body: dict[str, Any] | None) -> web.Response:
        msgtype = None if body is None else body.get("msgtype")
        if body is None or not isinstance(msgtype, str) or msgtype not in body:
            return _error(47001)
        return self._accept(body)

    async def _template_send(self, request: web.Request, body: dict[str, Any] | None) -> web.Response:
        if body is None or not body.get("template_id") or not isinstance(body.get("data"), dict):
            return _error(47001)
        return self._accept(body, msgid=next(self._serial))

    def _accept(self, body: dict[str, Any], **fields: Any) -> web.Response:
        openid = body.get("touser")
        if not isinstance(openid, str) or not openid:
            return _error(40003)
        self.sent[openid].append(body)
        return _ok(**fields)

    async def _media_get(self, request: web.Request, body: dict[str, Any] | None) -> web.Response:
        media_id = request.query.get("media_id", "")
        if media_id not in self._media:
            # Like WeChat, an error with HTTP 200, here in the text/plain it sometimes uses.
            return _error(40007, content_type="text/plain")
        content, content_type = self._media[media_id]
        filename = media_id + (mimetypes.guess_extension(content_type) or "")
        return web.Response(
            body=content,
            content_type=content_type,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    async def _menu_create(self, request: web.Request, body: dict[str, Any] | None) -> web.Response:
        buttons = None if body is None else body.get("button")
        if not isinstance(buttons, list):
            return _error(47001)
        if not 1 <= len(buttons) <= 3 or any(len(b.get("sub_button", [])) > 5 for b in buttons):
            return _error(40016)
        self.menu = buttons
        return _ok()

    async def _authorize(self, request: web.Request) -> web.Response:
        """WeChat's authorize page, agreeing at once (snsapi_base asks nothing): back to redirect_uri
        with a single-use code."""
        query = request.query
        if query.get("appid") != self.app_id:
            return web.Response(status=400, text="appid 参数错误")
        redirect, scope = query.get("redirect_uri", ""), query.get("scope")
        if not redirect.startswith(("http://", "https://")) or query.get("response_type") != "code":
            return web.Response(status=400, text="redirect_uri 参数错误")
        if scope not in {"snsapi_base", "snsapi_userinfo"}:
            return web.Response(status=400, text="scope 参数错误")
        code = f"fake-code-{next(self._serial)}"
        self._codes[code] = (request.cookies.get(USER_COOKIE) or self.web_user, self._clock() + CODE_TTL)
        location = URL(redirect).update_query(code=code, state=query.get("state", ""))
        return web.Response(status=302, headers={"Location": str(location)})

    async def _oauth_token(self, request: web.Request, body: dict[str, Any] | None) -> web.Response:
        query = request.query
        if query.get("grant_type") != "authorization_code":
            return _error(40002)
        if query.get("appid") != self.app_id:
            return _error(40013)
        if query.get("secret") != self.app_secret:
            return _error(40125)
        code = query.get("code", "")
        if code in self._used_codes:
            return _error(40163)
        if code not in self._codes:
            return _error(40029)
        self._used_codes.add(code)
        openid, expires_at = self._codes.pop(code)
        if expires_at <= self._clock():
            return _error(40029)
        return _ok(
            access_token=f"fake-web-token-{next(self._serial)}",
            expires_in=7200,
            refresh_token=f"fake-refresh-{next(self._serial)}",
            openid=openid,
            scope=query.get("scope", "snsapi_base"),
        )


def _json_object(raw: bytes) -> dict[str, Any] | None:
    """``raw`` as a JSON object, or None (empty, not JSON, not an object)."""
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
