"""The one inbound message every channel normalises into (product.md §2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.vocab import Channel


@dataclass(frozen=True)
class InboundMessage:
    channel: Channel
    sender: str
    """The citizen's id on the channel: a WeChat openid, a Weibo uid."""
    kind: str
    """text, image, voice, video, shortvideo, location, link or event."""
    sent_at: datetime
    """Aware UTC: the platform's CreateTime."""
    raw: str
    """The payload exactly as received (decrypted XML for WeChat's safe mode)."""
    text: str = ""
    """Text content; a voice message's recognition text; a link's title and URL; a location's label."""
    media_id: str = ""
    latitude: float | None = None
    longitude: float | None = None
    event: str = ""
    """For kind "event": subscribe, unsubscribe, scan, click, view, location, templatesendjobfinish, ..."""
    event_key: str = ""
    platform_id: str = ""
    """The platform's message id (WeChat MsgId; a template job's MsgID); empty for most events."""
    unique_id: str = ""
    """An id that names the message platform-wide whoever sends it (a Weibo status or comment, or the
    original status of a repost): when set, the dedupe key is the channel and this id alone."""

    @property
    def dedupe_key(self) -> str:
        """Stable across the platform's retries: sender + message id, or for events sender + time + event
        + key (message ids repeat across users, and events have none); or the platform-wide
        :attr:`unique_id`."""
        if self.unique_id:
            return f"{self.channel.value}:{self.unique_id}"
        if self.platform_id and self.kind != "event":
            return f"{self.channel.value}:{self.sender}:{self.platform_id}"
        stamp = int(self.sent_at.timestamp())
        return f"{self.channel.value}:{self.sender}:{stamp}:{self.event}:{self.event_key}"
