"""Staff sign-in for the API: argon2 password hashes and bearer tokens stored as SHA-256 digests."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.models import Staff, StaffToken

_hasher = PasswordHasher()
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("wenzheng-no-such-user")
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def authenticate(username: str, password: str) -> Staff | None:
    staff = await Staff.get_or_none(username=username, active=True)
    # argon2 takes tens of milliseconds of CPU on purpose: off the event loop, so sign-ins do not stall
    # every other request
    matches = await asyncio.to_thread(_verify, staff.password_hash if staff else _DUMMY_HASH, password)
    return staff if matches and staff is not None else None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def issue_token(staff: Staff, hours: int) -> tuple[str, datetime]:
    token = secrets.token_urlsafe(32)
    expires_at = datetime.now(UTC) + timedelta(hours=hours)
    await StaffToken.create(token_hash=_digest(token), staff=staff, expires_at=expires_at)
    return token, expires_at


async def staff_for_token(token: str) -> Staff | None:
    """The active staff member a live token belongs to, with their unit (every page and /me shows it)."""
    row = await StaffToken.get_or_none(token_hash=_digest(token)).select_related("staff__unit")
    if row is None or row.expires_at <= datetime.now(UTC) or not row.staff.active:
        return None
    return row.staff
