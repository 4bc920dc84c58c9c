"""Admin: reply templates (such as the 制度性答复). List, create, edit, preview, deactivate or reactivate.

A template is city-wide (no unit) or one unit's. Its body may use the placeholders {basis}, {contact} and
{signature} only, filled in from the reply form; ``{{`` and ``}}`` stand for literal braces. Anything else
in braces is refused with the reason, so a saved template always fills in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from string import Formatter
from typing import Any

from aiohttp import web

from core.actions import fill_template
from core.errors import InvalidInput
from core.models import ReplyTemplate, Unit
from gateway.inbox.admin_common import (
    AdminSection,
    audit,
    done,
    name_error,
    text,
    wants_active,
)
from gateway.units import unit_options

BASE = "/inbox/admin/templates"
MAX_NAME = 60
"""As ``ReplyTemplate.name``."""
MAX_BODY = 5000
PLACEHOLDERS = {"basis": "政策依据", "contact": "联系人及电话", "signature": "署名"}
SAMPLE = {
    "basis": "《乌鲁木齐市物业管理条例》第二十条",
    "contact": "市房产管理局物业科 0991-1234567",
    "signature": "市房产管理局",
}
"""What the preview fills in."""


def _preview(body: str) -> str:
    """``body`` filled with :data:`SAMPLE` exactly as a reply fills it; empty while it is not usable."""
    if not body or placeholder_error(body):
        return ""
    try:
        return fill_template(body, SAMPLE)
    except InvalidInput:  # longer than a reply may be once filled
        return ""


def placeholder_error(body: str) -> str:
    """Why ``body`` is not a usable template; empty if it is."""
    try:
        parts = list(Formatter().parse(body))
    except ValueError:
        return "大括号不成对：占位符写作 {basis} 这样的形式，正文中的大括号本身请写成 {{ 或 }}。"
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            shown = "{" + name + "}"
            allowed = "、".join("{" + key + "}" for key in PLACEHOLDERS)
            return f"不支持占位符 {shown}：只能使用 {allowed}。"
        if spec or conversion:
            return f"占位符 {{{name}}} 中不能有“:”或“!”之后的格式说明。"
    return ""


class TemplateAdmin(AdminSection):
    section = "templates"

    def routes(self) -> list[web.RouteDef]:
        return self.record_routes("id:\\d+")

    async def list(self, request: web.Request) -> web.Response:
        rows = await ReplyTemplate.all().select_related("unit").order_by("-active", "name", "id")
        return await self.render(request, "admin_templates.html", {"templates": rows})

    async def new_form(self, request: web.Request) -> web.Response:
        return await self._form(request, None, {"name": "", "unit": "", "body": ""})

    async def _form(
        self,
        request: web.Request,
        template: ReplyTemplate | None,
        values: dict[str, str],
        errors: dict[str, str] | None = None,
        *,
        status: int = 200,
    ) -> web.Response:
        body = values["body"]
        context: dict[str, Any] = {
            "template": template,
            "values": values,
            "errors": errors or {},
            "unit_options": [
                ("", "全市通用（所有单位可用）"),
                *await unit_options(template.unit if template else None),
            ],
            "placeholders": PLACEHOLDERS,
            "preview": _preview(body),
            "max_body": MAX_BODY,
        }
        return await self.render(request, "admin_template_form.html", context, status=status)

    async def create(self, request: web.Request) -> web.StreamResponse:
        return await self._submit(request, None)

    async def edit_form(self, request: web.Request) -> web.Response:
        template = await _template(request)
        values = {
            "name": template.name,
            "unit": template.unit.code if template.unit else "",
            "body": template.body,
        }
        return await self._form(request, template, values)

    async def save(self, request: web.Request) -> web.StreamResponse:
        return await self._submit(request, await _template(request))

    async def _submit(self, request: web.Request, template: ReplyTemplate | None) -> web.StreamResponse:
        """Save the form, or show it again: with the reasons (400), or with the preview it asked for."""
        form = await request.post()
        values = {"name": text(form, "name"), "unit": text(form, "unit"), "body": text(form, "body")}
        errors: dict[str, str] = {}
        if error := name_error(values["name"], MAX_NAME):
            errors["name"] = error
        unit = await Unit.get_or_none(code=values["unit"]) if values["unit"] else None
        # a template may stay with its unit after the unit was deactivated, but not move to such a unit
        kept = template is not None and unit is not None and unit.id == template.unit_id  # type: ignore[attr-defined]
        if values["unit"] and (unit is None or not (unit.active or kept)):
            errors["unit"] = "请选择在用的单位，或选择“全市通用”。"
        if not values["body"]:
            errors["body"] = "请填写模板正文。"
        elif len(values["body"]) > MAX_BODY:
            errors["body"] = f"模板正文不能超过 {MAX_BODY} 字。"
        elif error := placeholder_error(values["body"]):
            errors["body"] = error
        if errors:
            return await self._form(request, template, values, errors, status=400)
        if text(form, "action") == "preview":
            return await self._form(request, template, values)
        now = datetime.now(UTC)
        if template is None:
            template = await ReplyTemplate.create(
                name=values["name"], unit=unit, body=values["body"], updated_at=now
            )
            audit(
                request,
                "created reply template %d %s (unit %s)",
                template.id,
                template.name,
                values["unit"] or "-",
            )
            return done(f"{BASE}/{template.id}", "template-created")
        template.name, template.unit, template.body, template.updated_at = (
            values["name"],
            unit,
            values["body"],
            now,
        )
        await template.save(update_fields=["name", "unit_id", "body", "updated_at"])
        audit(
            request,
            "edited reply template %d %s (unit %s)",
            template.id,
            template.name,
            values["unit"] or "-",
        )
        return done(f"{BASE}/{template.id}", "template-saved")

    async def set_active(self, request: web.Request) -> web.Response:
        template = await _template(request)
        template.active, template.updated_at = wants_active(await request.post()), datetime.now(UTC)
        await template.save(update_fields=["active", "updated_at"])
        audit(
            request, "%s reply template %d", "reactivated" if template.active else "deactivated", template.id
        )
        return done(
            f"{BASE}/{template.id}", "template-reactivated" if template.active else "template-deactivated"
        )


async def _template(request: web.Request) -> ReplyTemplate:
    template = await ReplyTemplate.get_or_none(id=int(request.match_info["id"])).select_related("unit")
    if template is None:
        raise web.HTTPNotFound()
    return template
