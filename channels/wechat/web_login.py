"""Web-page authorisation (网页授权, ``snsapi_base``; protocols.md §2.6): the web form opened from the
custom menu learns the citizen's openid, so the inquiry belongs to their WeChat identity and its answer
comes back in WeChat.

``GET /channels/wechat/web?next=/submit`` (the menu's view button) sets a random ``state`` in a short-lived
cookie and sends the browser to WeChat's authorize page; WeChat sends it back to
``/channels/wechat/oauth?code=…&state=…``. There the state must equal the cookie's (else someone else's
code could be planted on this browser, and the inquiry, its answer and the citizen's contact details would
go to that someone), the code is exchanged for the openid, and the openid is kept in a signed
``HttpOnly`` cookie for :data:`IDENTITY_MAX_AGE`. :meth:`WeChatWebLogin.openid` reads it back for the web
channel.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import quote, unquote, urlencode

from aiohttp import web

from channels.signing import keyed_digest
from channels.wechat.api import WeChatApiError

log = logging.getLogger(__name__)

ENTRY_PATH: Final = "/channels/wechat/web"
RETURN_PATH: Final = "/channels/wechat/oauth"
AUTHORIZE_PATH: Final = "/connect/oauth2/authorize"
IDENTITY_COOKIE: Final = "wz_wechat"
STATE_COOKIE: Final = "wz_wechat_state"
IDENTITY_MAX_AGE: Final = 2 * 3600
"""How long a form opened from WeChat stays tied to the citizen: long enough to write an inquiry."""
STATE_MAX_AGE: Final = 600
DEFAULT_NEXT: Final = "/submit"

_STATE = re.compile(r"[A-Za-z0-9_-]{22,64}")
_OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CODE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_NEXT = re.compile(r"/(?![/\\])[A-Za-z0-9/_.?=&%-]{0,200}")
"""A path on this site: one leading slash (``//host`` would leave it), no backslash, no scheme."""
_CONTEXT: Final = b"wenzheng/wechat/openid\x00"

Exchange = Callable[[str], Awaitable[str]]
"""code → openid (:meth:`channels.wechat.api.WeChatApi.oauth_openid`)."""


class WeChatWebLogin:
    def __init__(
        self,
        exchange: Exchange,
        app_id: str,
        oauth_base: str,
        public_base_url: str,
        secret_key: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not secret_key:
            raise ValueError("web-page authorisation needs a secret key to sign the citizen's cookie")
        self._exchange = exchange
        self._app_id = app_id
        self._authorize_url = oauth_base.rstrip("/") + AUTHORIZE_PATH
        self._return_url = public_base_url.rstrip("/") + RETURN_PATH
        self._key = secret_key.encode()
        self._secure = public_base_url.startswith("https://")
        self._clock = clock

    def routes(self) -> list[web.RouteDef]:
        return [web.get(ENTRY_PATH, self.start), web.get(RETURN_PATH, self.finish)]

    async def start(self, request: web.Request) -> web.Response:
        """Off to WeChat's authorize page, with a fresh state remembered in a cookie."""
        target = request.query.get("next", DEFAULT_NEXT)
        if not _NEXT.fullmatch(target):
            return _refuse(400, "next 只能是本站的页面地址。")
        state = secrets.token_urlsafe(24)
        query = urlencode(
            {
                "appid": self._app_id,
                "redirect_uri": self._return_url,
                "response_type": "code",
                "scope": "snsapi_base",
                "state": state,
            },
            quote_via=quote,
        )
        response = _redirect(302, f"{self._authorize_url}?{query}#wechat_redirect")
        self._set_cookie(
            response, STATE_COOKIE, f"{state}.{quote(target, safe='')}", STATE_MAX_AGE, RETURN_PATH
        )
        return response

    async def finish(self, request: web.Request) -> web.Response:
        """WeChat's redirect back: check the state, exchange the code, remember the openid."""
        remembered = request.cookies.get(STATE_COOKIE, "").split(".", 1)
        state, code = request.query.get("state", ""), request.query.get("code", "")
        if len(remembered) != 2 or not _STATE.fullmatch(state):
            return _refuse(400, "授权请求已过期或不是从本站发起的，请从公众号菜单重新打开。")
        if not hmac.compare_digest(state, remembered[0]):
            return _refuse(400, "授权请求与本浏览器不符，请从公众号菜单重新打开。")
        if not _CODE.fullmatch(code):
            return _refuse(400, "未获得微信授权，请从公众号菜单重新打开。")
        try:
            openid = await self._exchange(code)
        except WeChatApiError as error:
            log.warning("web-page authorisation failed: %s", error, extra={"channel": "wechat"})
            if error.retryable:
                return _refuse(502, "暂时无法连接微信，请稍后从公众号菜单重新打开。")
            return _refuse(400, "微信授权已失效，请从公众号菜单重新打开。")
        if not _OPENID.fullmatch(openid):
            return _refuse(502, "微信返回的用户标识无法识别，请稍后重试。")
        target = _unquote_next(remembered[1])
        response = _redirect(303, target)
        expires = int(self._clock()) + IDENTITY_MAX_AGE
        self._set_cookie(response, IDENTITY_COOKIE, self._signed(openid, expires), IDENTITY_MAX_AGE, "/")
        response.del_cookie(STATE_COOKIE, path=RETURN_PATH)
        return response

    def openid(self, request: web.Request) -> str | None:
        """The openid this browser was authorised as, while its signed cookie is genuine and fresh."""
        parts = request.cookies.get(IDENTITY_COOKIE, "").split(".")
        if len(parts) != 3 or not _OPENID.fullmatch(parts[0]) or not parts[1].isdigit():
            return None
        openid, expires = parts[0], int(parts[1])
        if expires < self._clock() or not hmac.compare_digest(self._signed(openid, expires), ".".join(parts)):
            return None
        return openid

    def _signed(self, openid: str, expires: int) -> str:
        payload = f"{openid}.{expires}"
        return f"{payload}.{keyed_digest(self._key, _CONTEXT, payload)}"

    def _set_cookie(
        self, response: web.StreamResponse, name: str, value: str, max_age: int, path: str
    ) -> None:
        response.set_cookie(
            name, value, max_age=max_age, path=path, httponly=True, samesite="Lax", secure=self._secure
        )


def _unquote_next(quoted: str) -> str:
    target = unquote(quoted)
    return target if _NEXT.fullmatch(target) else DEFAULT_NEXT


def _redirect(status: int, location: str) -> web.Response:
    return web.Response(status=status, headers={"Location": location, "Cache-Control": "no-store"})


def _refuse(status: int, reason: str) -> web.Response:
    return web.Response(status=status, text=reason, content_type="text/plain", charset="utf-8")
