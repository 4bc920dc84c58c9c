"""Fetching the photos, voices and videos citizens send, before WeChat's media ids expire (3 days).

Each file is kept under the data directory as ``attachments/<inquiry id>/<sha256 prefix>-<name>``; the
name WeChat gives is reduced to its last path component and safe characters, so a hostile header
cannot write outside that folder.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import datetime
from pathlib import Path

from channels.wechat.api import WeChatApi, WeChatApiError
from core import retry
from core.models import Attachment
from core.vocab import Channel

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_filename(name: str, fallback: str) -> str:
    base = _UNSAFE.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).lstrip(".")
    return base[:100] or fallback


async def fetch_media(api: WeChatApi, storage: Path, now: datetime, limit: int = 20) -> int:
    """Fetch the due media once each; returns how many were stored."""
    stored = 0
    due = (
        await Attachment.filter(channel=Channel.WECHAT, state="pending", next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .limit(limit)
    )
    for row in due:
        if not await retry.claim(row, now):
            continue
        try:
            body, content_type, filename = await api.download_media(row.media_id)
        except WeChatApiError as error:
            await retry.failed(row, now, f"{error.errcode} {error.errmsg}", retryable=error.retryable)
            continue
        digest = hashlib.sha256(body).hexdigest()
        name = safe_filename(filename, row.media_id[:40] or "media")
        relative = Path(str(row.inquiry_id)) / f"{digest[:16]}-{name}"  # type: ignore[attr-defined]
        await asyncio.to_thread(_write, storage / relative, body)
        await Attachment.filter(id=row.id).update(
            state="stored",
            filename=name,
            content_type=content_type[:100],
            size=len(body),
            sha256=digest,
            storage_path=str(relative),
            last_error="",
        )
        stored += 1
    return stored


def _write(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
