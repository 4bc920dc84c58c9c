"""The two signatures the channels compute: the platforms' SHA-1 over sorted parts, and our own keyed
digests for tokens and cookies."""

from __future__ import annotations

import base64
import hashlib
import hmac


def sorted_sha1(*parts: str) -> str:
    """The hex SHA-1 of ``parts`` sorted and joined: how WeChat and Weibo sign their pushes."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8", "surrogatepass")).hexdigest()


def keyed_digest(key: bytes, context: bytes, payload: str) -> str:
    """HMAC-SHA256 of ``context`` + ``payload`` under ``key``, base64url without padding. ``context``
    keeps a digest made for one purpose (a CSRF token) from passing for another (an identity cookie)."""
    digest = hmac.new(key, context + payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
