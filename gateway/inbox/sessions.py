"""Inbox sessions: a random token in an HttpOnly cookie, kept server-side as a ``StaffToken`` digest.

A session is a staff token like the API's bearer tokens (same table, same SHA-256 digest), so signing
out deletes one row and a password change can revoke every other session and API token at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from aiohttp import web

from channels.web.csrf import CsrfTokens
from core.models import Staff, StaffToken
from gateway.auth import _digest as token_digest
from gateway.auth import issue_token, staff_for_token

COOKIE = "wz_session"
COOKIE_PATH = "/inbox"
CSRF_COOKIE = "wz_inbox_csrf"
HOME = "/inbox"


@dataclass(frozen=True)
class Session:
    token: str
    staff: Staff


async def current(request: web.Request) -> Session | None:
    """The live session named by the request's cookie, if any."""
    token = request.cookies.get(COOKIE, "")
    if not token or len(token) > 100:
        return None
    staff = await staff_for_token(token)
    return Session(token, staff) if staff is not None else None


async def start(request: web.Request, response: web.StreamResponse, staff: Staff, hours: int) -> None:
    """Sign ``staff`` in with a new session. Any session the browser sent is ended first, so a token
    planted before sign-in (session fixation) never becomes a signed-in session."""
    await end(request, response)
    await StaffToken.filter(staff_id=staff.id, expires_at__lte=datetime.now(UTC)).delete()
    token, _ = await issue_token(staff, hours)
    # No Max-Age: the cookie goes when the browser closes; the server ends the session after ``hours``.
    response.set_cookie(COOKIE, token, path=COOKIE_PATH, httponly=True, samesite="Lax", secure=request.secure)


async def end(request: web.Request, response: web.StreamResponse) -> None:
    """Delete the request's session, if it names one, and tell the browser to drop the cookie."""
    token = request.cookies.get(COOKIE)
    if token:
        await StaffToken.filter(token_hash=token_digest(token)).delete()
        response.del_cookie(COOKIE, path=COOKIE_PATH)


async def revoke_others(session: Session) -> int:
    """End every other session and API token of the session's staff member; how many there were."""
    return await (
        StaffToken.filter(staff_id=session.staff.id).exclude(token_hash=token_digest(session.token)).delete()
    )


class SessionCsrf(CsrfTokens):
    """The citizen pages' signed double-submit tokens, bound to one inbox session.

    The signing key is the site's secret plus the session's digest, so a token taken from another
    session, from before sign-in or from the citizen pages is refused; and the inbox keeps its tokens in
    a cookie of its own, so the two sites never overwrite each other's.
    """

    def __init__(self, secret_key: str, session: Session | None, *, secure: bool) -> None:
        bound_to = token_digest(session.token) if session else "signed-out"
        super().__init__(f"{secret_key}\x00inbox\x00{bound_to}", secure=secure)
        self.cookie_name = f"__Host-{CSRF_COOKIE}" if secure else CSRF_COOKIE


def safe_next(target: str | None) -> str:
    """``target`` when it is a path inside the inbox, else the inbox's home.

    Only a relative path under /inbox is followed after sign-in: anything with a scheme or a host
    (``https://evil.example``, ``//evil.example``, ``/\\evil.example``) would make the sign-in page an
    open redirect.
    """
    if not target or len(target) > 2000 or not target.isprintable() or "\\" in target:
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not (parts.path == HOME or parts.path.startswith(HOME + "/")):
        return HOME
    return target
