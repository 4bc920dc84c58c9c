"""What the web channel needs from the gateway's configuration."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from core.vocab import Channel


@dataclass(frozen=True)
class WebOptions:
    public_base_url: str
    secret_key: str
    """Signs the CSRF tokens of the citizen's forms."""
    max_content_chars: int = 5000
    submissions_per_minute: int = 5
    submissions_per_day: int = 50
    """Form and rating submissions allowed per client address."""
    city_name: str = "乌鲁木齐市"
    """Shown in the pages' header and titles."""


@dataclass(frozen=True)
class ChatIdentity:
    """The citizen's account on a chat channel, when the form was opened from it (WeChat's menu)."""

    channel: Channel
    external_id: str


Identify = Callable[[web.Request], ChatIdentity | None]
"""Who the citizen filling in the form is on a chat channel, if anyone can tell."""
