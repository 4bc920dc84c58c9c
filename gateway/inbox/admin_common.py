"""What the admin sections share: rendering with the section tabs, the notice after a change, form fields.

A change is posted, then the browser is sent (303) to a page whose ``?done=`` names the change; the page
shows the matching notice from :data:`NOTICES` (never text from the address itself).
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from aiohttp import web
from multidict import MultiDictProxy

from channels.web.forms import form_text
from core.models import Staff
from gateway.inbox.views import Inbox, see_other
from gateway.keys import staff_key

log = logging.getLogger("gateway.inbox.admin")

SECTIONS = (
    ("staff", "人员账号", "/inbox/admin/staff"),
    ("units", "单位", "/inbox/admin/units"),
    ("categories", "诉求分类", "/inbox/admin/categories"),
    ("templates", "答复模板", "/inbox/admin/templates"),
)
NOTICES = {
    "staff-created": "账号已创建。",
    "staff-saved": "账号信息已保存。",
    "staff-deactivated": "账号已停用，其所有登录和接口令牌已失效。",
    "staff-reactivated": "账号已重新启用。",
    "password-reset": "密码已重置，该账号的所有登录和接口令牌已失效。",
    "unit-added": "单位已添加。",
    "unit-renamed": "单位名称已保存。",
    "unit-deactivated": "单位已停用。",
    "unit-reactivated": "单位已重新启用。",
    "category-created": "分类已添加，新提交的诉求立即适用。",
    "category-saved": "分类已保存，新提交的诉求立即适用。",
    "category-deactivated": "分类已停用，不再接受新的诉求。",
    "category-reactivated": "分类已重新启用。",
    "template-created": "答复模板已创建。",
    "template-saved": "答复模板已保存。",
    "template-deactivated": "答复模板已停用。",
    "template-reactivated": "答复模板已重新启用。",
}

Form = MultiDictProxy[Any]


class AdminSection:
    """One admin section (a tab): its pages render with the tabs and the last change's notice."""

    section: ClassVar[str]

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def record_routes(self, key: str) -> list[web.RouteDef]:
        """The routes of a section whose records are listed, added on a form of their own, edited and
        (de)activated: ``/<section>``, ``/<section>/new`` and ``/<section>/{key}[/active]``."""
        base = f"/{self.section}"
        record = f"{base}/{{{key}}}"
        handlers: Any = self
        return [
            web.get(base, handlers.list),
            web.get(f"{base}/new", handlers.new_form),
            web.post(f"{base}/new", handlers.create),
            web.get(record, handlers.edit_form),
            web.post(record, handlers.save),
            web.post(f"{record}/active", handlers.set_active),
        ]

    async def render(
        self, request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
    ) -> web.Response:
        notice = NOTICES.get(request.query.get("done", ""), "")
        page = {"sections": SECTIONS, "section": self.section, "notice": notice, "errors": {}, **context}
        return await self.inbox.page(request, template, page, status=status)


def done(path: str, notice: str) -> web.Response:
    """303 to ``path``, which then shows the notice ``notice`` (a key of :data:`NOTICES`)."""
    assert notice in NOTICES, notice
    return see_other(f"{path}?done={notice}")


def audit(request: web.Request, message: str, *args: Any) -> None:
    """A log line naming the admin who made a change (these are not inquiry events)."""
    admin: Staff = request[staff_key]
    log.info("admin %s: " + message, admin.username, *args)


def text(form: Form, name: str) -> str:
    """A form field as text, stripped; empty when missing."""
    return form_text(form, name).strip()


def wants_active(form: Form) -> bool:
    """The ``active`` field of an activate/deactivate form ("1" to activate)."""
    return form_text(form, "active") == "1"


def name_error(value: str, limit: int) -> str:
    """Why ``value`` cannot be a name or title of at most ``limit`` characters; empty if it can."""
    if not value:
        return "请填写名称。"
    if len(value) > limit:
        return f"名称不能超过 {limit} 个字。"
    if not value.isprintable():
        return "名称中不能有换行或控制字符。"
    return ""
