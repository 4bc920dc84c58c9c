"""The admin pages under ``/inbox/admin`` (product.md §1): staff accounts, units, categories, reply
templates. Admins only: anyone else signed in gets 403 with a Chinese page.

They are a sub-application of the inbox's, so the inbox's guard (session, CSRF on every POST) runs
first and :meth:`AdminPages.admins_only` after it. Changes here are not inquiry state changes: each
leaves a log line naming the admin, not an inquiry event.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from core.vocab import ROLE_LABELS, Role
from gateway.inbox.admin_categories import CategoryAdmin
from gateway.inbox.admin_common import SECTIONS
from gateway.inbox.admin_staff import StaffAdmin
from gateway.inbox.admin_templates import TemplateAdmin
from gateway.inbox.admin_units import UnitAdmin
from gateway.inbox.views import Inbox, see_other
from gateway.keys import staff_key

__all__ = ["admin_app"]


class AdminPages:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.sections = [cls(inbox) for cls in (StaffAdmin, UnitAdmin, CategoryAdmin, TemplateAdmin)]

    @web.middleware
    async def admins_only(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request[staff_key].role != Role.ADMIN:
            context = {
                "title": "无权访问",
                "text": "系统管理页面仅供管理员使用。如需调整账号、单位或分类，请联系管理员。",
            }
            return await self.inbox.page(request, "message.html", context, status=403)
        return await handler(request)

    async def home(self, request: web.Request) -> web.Response:
        return see_other(SECTIONS[0][2])

    def routes(self) -> list[web.RouteDef]:
        return [web.get("", self.home), *(route for section in self.sections for route in section.routes())]


def admin_app(inbox: Inbox) -> web.Application:
    """The admin pages, to be added under the inbox as ``/admin`` (the nav links to them for admins)."""
    inbox.pages.env.globals["admin_role_label"] = ROLE_LABELS[Role.ADMIN]
    pages = AdminPages(inbox)
    app = web.Application(middlewares=[pages.admins_only])
    app.router.add_routes(pages.routes())
    return app
