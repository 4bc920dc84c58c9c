"""Admin: staff accounts. List and filter, create, edit, deactivate or reactivate, reset the password.

Deactivating an account or resetting its password ends all its sessions and API tokens at once. An admin
cannot deactivate or demote themselves (the city would be left without a way back in), nor reset their
own password here (that is the password page, which asks for the current one).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from core.models import Staff, StaffToken, Unit
from core.vocab import ROLE_LABELS, UNIT_ROLES, Role
from gateway.auth import MIN_PASSWORD_LENGTH, hash_password
from gateway.inbox.admin_common import (
    AdminSection,
    audit,
    done,
    name_error,
    text,
    wants_active,
)
from gateway.keys import staff_key
from gateway.units import unit_options

BASE = "/inbox/admin/staff"
MAX_NAME = 64
"""As ``Staff.username`` and ``Staff.display_name``."""
ROLES = frozenset(role.value for role in Role)
ACTIVE_FILTERS = {"": "全部", "1": "在用", "0": "已停用"}


class StaffAdmin(AdminSection):
    section = "staff"

    def routes(self) -> list[web.RouteDef]:
        return [*self.record_routes("id:\\d+"), web.post("/staff/{id:\\d+}/password", self.reset_password)]

    async def list(self, request: web.Request) -> web.Response:
        wanted = {key: request.query.get(key, "") for key in ("unit", "role", "active")}
        rows = Staff.all().select_related("unit").order_by("username")
        if wanted["unit"]:
            rows = rows.filter(unit__code=wanted["unit"])
        if wanted["role"] in ROLES:
            rows = rows.filter(role=wanted["role"])
        if wanted["active"] in ("0", "1"):
            rows = rows.filter(active=wanted["active"] == "1")
        context = {
            "staff": await rows,
            "filters": wanted,
            "units": await Unit.all().order_by("id"),
            "roles": ROLE_LABELS,
            "active_filters": ACTIVE_FILTERS,
        }
        return await self.render(request, "admin_staff.html", context)

    # -- create and edit -----------------------------------------------------------------------------

    async def new_form(self, request: web.Request) -> web.Response:
        return await self._form(request, None, {"role": Role.HANDLER.value})

    async def _form(
        self,
        request: web.Request,
        staff: Staff | None,
        values: dict[str, str],
        errors: dict[str, str] | None = None,
        *,
        status: int = 200,
    ) -> web.Response:
        context: dict[str, Any] = {
            "account": staff,
            "values": values,
            "errors": errors or {},
            "role_options": [(role.value, label) for role, label in ROLE_LABELS.items()],
            "unit_options": [
                ("", "不属于单位（受理派单、督办、管理员）"),
                *await unit_options(staff.unit if staff else None),
            ],
            "min_password_length": MIN_PASSWORD_LENGTH,
            "is_me": staff is not None and staff.id == request[staff_key].id,
        }
        return await self.render(request, "admin_staff_form.html", context, status=status)

    async def create(self, request: web.Request) -> web.Response:
        form = await request.post()
        values = {name: text(form, name) for name in ("username", "display_name", "role", "unit")}
        password = form.get("password")
        password = password if isinstance(password, str) else ""
        errors, unit = await _check_account(values)
        username = values["username"]
        if not username or len(username) > MAX_NAME or not username.isprintable() or " " in username:
            errors["username"] = f"用户名为 1-{MAX_NAME} 个字符，不能含空格。"
        elif await Staff.exists(username=username):
            errors["username"] = f"用户名 {username} 已被使用。"
        if error := _password_error(password):
            errors["password"] = error
        if errors:
            return await self._form(request, None, values, errors, status=400)
        staff = await Staff.create(
            username=username,
            display_name=values["display_name"],
            password_hash=await asyncio.to_thread(hash_password, password),
            role=Role(values["role"]),
            unit=unit,
        )
        audit(request, "created staff %s (%s, unit %s)", username, staff.role, values["unit"] or "-")
        return done(f"{BASE}/{staff.id}", "staff-created")

    async def edit_form(self, request: web.Request) -> web.Response:
        staff = await _staff(request)
        return await self._form(request, staff, _values(staff))

    async def save(self, request: web.Request) -> web.Response:
        staff = await _staff(request)
        form = await request.post()
        values = {name: text(form, name) for name in ("display_name", "role", "unit")}
        errors, unit = await _check_account(values)
        if staff.id == request[staff_key].id and values["role"] != Role.ADMIN:
            errors["role"] = "不能取消自己的管理员角色：请由另一位管理员操作。"
        if errors:
            return await self._form(request, staff, values, errors, status=400)
        staff.display_name, staff.role, staff.unit = values["display_name"], Role(values["role"]), unit
        await staff.save(update_fields=["display_name", "role", "unit_id"])
        audit(request, "edited staff %s: %s, unit %s", staff.username, staff.role, values["unit"] or "-")
        return done(f"{BASE}/{staff.id}", "staff-saved")

    # -- deactivate, reactivate, reset the password --------------------------------------------------

    async def set_active(self, request: web.Request) -> web.Response:
        staff = await _staff(request)
        active = wants_active(await request.post())
        if not active and staff.id == request[staff_key].id:
            return await self._refuse(request, staff, "status", "不能停用自己的账号：请由另一位管理员操作。")
        staff.active = active
        await staff.save(update_fields=["active"])
        if not active:
            revoked = await StaffToken.filter(staff_id=staff.id).delete()
            audit(request, "deactivated staff %s (%d sessions and tokens revoked)", staff.username, revoked)
            return done(f"{BASE}/{staff.id}", "staff-deactivated")
        audit(request, "reactivated staff %s", staff.username)
        return done(f"{BASE}/{staff.id}", "staff-reactivated")

    async def reset_password(self, request: web.Request) -> web.Response:
        staff = await _staff(request)
        password = (await request.post()).get("password")
        password = password if isinstance(password, str) else ""
        if staff.id == request[staff_key].id:
            return await self._refuse(request, staff, "password", "请在“修改密码”页面修改您自己的密码。")
        if error := _password_error(password):
            return await self._refuse(request, staff, "password", error)
        staff.password_hash = await asyncio.to_thread(hash_password, password)
        await staff.save(update_fields=["password_hash"])
        revoked = await StaffToken.filter(staff_id=staff.id).delete()
        audit(
            request,
            "reset the password of staff %s (%d sessions and tokens revoked)",
            staff.username,
            revoked,
        )
        return done(f"{BASE}/{staff.id}", "password-reset")

    async def _refuse(self, request: web.Request, staff: Staff, field: str, reason: str) -> web.Response:
        """The edit page again, with ``reason`` at the form ``field`` names (400)."""
        return await self._form(request, staff, _values(staff), {field: reason}, status=400)


def _values(staff: Staff) -> dict[str, str]:
    """The edit form's fields as saved."""
    return {
        "display_name": staff.display_name,
        "role": staff.role.value,
        "unit": staff.unit.code if staff.unit else "",
    }


async def _staff(request: web.Request) -> Staff:
    staff = await Staff.get_or_none(id=int(request.match_info["id"])).select_related("unit")
    if staff is None:
        raise web.HTTPNotFound()
    return staff


async def _check_account(values: dict[str, str]) -> tuple[dict[str, str], Unit | None]:
    """Errors in the display name, role and unit fields, and the unit named (as the CLI's rules: a unit
    role needs exactly one active unit, any other role none)."""
    errors: dict[str, str] = {}
    if error := name_error(values["display_name"], MAX_NAME):
        errors["display_name"] = error
    unit = None
    if values["role"] not in ROLES:
        errors["role"] = "请选择角色。"
    elif Role(values["role"]) in UNIT_ROLES:
        unit = await Unit.get_or_none(code=values["unit"], active=True) if values["unit"] else None
        if unit is None:
            errors["unit"] = f"{ROLE_LABELS[Role(values['role'])]}属于某个单位：请选择在用的单位。"
    elif values["unit"]:
        errors["unit"] = (
            f"{ROLE_LABELS[Role(values['role'])]}可查看所有单位，不属于某个单位：请选择“不属于单位”。"
        )
    return errors, unit


def _password_error(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符。"
    return ""
