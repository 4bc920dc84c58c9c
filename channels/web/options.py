"""What the web channel needs from the gateway's configuration."""

from __future__ import annotations

from dataclasses import dataclass


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
