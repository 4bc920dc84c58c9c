"""The web channel: the citizen's form, receipt, tracking and rating pages (server-rendered, 简体中文).

:func:`setup_web_channel` adds the routes of :mod:`channels.web.routes` and the stylesheet under
``/static/web/`` (over the city's base stylesheet, :mod:`channels.stylesheet`) to the gateway's
application.
"""

from __future__ import annotations

import logging
import secrets

from aiohttp import web

from channels.stylesheet import base_stylesheet_url
from channels.web.csrf import CsrfTokens
from channels.web.options import ChatIdentity, Identify, WebOptions
from channels.web.pages import STATIC, Pages
from channels.web.ratelimit import SlidingWindowLimiter
from channels.web.routes import FAILED_LOOKUPS_PER_DAY, FAILED_LOOKUPS_PER_MINUTE, WebChannel
from core.service import InquiryService

__all__ = ["ChatIdentity", "Identify", "WebOptions", "setup_web_channel"]

log = logging.getLogger(__name__)


def setup_web_channel(
    app: web.Application, service: InquiryService, options: WebOptions, identify: Identify | None = None
) -> None:
    """Add the citizen pages and their stylesheet to ``app``; ``identify`` ties a form opened from a chat
    channel to the citizen's account there, so the answer goes back to that chat."""
    secret_key = options.secret_key
    if not secret_key:
        # Forms still work, but only within this process and until it restarts.
        log.warning("no secret_key configured: the web channel signs its forms with a temporary key")
        secret_key = secrets.token_urlsafe(32)
    static = app.router.add_static("/static/web/", STATIC, name="web-static")
    pages = Pages(
        {
            "city_name": options.city_name,
            "base_css_url": base_stylesheet_url(app),
            "css_url": str(static.url_for(filename="web.css", append_version=True)),
        }
    )
    channel = WebChannel(
        service,
        options,
        pages=pages,
        csrf=CsrfTokens(secret_key, secure=options.public_base_url.startswith("https://")),
        limiter=SlidingWindowLimiter(options.submissions_per_minute, options.submissions_per_day),
        lookups=SlidingWindowLimiter(FAILED_LOOKUPS_PER_MINUTE, FAILED_LOOKUPS_PER_DAY),
        identify=identify,
    )
    app.router.add_routes(channel.routes())
