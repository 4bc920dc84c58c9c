"""Rendering the inbox's pages: an autoescaped Jinja environment and the inbox's security headers."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from channels.web.pages import SECURITY_HEADERS as CITIZEN_HEADERS
from channels.web.present import beijing_time

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


class InboxPages:
    def __init__(self, site: Mapping[str, Any]) -> None:
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.env.filters["beijing"] = beijing_time
        self.env.globals.update(site)

    def render(self, template: str, context: Mapping[str, Any], *, status: int = 200) -> web.Response:
        body = self.env.get_template(template).render(**context)
        response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
        response.headers.update(SECURITY_HEADERS)
        return response
