"""An asyncio client of the WeChat Official Account API (protocols.md §2.1–§2.5) over aiohttp.

wechatpy's client is blocking and retries token errors without bound (§0 items 2 and 8), so the few
endpoints the gateway needs are spoken here directly. Every public method is one request, plus at
most one token refresh and one repeat when WeChat rejects the token; retrying with backoff is the
caller's decision, guided by :attr:`WeChatApiError.retryable`.

The access token comes from ``POST /cgi-bin/stable_token`` in normal mode, which hands every caller
the same token while it is valid, and is cached in a :class:`TokenStore`: per process
(:class:`MemoryTokenStore`) or shared by all processes through Redis (:class:`RedisTokenStore`).
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol, TypeVar

import aiohttp
from redis.asyncio import Redis

DEFAULT_API_BASE: Final = "https://api.weixin.qq.com"
DEFAULT_TIMEOUT: Final = aiohttp.ClientTimeout(total=10)

TRANSPORT_ERROR: Final = -2
"""The errcode of failures before WeChat answered: connection errors, timeouts, HTTP errors, bodies
that are not the JSON expected. (WeChat's own codes are -1 and positive.)"""

TOKEN_ERRCODES: Final = frozenset({40001, 40014, 42001})
"""The token is not the latest, unknown, or expired: worth one fresh token and one repeat."""

QUOTA_ERRCODES: Final = frozenset({45009, 45011})
"""The API's daily and per-minute quotas: every call fails until the quota renews."""

RETRYABLE_ERRCODES: Final = frozenset({-1, TRANSPORT_ERROR, *QUOTA_ERRCODES})
"""System busy, transport failures and the API quotas: the same request may succeed later."""

TOKEN_EXPIRY_MARGIN: Final = 300
"""Seconds before WeChat's expiry at which a cached token is given up (stable_token renews then)."""

MIN_TOKEN_TTL: Final = 60

JSON_TYPES: Final = frozenset({"application/json", "text/plain"})
"""Content types media/get answers errors (and video links) in, with HTTP 200 (§2.5)."""

_T = TypeVar("_T")


class WeChatApiError(Exception):
    """WeChat answered a non-zero errcode, or no usable answer came (errcode ``TRANSPORT_ERROR``)."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later (busy, quota, network); 45015, 45047, 43004,
        40003, 48001 and other refusals are final."""
        return self.errcode in RETRYABLE_ERRCODES

    @property
    def rate_limited(self) -> bool:
        """An API quota is used up (45009, 45011): other calls would fail the same way for now."""
        return self.errcode in QUOTA_ERRCODES


class TokenStore(Protocol):
    """Where the access token is cached between calls."""

    async def get(self) -> str | None:
        """The cached token, or None when there is none or it has expired."""
        ...

    async def put(self, token: str, ttl_seconds: int) -> None:
        """Cache ``token`` for ``ttl_seconds``."""
        ...

    async def drop(self, token: str) -> None:
        """Forget ``token`` if it is still the cached one (never a newer token another caller put)."""
        ...


class MemoryTokenStore:
    """A token cache for one process; ``clock`` (monotonic seconds) is injectable for tests."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0

    async def get(self) -> str | None:
        if self._token is not None and self._clock() < self._expires_at:
            return self._token
        return None

    async def put(self, token: str, ttl_seconds: int) -> None:
        self._token = token
        self._expires_at = self._clock() + ttl_seconds

    async def drop(self, token: str) -> None:
        if self._token == token:
            self._token = None


_DROP_IF_EQUAL: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""
"""Compare-and-delete in one step, so a process never deletes the token another one just put."""


class RedisTokenStore:
    """A token cache shared by all processes through the Redis key ``key`` (``SET … EX``)."""

    def __init__(self, redis: Redis, key: str) -> None:
        self._redis = redis
        self._key = key
        self._drop_if_equal = redis.register_script(_DROP_IF_EQUAL)

    async def get(self) -> str | None:
        value = await self._redis.get(self._key)
        return value.decode() if isinstance(value, bytes) else value

    async def put(self, token: str, ttl_seconds: int) -> None:
        await self._redis.set(self._key, token, ex=ttl_seconds)

    async def drop(self, token: str) -> None:
        await self._drop_if_equal(keys=[self._key], args=[token])


@dataclass(frozen=True)
class _Reply:
    """An HTTP answer read in full."""

    body: bytes
    content_type: str
    filename: str | None


class WeChatApi:
    """The outbound WeChat API for one Official Account (``app_id``/``app_secret``)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        app_id: str,
        app_secret: str,
        api_base: str = DEFAULT_API_BASE,
        store: TokenStore | None = None,
        *,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._session = session
        self._app_id = app_id
        self._app_secret = app_secret
        self._api_base = api_base.rstrip("/")
        self._store: TokenStore = store if store is not None else MemoryTokenStore()
        self._timeout = timeout
        self._token_lock = asyncio.Lock()

    async def access_token(self) -> str:
        """The cached token, or a fresh one from stable_token (one fetch at a time in this process)."""
        token = await self._store.get()
        if token is not None:
            return token
        async with self._token_lock:
            token = await self._store.get()
            if token is None:
                token = await self._fetch_token()
            return token

    async def send_text(self, openid: str, text: str) -> None:
        """A customer-service text message (§2.2); only inside the 48 h window (else 45015)."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        await self._call("POST", "/cgi-bin/message/custom/send", json=body)

    async def send_template(
        self, openid: str, template_id: str, data: dict[str, str], url: str, client_msg_id: str
    ) -> int:
        """A template message (§2.3); ``client_msg_id`` is WeChat's idempotency key. Returns the msgid
        that the TEMPLATESENDJOBFINISH event reports on later."""
        body = {
            "touser": openid,
            "template_id": template_id,
            "url": url,
            "client_msg_id": client_msg_id,
            "data": {name: {"value": value} for name, value in data.items()},
        }
        answer = await self._call("POST", "/cgi-bin/message/template/send", json=body)
        msgid = answer.get("msgid")
        if not isinstance(msgid, int):
            raise WeChatApiError(TRANSPORT_ERROR, "template/send answered no msgid")
        return msgid

    async def create_menu(self, menu: dict[str, Any]) -> None:
        """Replace the account's custom menu (§2.6) with ``menu`` (``{"button": [...]}``)."""
        await self._call("POST", "/cgi-bin/menu/create", json=menu)

    async def oauth_openid(self, code: str) -> str:
        """The openid behind a web-page authorisation ``code`` (§2.6, ``snsapi_base``). The code is
        single-use, so this is never repeated; the exchange needs the app secret, not the access token."""
        query = {
            "appid": self._app_id,
            "secret": self._app_secret,
            "code": code,
            "grant_type": "authorization_code",
        }
        answer = _decode(await self._request("GET", "/sns/oauth2/access_token", query, None))
        openid = answer.get("openid")
        if not isinstance(openid, str) or not openid:
            raise WeChatApiError(TRANSPORT_ERROR, "oauth2/access_token answered no openid")
        return openid

    async def download_media(self, media_id: str) -> tuple[bytes, str, str]:
        """A temporary media file (§2.5) as ``(content, content_type, filename)``.

        A video comes back as WeChat's JSON ``{"video_url": …}`` itself (content type
        ``application/json``, filename ``<media_id>.json``): the link is not followed here.
        """
        return await self._with_token(lambda token: self._fetch_media(token, media_id))

    async def _call(
        self,
        method: str,
        path: str,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One API call with the access token; the answer's JSON, errcode 0."""

        async def attempt(token: str) -> dict[str, Any]:
            reply = await self._request(method, path, {**(params or {}), "access_token": token}, json)
            return _decode(reply)

        return await self._with_token(attempt)

    async def _with_token(self, attempt: Callable[[str], Awaitable[_T]]) -> _T:
        """``attempt(token)``; when WeChat rejects the token, drop it, fetch a fresh one once and
        repeat once. A second rejection is raised like any other error."""
        token = await self.access_token()
        try:
            return await attempt(token)
        except WeChatApiError as error:
            if error.errcode not in TOKEN_ERRCODES:
                raise
        await self._store.drop(token)
        return await attempt(await self.access_token())

    async def _fetch_token(self) -> str:
        body = {
            "grant_type": "client_credential",
            "appid": self._app_id,
            "secret": self._app_secret,
            "force_refresh": False,
        }
        answer = _decode(await self._request("POST", "/cgi-bin/stable_token", {}, body))
        token, expires_in = answer.get("access_token"), answer.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise WeChatApiError(TRANSPORT_ERROR, "stable_token answered no access_token")
        await self._store.put(token, max(expires_in - TOKEN_EXPIRY_MARGIN, MIN_TOKEN_TTL))
        return token

    async def _fetch_media(self, token: str, media_id: str) -> tuple[bytes, str, str]:
        query = {"access_token": token, "media_id": media_id}
        reply = await self._request("GET", "/cgi-bin/media/get", query, None)
        if reply.content_type in JSON_TYPES:
            _decode(reply)
            return reply.body, "application/json", f"{media_id}.json"
        filename = reply.filename or media_id + (mimetypes.guess_extension(reply.content_type) or "")
        return reply.body, reply.content_type, filename

    async def _request(
        self, method: str, path: str, params: dict[str, str], body: dict[str, Any] | None
    ) -> _Reply:
        """One HTTP exchange; transport failures and HTTP errors become ``TRANSPORT_ERROR``."""
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = None if body is None else {"Content-Type": "application/json"}
        try:
            async with self._session.request(
                method,
                self._api_base + path,
                params=params,
                data=data,
                headers=headers,
                timeout=self._timeout,
            ) as response:
                if response.status >= 400:
                    raise WeChatApiError(TRANSPORT_ERROR, f"HTTP {response.status} from {path}")
                disposition = response.content_disposition
                return _Reply(
                    await response.read(),
                    response.content_type,
                    disposition.filename if disposition else None,
                )
        except (aiohttp.ClientError, TimeoutError) as error:
            # The message names the path only: the URL would carry the access token or the secret.
            raise WeChatApiError(TRANSPORT_ERROR, f"{type(error).__name__} on {path}") from error


def _decode(reply: _Reply) -> dict[str, Any]:
    """The JSON object of ``reply``; WeChatApiError when it is not one or carries a non-zero errcode."""
    try:
        answer = json.loads(reply.body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise WeChatApiError(TRANSPORT_ERROR, "the answer is not a JSON object")
    errcode = answer.get("errcode", 0)
    if errcode != 0:
        code = errcode if isinstance(errcode, int) else TRANSPORT_ERROR
        raise WeChatApiError(code, str(answer.get("errmsg", "")))
    return answer
