"""Security of the fans-service (粉丝服务) push: signature, replay window, body checks (protocols.md §4.6).

Weibo signs the console's URL verification (GET) and every push (POST) alike, with
``signature = sha1("".join(sorted([app_secret, timestamp, nonce])))`` in the query; ``timestamp`` is in
milliseconds. Unlike WeChat there is no encrypted mode: the body is plain JSON. Everything a caller can
get wrong comes out as :class:`WeiboRejected` with the HTTP status to answer.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from channels.signing import sorted_sha1

MAX_BODY = 64 * 1024
"""Largest push body accepted; a private message is capped by Weibo well below this."""

_SIGNATURE = re.compile(r"[0-9a-f]{40}")
_MILLISECONDS = re.compile(r"[0-9]{1,15}")


class WeiboRejected(Exception):
    """A push, verification request or payload that must not be handled; ``status`` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Push:
    """An authenticated push: its body as received and the JSON object in it."""

    raw: str
    payload: Mapping[str, Any] = field(repr=False)


def signature(app_secret: str, timestamp: str, nonce: str) -> str:
    """The signature Weibo puts on a push sent at ``timestamp`` (milliseconds) with ``nonce``."""
    return sorted_sha1(app_secret, timestamp, nonce)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def json_object(text: str) -> dict[str, Any]:
    """``text`` as a JSON object (NaN and Infinity refused); 400 when it is not one."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError:
        raise WeiboRejected(400, "malformed JSON") from None
    if not isinstance(value, dict):
        raise WeiboRejected(400, "JSON body is not an object")
    return value


class PushSecurity:
    """Authenticates the fans-service pushes of one account, signed with its AppSecret.

    ``replay_window_seconds`` is the largest accepted distance between a push's timestamp and
    ``clock()`` (Unix seconds); 0 turns the check off (the official 2014 vector needs that).
    """

    def __init__(
        self, app_secret: str, replay_window_seconds: int = 300, clock: Callable[[], float] = time.time
    ) -> None:
        if not app_secret:
            raise ValueError("the fans-service push needs the AppSecret: without it any signature is forged")
        if replay_window_seconds < 0:
            raise ValueError("the replay window cannot be negative")
        self._app_secret = app_secret
        self._window = replay_window_seconds
        self._clock = clock

    def verify_url(self, query: Mapping[str, str]) -> str:
        """The ``echostr`` to answer the console's URL verification with, verbatim."""
        self.check(query)
        return _required(query, "echostr")

    def open(self, query: Mapping[str, str], body: bytes) -> Push:
        """Authenticate a push and read its JSON object."""
        if len(body) > MAX_BODY:
            raise WeiboRejected(413, f"body of {len(body)} bytes exceeds {MAX_BODY}")
        self.check(query)
        try:
            raw = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WeiboRejected(400, "body is not UTF-8") from None
        return Push(raw, json_object(raw))

    def check(self, query: Mapping[str, str]) -> None:
        """Check ``signature`` (in constant time) and the replay window of a GET or POST query."""
        given = _required(query, "signature")
        timestamp = _required(query, "timestamp")
        nonce = _required(query, "nonce")
        if not _MILLISECONDS.fullmatch(timestamp):
            raise WeiboRejected(400, "timestamp is not a Unix time in milliseconds")
        expected = signature(self._app_secret, timestamp, nonce)
        if not _SIGNATURE.fullmatch(given) or not hmac.compare_digest(expected, given):
            raise WeiboRejected(403, "bad signature")
        if self._window and abs(self._clock() - int(timestamp) / 1000) > self._window:
            raise WeiboRejected(403, "timestamp outside the replay window")


def _required(query: Mapping[str, str], name: str) -> str:
    value = query.get(name)
    if not value:
        raise WeiboRejected(400, f"query parameter {name} missing")
    return value
