"""Admin: units. List with staff counts, add, rename, deactivate or reactivate.

A unit's code is stable (the config, imports and the API name units by it); only its name changes. A
unit still holding open inquiries, or still receiving a category, or named ``conduct_unit`` in the config,
cannot be deactivated: the page says what to move first. An admin's rename or deactivation survives
restarts (:mod:`gateway.units`: config.yaml only adds missing units).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from tortoise.functions import Count

from core.models import Category, Inquiry, Staff, Unit
from core.states import State
from gateway.inbox.admin_common import AdminSection, audit, done, name_error, text, wants_active
from gateway.keys import settings_key

BASE = "/inbox/admin/units"
CODE = re.compile(r"[a-z0-9_-]{1,32}")
MAX_NAME = 100
"""As ``Unit.name``."""


class UnitAdmin(AdminSection):
    section = "units"

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/units", self.list),
            web.post("/units", self.add),
            web.get("/units/{code}", self.edit_form),
            web.post("/units/{code}", self.rename),
            web.post("/units/{code}/active", self.set_active),
        ]

    async def list(self, request: web.Request) -> web.Response:
        return await self._list(request, {"code": "", "name": ""})

    async def _list(
        self,
        request: web.Request,
        values: dict[str, str],
        errors: dict[str, str] | None = None,
        *,
        status: int = 200,
    ) -> web.Response:
        counts = (
            await Staff.filter(active=True, unit_id__isnull=False)
            .annotate(count=Count("id"))
            .group_by("unit_id")
            .values_list("unit_id", "count")
        )
        context = {
            "units": await Unit.all().order_by("id"),
            "staff_counts": dict(counts),
            "values": values,
            "errors": errors or {},
        }
        return await self.render(request, "admin_units.html", context, status=status)

    async def add(self, request: web.Request) -> web.Response:
        form = await request.post()
        values = {"code": text(form, "code").lower(), "name": text(form, "name")}
        errors = {}
        if not CODE.fullmatch(values["code"]):
            errors["code"] = "代码为 1-32 个小写字母、数字、下划线或连字符。"
        elif await Unit.exists(code=values["code"]):
            errors["code"] = f"代码 {values['code']} 已被使用。"
        if error := name_error(values["name"], MAX_NAME):
            errors["name"] = error
        if errors:
            return await self._list(request, values, errors, status=400)
        await Unit.create(**values)
        audit(request, "added unit %s: %s", values["code"], values["name"])
        return done(BASE, "unit-added")

    async def edit_form(self, request: web.Request) -> web.Response:
        unit = await _unit(request)
        return await self._form(request, unit, {"name": unit.name})

    async def _form(
        self,
        request: web.Request,
        unit: Unit,
        values: dict[str, str],
        errors: dict[str, str] | None = None,
        *,
        status: int = 200,
    ) -> web.Response:
        context: dict[str, Any] = {
            "unit": unit,
            "values": values,
            "errors": errors or {},
            "staff_count": await Staff.filter(unit_id=unit.id, active=True).count(),
            "open_count": await _open_inquiries(unit),
        }
        return await self.render(request, "admin_unit_form.html", context, status=status)

    async def rename(self, request: web.Request) -> web.Response:
        unit = await _unit(request)
        name = text(await request.post(), "name")
        if error := name_error(name, MAX_NAME):
            return await self._form(request, unit, {"name": name}, {"name": error}, status=400)
        before, unit.name = unit.name, name
        await unit.save(update_fields=["name"])
        audit(request, "renamed unit %s: %s -> %s", unit.code, before, name)
        return done(f"{BASE}/{unit.code}", "unit-renamed")

    async def set_active(self, request: web.Request) -> web.Response:
        unit = await _unit(request)
        active = wants_active(await request.post())
        if not active and (reason := await self._cannot_deactivate(request, unit)):
            return await self._form(request, unit, {"name": unit.name}, {"status": reason}, status=400)
        unit.active = active
        await unit.save(update_fields=["active"])
        audit(request, "%s unit %s", "reactivated" if active else "deactivated", unit.code)
        return done(f"{BASE}/{unit.code}", "unit-reactivated" if active else "unit-deactivated")

    async def _cannot_deactivate(self, request: web.Request, unit: Unit) -> str:
        """Why ``unit`` cannot be deactivated now; empty if it can."""
        if unit.code == request.config_dict[settings_key].conduct_unit:
            return "该单位是配置中的纪检监察单位（conduct_unit），政风行风投诉只交由它办理，不能停用。"
        if count := await _open_inquiries(unit):
            return f"该单位还有 {count} 件未办结的诉求，请先将这些诉求转办到其他单位，再停用。"
        names = await Category.filter(unit_id=unit.id, active=True).values_list("name", flat=True)
        if names:
            return (
                f"仍有 {len(names)} 个诉求分类派往该单位（{'、'.join(names)}），请先修改这些分类的承办单位。"
            )
        return ""


async def _unit(request: web.Request) -> Unit:
    unit = await Unit.get_or_none(code=request.match_info["code"])
    if unit is None:
        raise web.HTTPNotFound()
    return unit


async def _open_inquiries(unit: Unit) -> int:
    return await Inquiry.filter(unit_id=unit.id).exclude(state=State.CLOSED).count()
