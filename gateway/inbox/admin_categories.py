"""Admin: categories. List, add, edit (name, unit, urgency, deadline policies), deactivate or reactivate.

Every change is written to the ``category`` table and the running service's rules are rebuilt from it at
once (other processes follow within a minute: :mod:`gateway.categories`). A category's code is stable
(inquiries keep it); one in use is deactivated, never deleted. Routing rules kept here:

- only the conduct category goes to ``conduct_unit`` (纪委监委): no other category may be sent there, and
  the conduct category can neither leave it nor be deactivated (conduct complaints run on its clock);
- the WeChat and Weibo default categories stay active (chat messages are filed under them).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from tortoise.expressions import F

from channels.web.forms import whole_number
from core.deadlines import Clock
from core.models import Category, Unit
from gateway.categories import category_rule, category_rules_key
from gateway.inbox.admin_common import (
    AdminSection,
    Form,
    audit,
    done,
    name_error,
    text,
    wants_active,
)
from gateway.keys import settings_key
from gateway.settings import Settings
from gateway.units import unit_options

BASE = "/inbox/admin/categories"
CODE = re.compile(r"[a-z0-9_]{1,32}")
MAX_NAME = 32
MAX_AMOUNT = 366
"""As config.yaml's ``sla`` policies."""
CLOCK_LABELS = {
    Clock.working_hours: "工作小时",
    Clock.working_days: "工作日",
    Clock.natural_hours: "自然小时",
}
POLICIES = (("ack", "签收时限"), ("reply", "答复时限"))
FIELDS = ("code", "name", "unit", "urgent", "ack_clock", "ack_amount", "reply_clock", "reply_amount")


class CategoryAdmin(AdminSection):
    section = "categories"

    def routes(self) -> list[web.RouteDef]:
        return self.record_routes("code")

    async def list(self, request: web.Request) -> web.Response:
        settings: Settings = request.config_dict[settings_key]
        rows = await Category.all().order_by("id").select_related("unit")
        items = [(row, category_rule(row, row.unit.code, settings)) for row in rows]
        return await self.render(request, "admin_categories.html", {"items": items, "clocks": CLOCK_LABELS})

    async def new_form(self, request: web.Request) -> web.Response:
        return await self._form(request, None, dict.fromkeys(FIELDS, ""))

    async def _form(
        self,
        request: web.Request,
        category: Category | None,
        values: dict[str, str],
        errors: dict[str, str] | None = None,
        *,
        status: int = 200,
    ) -> web.Response:
        sla = request.config_dict[settings_key].sla
        context: dict[str, Any] = {
            "category": category,
            "values": values,
            "errors": errors or {},
            "unit_options": [("", "请选择"), *await unit_options(category.unit if category else None)],
            "clocks": CLOCK_LABELS,
            "policies": POLICIES,
            "defaults": {"ack": sla.ack, "reply": sla.reply},
        }
        return await self.render(request, "admin_category_form.html", context, status=status)

    async def create(self, request: web.Request) -> web.Response:
        form = await request.post()
        values = _values_of(form)
        values["code"] = values["code"].lower()
        errors, changes = await _check(request, values, None)
        if not CODE.fullmatch(values["code"]):
            errors["code"] = "代码为 1-32 个小写字母、数字或下划线。"
        elif await Category.exists(code=values["code"]):
            errors["code"] = f"代码 {values['code']} 已被使用。"
        if errors:
            return await self._form(request, None, values, errors, status=400)
        await Category.create(code=values["code"], updated_at=datetime.now(UTC), **changes)
        await request.config_dict[category_rules_key].reload()
        audit(request, "added category %s: %s", values["code"], _described(changes))
        return done(BASE, "category-created")

    async def edit_form(self, request: web.Request) -> web.Response:
        category = await _category(request)
        return await self._form(request, category, _values_of_row(category))

    async def save(self, request: web.Request) -> web.Response:
        category = await _category(request)
        values = {**_values_of(await request.post()), "code": category.code}
        errors, changes = await _check(request, values, category)
        if errors:
            return await self._form(request, category, values, errors, status=400)
        await _update(category, **changes)
        await request.config_dict[category_rules_key].reload()
        audit(request, "edited category %s: %s", category.code, _described(changes))
        return done(f"{BASE}/{category.code}", "category-saved")

    async def set_active(self, request: web.Request) -> web.Response:
        category = await _category(request)
        active = wants_active(await request.post())
        reason = await _cannot_reactivate(category) if active else _cannot_deactivate(request, category)
        if reason:
            values = _values_of_row(category)
            return await self._form(request, category, values, {"status": reason}, status=400)
        await _update(category, active=active)
        await request.config_dict[category_rules_key].reload()
        audit(request, "%s category %s", "reactivated" if active else "deactivated", category.code)
        return done(f"{BASE}/{category.code}", "category-reactivated" if active else "category-deactivated")


async def _category(request: web.Request) -> Category:
    category = await Category.get_or_none(code=request.match_info["code"]).select_related("unit")
    if category is None:
        raise web.HTTPNotFound()
    return category


async def _update(category: Category, **changes: Any) -> None:
    """Write ``changes`` and raise the row's version (atomically: other processes reload on it)."""
    now = datetime.now(UTC)
    await Category.filter(id=category.id).update(**changes, updated_at=now, version=F("version") + 1)


def _values_of(form: Form) -> dict[str, str]:
    values = {name: text(form, name) for name in FIELDS}
    values["urgent"] = "1" if values["urgent"] else ""
    return values


def _values_of_row(category: Category) -> dict[str, str]:
    return {
        "code": category.code,
        "name": category.name,
        "unit": category.unit.code,
        "urgent": "1" if category.urgent else "",
        "ack_clock": category.ack_clock or "",
        "ack_amount": str(category.ack_amount or ""),
        "reply_clock": category.reply_clock or "",
        "reply_amount": str(category.reply_amount or ""),
    }


async def _check(
    request: web.Request, values: dict[str, str], category: Category | None
) -> tuple[dict[str, str], dict[str, Any]]:
    """The errors in the form's fields (but the code) and, when there are none, the row's new values."""
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {"name": values["name"], "urgent": bool(values["urgent"])}
    if error := name_error(values["name"], MAX_NAME):
        errors["name"] = error
    unit = await Unit.get_or_none(code=values["unit"], active=True) if values["unit"] else None
    if unit is None:
        errors["unit"] = "请选择在用的承办单位。"
    elif reason := await _conduct_routing(request, unit, category):
        errors["unit"] = reason
    changes["unit_id"] = unit.id if unit else None
    for policy, label in POLICIES:
        clock, amount = values[f"{policy}_clock"], values[f"{policy}_amount"]
        if not clock and not amount:
            changes[f"{policy}_clock"] = changes[f"{policy}_amount"] = None
        elif clock not in CLOCK_LABELS:
            errors[f"{policy}_clock"] = f"请选择{label}的计时方式，或将计时方式和时长都留空以使用默认值。"
        elif not 1 <= (whole_number(amount) or 0) <= MAX_AMOUNT:
            errors[f"{policy}_amount"] = f"{label}的时长为 1-{MAX_AMOUNT} 的整数。"
        else:
            changes[f"{policy}_clock"], changes[f"{policy}_amount"] = Clock(clock), int(amount)
    return errors, changes


async def _conduct_routing(request: web.Request, unit: Unit, category: Category | None) -> str:
    """Why ``category`` (None: a new one) may not go to ``unit``; empty if it may."""
    conduct_unit = request.config_dict[settings_key].conduct_unit
    at_conduct = Category.filter(unit__code=conduct_unit)
    if category is not None:
        at_conduct = at_conduct.exclude(id=category.id)
    if unit.code == conduct_unit and await at_conduct.exists():
        return f"{unit.name}只办理政风行风投诉，已有政风行风分类派往该单位，其他分类不能派往该单位。"
    if category is not None and category.unit.code == conduct_unit and unit.code != conduct_unit:
        return "政风行风分类只能派往纪检监察单位（conduct_unit），不能改派。"
    return ""


def _cannot_deactivate(request: web.Request, category: Category) -> str:
    settings: Settings = request.config_dict[settings_key]
    if category.unit.code == settings.conduct_unit:
        return "政风行风分类不能停用：政风行风投诉按它的时限办理。"
    channels = [
        label
        for label, channel in (("微信", settings.channels.wechat), ("微博", settings.channels.weibo))
        if channel.default_category == category.code
    ]
    if channels:
        return f"该分类是{'、'.join(channels)}渠道的默认分类（配置文件），不能停用。"
    return ""


async def _cannot_reactivate(category: Category) -> str:
    if not category.unit.active:
        return f"承办单位{category.unit.name}已停用：请先为该分类选择在用的承办单位。"
    return ""


def _described(changes: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in changes.items())
