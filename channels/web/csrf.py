"""CSRF protection for the citizen's forms: a signed double-submit token.

The token is ``<issued>.<nonce>.<signature>``, the signature being HMAC-SHA256 with the site's secret
key over the issue time and a random nonce. The same token goes into an ``HttpOnly; SameSite=Lax``
cookie and into a hidden form field; a POST is accepted only when both are present, equal, correctly
signed and not older than :data:`MAX_AGE`. The signature means a token cannot be made up by anyone
without the key (so a cookie planted from elsewhere is useless unless it was issued by us), and on
HTTPS the cookie carries the ``__Host-`` prefix, which browsers refuse to accept from a sibling
sub-domain.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
from collections.abc import Callable

from aiohttp import web

from channels.signing import keyed_digest

FIELD = "csrf_token"
COOKIE = "wz_csrf"
MAX_AGE = 24 * 3600
"""A form may be posted up to a day after its page was loaded."""
REISSUE_AFTER = 12 * 3600
"""A page reuses the visitor's token while it has at least this long left to live."""
CLOCK_SKEW = 300
"""Tolerated difference between the clocks of several gateway processes, in seconds."""

_TOKEN = re.compile(r"(\d{1,12})\.([A-Za-z0-9_-]{32})\.([A-Za-z0-9_-]{43})")
_CONTEXT = b"wenzheng/web/csrf\x00"


class CsrfTokens:
    def __init__(self, secret_key: str, *, secure: bool, clock: Callable[[], float] = time.time) -> None:
        if not secret_key:
            raise ValueError("the web channel needs a secret key to sign its CSRF tokens")
        self._key = secret_key.encode("utf-8")
        self._secure = secure
        self._clock = clock
        # "__Host-" needs Secure, Path=/ and no Domain: then no sub-domain can set the cookie for us.
        self.cookie_name = f"__Host-{COOKIE}" if secure else COOKIE

    def _sign(self, issued: str, nonce: str) -> str:
        return keyed_digest(self._key, _CONTEXT, f"{issued}.{nonce}")

    def _issued_at(self, token: str | None) -> int | None:
        """When a genuine token was issued; None for anything else."""
        if not token or len(token) > 100:
            return None
        match = _TOKEN.fullmatch(token)
        if match is None:
            return None
        issued, nonce, signature = match.groups()
        if not hmac.compare_digest(signature, self._sign(issued, nonce)):
            return None
        return int(issued)

    def new_token(self) -> str:
        issued = str(int(self._clock()))
        nonce = secrets.token_urlsafe(24)
        return f"{issued}.{nonce}.{self._sign(issued, nonce)}"

    def token_for(self, request: web.Request) -> tuple[str, bool]:
        """The token for a page's forms, and whether it is new (then the page must set the cookie)."""
        current = request.cookies.get(self.cookie_name)
        issued = self._issued_at(current)
        if current and issued is not None and -CLOCK_SKEW <= self._clock() - issued < REISSUE_AFTER:
            return current, False
        return self.new_token(), True

    def set_cookie(self, response: web.StreamResponse, token: str) -> None:
        # A session cookie: it goes when the browser closes, and the token inside expires anyway.
        response.set_cookie(
            self.cookie_name, token, path="/", httponly=True, samesite="Lax", secure=self._secure
        )

    def is_valid(self, request: web.Request, submitted: str | None) -> bool:
        """Whether a POST carries the same genuine, unexpired token in its cookie and its form."""
        cookie = request.cookies.get(self.cookie_name)
        if not cookie or not submitted or not hmac.compare_digest(cookie.encode(), submitted.encode()):
            return False
        issued = self._issued_at(cookie)
        return issued is not None and -CLOCK_SKEW <= self._clock() - issued <= MAX_AGE
