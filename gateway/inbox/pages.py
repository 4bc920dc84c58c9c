"""Rendering the inbox's pages: an autoescaped Jinja environment and the inbox's security headers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from channels.web.pages import SECURITY_HEADERS as CITIZEN_HEADERS
from channels.web.pages import HtmlPages

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS: Mapping[str, str] = {
    **CITIZEN_HEADERS,
    # As the citizen pages, but the inbox runs its own live-update script (static/live.js), which reads
    # the event stream and fetches fresh page parts from us: scripts and connections to us only.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}


class InboxPages(HtmlPages):
    def __init__(self, site: Mapping[str, Any]) -> None:
        super().__init__(TEMPLATES, SECURITY_HEADERS, site)
