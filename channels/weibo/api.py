"""An asyncio client of the Weibo API v2 endpoints the channel needs (protocols.md §4.2–§4.6), on aiohttp.

The access token comes from the config (Weibo's OAuth2 gives no refresh token: when it expires, the
account is authorised again by a person, so token errors are :attr:`WeiboApiError.permission`). Every
method is exactly one request; whether and when to repeat it is the caller's decision, guided by
:attr:`WeiboApiError.retryable` and :attr:`WeiboApiError.rate_limited`.

Weibo answers errors as ``{"request": "/2/…", "error_code": "10014", "error": "…"}`` (the code a string
or a number) with an HTTP 4xx/5xx status. Ids in the answers stay exact: Python's json reads big
integers as ``int``, and the items also carry them as ``idstr`` strings.
"""

from __future__ import annotations

from typing import Any, Final

import aiohttp

from channels.weibo.replies import message_data
from channels.weibo.security import WeiboRejected, json_object

DEFAULT_API_BASE: Final = "https://api.weibo.com"
DEFAULT_MESSAGES_BASE: Final = "https://m.api.weibo.com"
"""The fans-service ``messages/reply`` lives on its own host."""
DEFAULT_TIMEOUT: Final = aiohttp.ClientTimeout(total=15)

STATUSES_MENTIONS: Final = "/2/statuses/mentions.json"
COMMENTS_MENTIONS: Final = "/2/comments/mentions.json"
COMMENTS_CREATE: Final = "/2/comments/create.json"
COMMENTS_REPLY: Final = "/2/comments/reply.json"
MESSAGES_REPLY: Final = "/2/messages/reply.json"

MAX_COUNT: Final = 200
"""The largest page the mentions endpoints serve."""

TRANSPORT_ERROR: Final = -2
"""The code of failures before Weibo answered: connection errors, timeouts, HTTP errors without Weibo's
error body, answers that are not the JSON expected. (Weibo's own codes are positive.)"""

RATE_LIMIT_CODES: Final = frozenset({10022, 10023, 10024})
"""IP, user, and user-per-endpoint request limits exceeded; they lift by themselves within the hour."""

PERMISSION_CODES: Final = frozenset({10004, 10005, 10006, 10014, 21301, *range(21314, 21320), 21327, 21332})
"""Refusals only a person can lift: the IP is barred (10004), the app lacks the permission
(10005, 10014), the token is missing, used, expired, revoked or invalid (10006, 21301, 21314–21319,
21327, 21332): authorise the account again or apply for the API in the console."""

RETRYABLE_CODES: Final = frozenset({TRANSPORT_ERROR, 10001, 10002, 10003, 10009})
"""System error, service unavailable, remote service error, too many pending tasks, and transport."""

DUPLICATE_CODES: Final = frozenset({20019})
""""Repeated weibo text": the same text was just posted. For a comment or a reply the caller counts it
as delivered already (an earlier attempt went through) rather than as a failure."""


class WeiboApiError(Exception):
    """Weibo answered an error, or no usable answer came (code ``TRANSPORT_ERROR``).

    ``http_status`` is the HTTP status of the answer when there was one.
    """

    def __init__(self, code: int, message: str, http_status: int | None = None) -> None:
        super().__init__(f"Weibo API error {code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status

    @property
    def rate_limited(self) -> bool:
        """A request limit was hit (10022–10024, or HTTP 429 from anything in front of Weibo)."""
        return self.code in RATE_LIMIT_CODES or self.http_status == 429

    @property
    def permission(self) -> bool:
        """The token or the app's permissions need a person (see :data:`PERMISSION_CODES`)."""
        return self.code in PERMISSION_CODES

    @property
    def duplicate(self) -> bool:
        """The text was refused as a repeat of the one just posted (see :data:`DUPLICATE_CODES`)."""
        return self.code in DUPLICATE_CODES

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed later: rate limits, busy or failing servers, transport."""
        return self.code in RETRYABLE_CODES or self.rate_limited


class WeiboApi:
    """The Weibo API for one account, authorised by ``access_token``.

    ``rip`` is the real IP of the operating user, which the current wiki marks required on comments
    (protocols.md §4.3); it is sent when set.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        access_token: str,
        api_base: str = DEFAULT_API_BASE,
        messages_base: str = DEFAULT_MESSAGES_BASE,
        *,
        rip: str = "",
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._session = session
        self._access_token = access_token
        self._api_base = api_base.rstrip("/")
        self._messages_base = messages_base.rstrip("/")
        self._rip = rip
        self._timeout = timeout

    async def statuses_mentions(
        self, since_id: str | None = None, max_id: str | None = None, count: int = 50
    ) -> list[dict[str, Any]]:
        """Statuses that @-mention the account, newest first: ids above ``since_id``, up to ``max_id``."""
        return await self._mentions(STATUSES_MENTIONS, "statuses", since_id, max_id, count)

    async def comments_mentions(
        self, since_id: str | None = None, max_id: str | None = None, count: int = 50
    ) -> list[dict[str, Any]]:
        """Comments that @-mention the account, newest first, like :meth:`statuses_mentions`."""
        return await self._mentions(COMMENTS_MENTIONS, "comments", since_id, max_id, count)

    async def create_comment(self, status_id: str, text: str) -> dict[str, Any]:
        """Comment ``text`` on a status (≤140 characters: :func:`~channels.weibo.replies.comment_text`)."""
        form = {"id": status_id, "comment": text}
        return await self._post(self._api_base, COMMENTS_CREATE, form)

    async def reply_comment(self, comment_id: str, status_id: str, text: str) -> dict[str, Any]:
        """Reply to a comment; Weibo prefixes "回复@<name>:" (``without_mention=0``) so its author is told."""
        form = {"cid": comment_id, "id": status_id, "comment": text, "without_mention": "0"}
        return await self._post(self._api_base, COMMENTS_REPLY, form)

    async def reply_message(self, receiver_id: str, text: str) -> dict[str, Any]:
        """A fans-service private text reply (within 48 h of the citizen's message; one after an @ event).

        ``data`` is the URL-encoded JSON of the passive reply, sent as a form value (so the form encodes
        it once more), as the documentation asks for both. ``save_sender_box=1`` keeps the reply in the
        account's sent box, where the staff see it on weibo.com.
        """
        form = {"receiver_id": receiver_id, "type": "text", "data": message_data(text)}
        form["save_sender_box"] = "1"
        return await self._post(self._messages_base, MESSAGES_REPLY, form)

    async def _mentions(
        self, path: str, key: str, since_id: str | None, max_id: str | None, count: int
    ) -> list[dict[str, Any]]:
        if not 1 <= count <= MAX_COUNT:
            raise ValueError(f"count must be 1 to {MAX_COUNT}")
        params = {"access_token": self._access_token, "count": str(count)}
        if since_id:
            params["since_id"] = since_id
        if max_id:
            params["max_id"] = max_id
        answer = await self._request("GET", self._api_base, path, params=params)
        items = answer.get(key)
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise WeiboApiError(TRANSPORT_ERROR, f"{path} answered no {key} list")
        return items

    async def _post(self, base: str, path: str, form: dict[str, str]) -> dict[str, Any]:
        form = {**form, "access_token": self._access_token}
        if self._rip:
            form["rip"] = self._rip
        return await self._request("POST", base, path, data=form)

    async def _request(
        self,
        method: str,
        base: str,
        path: str,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """One HTTP exchange, its answer a JSON object without ``error_code``."""
        try:
            async with self._session.request(
                method, base + path, params=params, data=data, timeout=self._timeout
            ) as response:
                status, body = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            # The message names the path only: the URL may carry the access token.
            raise WeiboApiError(TRANSPORT_ERROR, f"{type(error).__name__} on {path}") from error
        answer: dict[str, Any] | None
        try:
            answer = json_object(body.decode("utf-8"))
        except (UnicodeDecodeError, WeiboRejected):
            answer = None
        if answer is not None and "error_code" in answer:
            raise WeiboApiError(_code(answer["error_code"]), str(answer.get("error", "")), status)
        if status >= 400 or answer is None:
            raise WeiboApiError(TRANSPORT_ERROR, f"HTTP {status} from {path} without a Weibo answer", status)
        return answer


def _code(value: Any) -> int:
    """Weibo's error_code, a number or a string of digits; anything else counts as a transport error."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return TRANSPORT_ERROR
