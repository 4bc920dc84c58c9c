"""The staff web inbox (product.md §7) under ``/inbox``: sign-in and sessions, the queues, the case
page and its actions, live updates, notifications and the admin pages.

Server-rendered in Simplified Chinese, styled by our own stylesheet under ``/static/inbox/``; one small
script of ours (``live.js``) adds live updates, and every page works without it. Nothing comes from
other sites.
"""

from __future__ import annotations

from aiohttp import web

from channels.stylesheet import base_stylesheet_url
from gateway.auth import MIN_PASSWORD_LENGTH
from gateway.inbox.admin import admin_app
from gateway.inbox.case import CasePages
from gateway.inbox.live import setup_live
from gateway.inbox.pages import STATIC, InboxPages
from gateway.inbox.views import Inbox
from gateway.settings import Settings

__all__ = ["setup_inbox"]


def setup_inbox(app: web.Application, settings: Settings) -> None:
    """Add the inbox and its stylesheet to ``app`` (``settings`` must carry the secret key)."""
    static = app.router.add_static("/static/inbox/", STATIC, name="inbox-static")
    css_url = str(static.url_for(filename="inbox.css", append_version=True))
    pages = InboxPages(
        {
            "base_css_url": base_stylesheet_url(app),
            "css_url": css_url,
            "min_password_length": MIN_PASSWORD_LENGTH,
        }
    )
    inbox = Inbox(settings.inbox, settings.secret_key, pages)
    subapp = web.Application(middlewares=[inbox.guard])
    subapp.router.add_routes(inbox.routes())
    subapp.router.add_routes(CasePages(inbox).routes())
    subapp.add_subapp("/admin", admin_app(inbox))
    setup_live(app, subapp, inbox, settings.inbox.live)
    app.add_subapp("/inbox", subapp)
