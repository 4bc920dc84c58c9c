"""Rendering the citizen's pages: the Jinja environment (autoescaped) and the headers every page carries."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from channels.web.present import beijing_day, beijing_time

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

SECURITY_HEADERS: Mapping[str, str] = {
    # No scripts at all; styles from our own stylesheet only; forms post to us only.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Case pages carry the query code in their address: never send it on to another site.
    "Referrer-Policy": "no-referrer",
    # Pages may hold a query code or a form token: keep them out of shared caches and history caches.
    "Cache-Control": "no-store",
}


def wait_text(seconds: int) -> str:
    """``30 秒``, ``5 分钟``, ``3 小时``: how long to wait, rounded up."""
    if seconds < 60:
        return f"{seconds} 秒"
    if seconds < 3600:
        return f"{math.ceil(seconds / 60)} 分钟"
    return f"{math.ceil(seconds / 3600)} 小时"


class HtmlPages:
    """Server-rendered pages from one template folder: autoescaped, strict Jinja, and the same security
    headers on every response."""

    def __init__(self, folder: Path, headers: Mapping[str, str], site: Mapping[str, Any]) -> None:
        self.env = Environment(
            loader=FileSystemLoader(folder),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        self.env.filters["beijing"] = beijing_time
        self.env.globals.update(site)
        self.headers = headers

    def render(self, template: str, context: Mapping[str, Any], *, status: int = 200) -> web.Response:
        body = self.env.get_template(template).render(**context)
        response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
        response.headers.update(self.headers)
        return response


class Pages(HtmlPages):
    """The citizen's pages."""

    def __init__(self, site: Mapping[str, Any]) -> None:
        super().__init__(TEMPLATES, SECURITY_HEADERS, site)
        self.env.filters["month_day"] = beijing_day

    def message(
        self,
        status: int,
        title: str,
        text: str,
        *,
        links: tuple[tuple[str, str], ...] = (("/", "返回首页"),),
    ) -> web.Response:
        """A short page that explains a refusal (400, 403, 404, 409, 429) and where to go next."""
        return self.render("message.html", {"title": title, "text": text, "links": links}, status=status)
