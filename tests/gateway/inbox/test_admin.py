"""The admin pages: staff accounts, units, categories and reply templates, for admins only."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from staff_api import act, get, post
from web_form import VALID, read_tokens

from core.models import Category, Inquiry, ReplyTemplate, Staff, StaffToken, Unit
from gateway.inbox.admin_templates import placeholder_error

PAGES = (
    "/inbox/admin/staff",
    "/inbox/admin/staff/new",
    "/inbox/admin/units",
    "/inbox/admin/units/rsj",
    "/inbox/admin/categories",
    "/inbox/admin/categories/new",
    "/inbox/admin/categories/shebao",
    "/inbox/admin/templates",
    "/inbox/admin/templates/new",
)


@pytest.fixture
async def admin(inbox: Any, make_staff: Any) -> Staff:
    """An admin, signed in."""
    root = await make_staff("root", "admin")
    assert (await inbox.sign_in("root")).status == 303
    return root


async def submit(inbox: Any, path: str, data: dict[str, str], token_from: str | None = None) -> Any:
    """Post an admin form with the CSRF token of its own page (or ``token_from``)."""
    return await inbox.post_form(
        path, data, token_from or path.removesuffix("/active").removesuffix("/password")
    )


async def page(inbox: Any, path: str) -> str:
    response = await inbox.client.get(path)
    assert response.status == 200, await response.text()
    return await response.text()


def notice_of(response: Any) -> str:
    assert response.status == 303, response.status
    return response.headers["Location"]


# -- who may ---------------------------------------------------------------------------------------------


async def test_each_admin_page_renders_in_chinese_with_labelled_fields(inbox: Any, admin: Staff) -> None:
    for path in PAGES:
        html = await page(inbox, path)
        assert 'lang="zh-CN"' in html
        assert "系统管理" in html
        for field in re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', html):
            assert f'for="{field}"' in html, (path, field)
    assert (await inbox.client.get("/inbox/admin", allow_redirects=False)).headers["Location"] == PAGES[0]


@pytest.mark.parametrize(
    ("role", "unit"), [("desk", None), ("supervisor", None), ("handler", "rsj"), ("leader", "rsj")]
)
async def test_everyone_but_admins_gets_403(inbox: Any, make_staff: Any, role: str, unit: str | None) -> None:
    await make_staff("someone", role, unit)
    await inbox.sign_in("someone")
    assert "系统管理" not in await page(inbox, "/inbox")
    for path in PAGES:
        response = await inbox.client.get(path)
        assert response.status == 403, path
        assert "无权访问" in await response.text()
    response = await inbox.post_form("/inbox/admin/units", {"code": "lyj", "name": "市林业局"})
    assert response.status == 403
    assert not await Unit.exists(code="lyj")


async def test_signed_out_visitors_are_sent_to_sign_in(inbox: Any) -> None:
    response = await inbox.client.get("/inbox/admin/units", allow_redirects=False)
    assert response.headers["Location"].startswith("/inbox/login?next=")


# -- staff accounts --------------------------------------------------------------------------------------


async def test_create_a_unit_account_that_can_then_sign_in(inbox: Any, admin: Staff) -> None:
    data = {
        "username": "li",
        "display_name": "李明",
        "role": "handler",
        "unit": "rsj",
        "password": "a-long-secret",
    }
    location = notice_of(await submit(inbox, "/inbox/admin/staff/new", data))
    assert location.endswith("?done=staff-created")
    assert "账号已创建" in await page(inbox, location)
    li = await Staff.get(username="li").select_related("unit")
    assert (li.display_name, li.role, li.unit.code, li.password_hash.startswith("$argon2")) == (
        "李明",
        "handler",
        "rsj",
        True,
    )
    listing = await page(inbox, "/inbox/admin/staff?unit=rsj&role=handler&active=1")
    assert "李明" in listing
    assert 'data-label="用户名">root<' not in listing
    assert (await inbox.sign_in("li", "a-long-secret")).status == 303


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"unit": ""}, "unit", "承办人属于某个单位"),
        ({"role": "desk"}, "unit", "不属于某个单位"),
        ({"unit": "nosuch"}, "unit", "请选择在用的单位"),
        ({"password": "short"}, "password", "至少需要 10 个字符"),
        ({"username": "root"}, "username", "已被使用"),
        ({"display_name": ""}, "display_name", "请填写名称"),
    ],
)
async def test_a_bad_new_account_is_refused_with_the_input_kept(
    inbox: Any, admin: Staff, changes: dict[str, str], field: str, reason: str
) -> None:
    data = {
        "username": "li",
        "display_name": "李明",
        "role": "handler",
        "unit": "rsj",
        "password": "a-long-secret",
    }
    response = await submit(inbox, "/inbox/admin/staff/new", data | changes)
    html = await response.text()
    assert response.status == 400
    assert reason in html
    assert f'id="{field}-error"' in html
    assert "李明" in html or field == "display_name"
    assert "a-long-secret" not in html  # a password is never sent back
    assert await Staff.filter(username="li").count() == 0


async def test_edit_role_and_unit(inbox: Any, admin: Staff, make_staff: Any) -> None:
    wang = await make_staff("wang", "handler", "rsj")
    path = f"/inbox/admin/staff/{wang.id}"
    response = await submit(inbox, path, {"display_name": "王芳", "role": "desk", "unit": ""})
    assert notice_of(response).endswith("?done=staff-saved")
    wang = await Staff.get(id=wang.id)
    assert (wang.display_name, wang.role, wang.unit_id) == ("王芳", "desk", None)  # type: ignore[attr-defined]


async def test_an_admin_cannot_demote_or_deactivate_themselves(inbox: Any, admin: Staff) -> None:
    path = f"/inbox/admin/staff/{admin.id}"
    response = await submit(inbox, path, {"display_name": "root", "role": "desk", "unit": ""})
    assert response.status == 400
    assert "不能取消自己的管理员角色" in await response.text()
    response = await submit(inbox, f"{path}/active", {"active": "0"})
    assert response.status == 400
    assert "不能停用自己的账号" in await response.text()
    admin = await Staff.get(id=admin.id)
    assert (admin.role, admin.active) == ("admin", True)


async def test_deactivation_revokes_sessions_and_tokens_at_once(
    inbox: Any, admin: Staff, make_staff: Any, login: Any, aiohttp_client: Any
) -> None:
    zhao = await make_staff("zhao", "handler", "rsj")
    headers = await login("zhao")
    assert (await inbox.client.get("/api/v1/me", headers=headers)).status == 200
    response = await submit(inbox, f"/inbox/admin/staff/{zhao.id}/active", {"active": "0"})
    assert notice_of(response).endswith("?done=staff-deactivated")
    assert await StaffToken.filter(staff_id=zhao.id).count() == 0
    assert (await inbox.client.get("/api/v1/me", headers=headers)).status == 401
    assert "已停用" in await page(inbox, "/inbox/admin/staff?active=0")
    response = await submit(inbox, f"/inbox/admin/staff/{zhao.id}/active", {"active": "1"})
    assert notice_of(response).endswith("?done=staff-reactivated")
    assert (await Staff.get(id=zhao.id)).active


async def test_reset_password_revokes_tokens(inbox: Any, admin: Staff, make_staff: Any, login: Any) -> None:
    qian = await make_staff("qian", "desk")
    headers = await login("qian")
    path = f"/inbox/admin/staff/{qian.id}/password"
    assert (await submit(inbox, path, {"password": "short"})).status == 400
    assert notice_of(await submit(inbox, path, {"password": "a-new-long-secret"})).endswith(
        "done=password-reset"
    )
    assert (await inbox.client.get("/api/v1/me", headers=headers)).status == 401
    response = await inbox.client.post(
        "/api/v1/auth/login", json={"username": "qian", "password": "a-new-long-secret"}
    )
    assert response.status == 200
    own = await submit(inbox, f"/inbox/admin/staff/{admin.id}/password", {"password": "a-new-long-secret"})
    assert own.status == 400


# -- units -----------------------------------------------------------------------------------------------


async def test_units_list_with_staff_counts_add_and_rename(inbox: Any, admin: Staff, make_staff: Any) -> None:
    await make_staff("a", "handler", "rsj")
    await make_staff("b", "leader", "rsj")
    assert re.search(
        r"市人力资源和社会保障局</td>\s*<td[^>]*><a[^>]*>2 人", await page(inbox, "/inbox/admin/units")
    )
    response = await submit(inbox, "/inbox/admin/units", {"code": "lyj", "name": "市林业和草原局"})
    assert notice_of(response).endswith("?done=unit-added")
    response = await submit(inbox, "/inbox/admin/units/lyj", {"name": "市林草局"})
    assert notice_of(response).endswith("?done=unit-renamed")
    assert (await Unit.get(code="lyj")).name == "市林草局"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"code": "Bad Code", "name": "甲"}, "小写字母"),
        ({"code": "rsj", "name": "甲"}, "已被使用"),
        ({"code": "lyj", "name": ""}, "请填写名称"),
    ],
)
async def test_a_bad_unit_is_refused(inbox: Any, admin: Staff, data: dict[str, str], reason: str) -> None:
    response = await submit(inbox, "/inbox/admin/units", data)
    assert response.status == 400
    html = await response.text()
    assert reason in html
    assert f'value="{data["name"]}"' in html


async def test_a_unit_with_open_inquiries_or_categories_is_not_deactivated(
    inbox: Any, admin: Staff, seed_inquiry: Any
) -> None:
    await seed_inquiry("养老金迟迟没有发放", unit="cgj")
    await seed_inquiry("夜市噪音", category="chengguan", unit="cgj")
    response = await submit(inbox, "/inbox/admin/units/cgj/active", {"active": "0"})
    assert response.status == 400
    assert "还有 2 件未办结的诉求" in await response.text()
    response = await submit(inbox, "/inbox/admin/units/gr/active", {"active": "0"})
    assert response.status == 400
    assert "供暖" in await response.text()
    response = await submit(inbox, "/inbox/admin/units/jwjw/active", {"active": "0"})
    assert "conduct_unit" in await response.text()
    assert await Unit.filter(active=False).count() == 0


async def test_deactivating_and_reactivating_a_unit(inbox: Any, admin: Staff) -> None:
    response = await submit(inbox, "/inbox/admin/units/tsq/active", {"active": "0"})
    assert notice_of(response).endswith("?done=unit-deactivated")
    assert not (await Unit.get(code="tsq")).active
    assert "天山区人民政府" not in await page(inbox, "/inbox/admin/staff/new")  # no new staff there
    response = await submit(inbox, "/inbox/admin/units/tsq/active", {"active": "1"})
    assert notice_of(response).endswith("?done=unit-reactivated")


# -- categories ------------------------------------------------------------------------------------------


def category_form(**changes: str) -> dict[str, str]:
    form = {
        "name": "社保",
        "unit": "rsj",
        "ack_clock": "",
        "ack_amount": "",
        "reply_clock": "",
        "reply_amount": "",
    }
    return form | changes


async def test_a_category_edit_changes_the_next_inquirys_deadline_without_restart(
    inbox: Any, admin: Staff, seed_inquiry: Any
) -> None:
    before = await Inquiry.get(number=await seed_inquiry("社保卡补办"))
    data = category_form(reply_clock="natural_hours", reply_amount="3", urgent="1")
    response = await submit(inbox, "/inbox/admin/categories/shebao", data)
    assert notice_of(response).endswith("?done=category-saved")
    after = await Inquiry.get(number=await seed_inquiry("社保卡补办"))
    assert after.promised_reply_at - after.created_at == timedelta(hours=3)
    assert after.urgent
    assert not before.urgent
    assert before.promised_reply_at - before.created_at != timedelta(hours=3)
    html = await page(inbox, "/inbox/admin/categories")
    assert re.search(r"3 自然小时", html)


async def test_add_a_category(inbox: Any, admin: Staff, client: Any) -> None:
    data = category_form(code="wuye", name="物业", unit="fgj", ack_clock="working_hours", ack_amount="4")
    response = await submit(inbox, "/inbox/admin/categories/new", data)
    assert notice_of(response).endswith("?done=category-created")
    row = await Category.get(code="wuye")
    assert (row.ack_clock, row.ack_amount, row.reply_clock) == ("working_hours", 4, None)
    assert 'value="wuye"' in await (await client.get("/submit")).text()


@pytest.mark.parametrize(
    ("path", "changes", "reason"),
    [
        ("/inbox/admin/categories/shebao", {"unit": "nosuch"}, "请选择在用的承办单位"),
        ("/inbox/admin/categories/shebao", {"unit": "jwjw"}, "只办理政风行风投诉"),
        ("/inbox/admin/categories/zhengfeng", {"name": "政风行风", "unit": "rsj"}, "只能派往纪检监察单位"),
        ("/inbox/admin/categories/shebao", {"ack_clock": "working_hours"}, "时长为 1-366"),
        ("/inbox/admin/categories/shebao", {"ack_amount": "5"}, "请选择签收时限的计时方式"),
        ("/inbox/admin/categories/shebao", {"reply_clock": "working_days", "reply_amount": "400"}, "1-366"),
        ("/inbox/admin/categories/new", {"code": "shebao"}, "已被使用"),
        ("/inbox/admin/categories/new", {"code": "物业"}, "小写字母"),
    ],
)
async def test_a_bad_category_is_refused(
    inbox: Any, admin: Staff, path: str, changes: dict[str, str], reason: str
) -> None:
    before = await Category.all().values_list("code", "name", "unit_id", "version")
    response = await submit(inbox, path, category_form(**changes))
    assert response.status == 400
    assert reason in await response.text()
    assert await Category.all().values_list("code", "name", "unit_id", "version") == before


async def test_a_deactivated_category_is_refused_by_the_web_form_and_the_api(
    inbox: Any, admin: Staff, client: Any, seed_inquiry: Any, make_staff: Any, login: Any
) -> None:
    number = await seed_inquiry("就业补贴", category="jiuye", unit="rsj")
    response = await submit(inbox, "/inbox/admin/categories/jiuye/active", {"active": "0"})
    assert notice_of(response).endswith("?done=category-deactivated")
    form = await client.get("/submit")
    assert 'value="jiuye"' not in await form.text()
    tokens = await read_tokens(client, "/submit")
    response = await client.post(
        "/submit", data={**tokens, **VALID, "category": "jiuye"}, allow_redirects=False
    )
    assert response.status == 400
    assert "请从列表中选择诉求分类" in await response.text()
    await make_staff("desk", "desk")
    desk = await login("desk")
    status, _ = await post(
        client, desk, "/inquiries", {"kind": "complaint", "category": "jiuye", "content": "补贴"}
    )
    assert status == 400
    # the inquiry filed before keeps its category's name and clocks
    status, detail = await get(client, desk, f"/inquiries/{number}")
    assert (status, detail["category_name"]) == (200, "就业")
    await make_staff("handler", "handler", "rsj")
    status, acknowledged = await act(client, await login("handler"), number, "acknowledge")
    assert (status, acknowledged["state"]) == (200, "acknowledged")
    assert (await Inquiry.get(number=number)).reply_due_at is not None
    response = await submit(inbox, "/inbox/admin/categories/jiuye/active", {"active": "1"})
    assert notice_of(response).endswith("?done=category-reactivated")
    assert 'value="jiuye"' in await (await client.get("/submit")).text()


@pytest.mark.parametrize(
    ("code", "reason"), [("zhengfeng", "政风行风分类不能停用"), ("qita", "微信、微博渠道的默认分类")]
)
async def test_some_categories_cannot_be_deactivated(
    inbox: Any, admin: Staff, code: str, reason: str
) -> None:
    response = await submit(inbox, f"/inbox/admin/categories/{code}/active", {"active": "0"})
    assert response.status == 400
    assert reason in await response.text()
    assert (await Category.get(code=code)).active


# -- reply templates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("依据 {basis}，联系 {contact}。{signature}", ""),
        ("字面的大括号 {{ 和 }}", ""),
        ("{name} 您好", "不支持占位符 {name}"),
        ("{} 您好", "不支持占位符 {}"),
        ("依据 {basis", "大括号不成对"),
        ("依据 basis}", "大括号不成对"),
        ("{basis:>10}", "格式说明"),
        ("{basis!r}", "格式说明"),
    ],
)
def test_template_placeholders(body: str, reason: str) -> None:
    assert (reason in placeholder_error(body)) if reason else placeholder_error(body) == ""


async def test_create_preview_edit_and_deactivate_a_template(inbox: Any, admin: Staff) -> None:
    body = "您反映的问题，依据{basis}办理。如有疑问请联系{contact}。——{signature}"
    data = {"name": "制度性答复", "unit": "", "body": body}
    preview = await submit(inbox, "/inbox/admin/templates/new", data | {"action": "preview"})
    html = await preview.text()
    assert preview.status == 200
    assert "市房产管理局物业科 0991-1234567" in html
    assert await ReplyTemplate.all().count() == 0
    location = notice_of(await submit(inbox, "/inbox/admin/templates/new", data | {"action": "save"}))
    template = await ReplyTemplate.get()
    assert (template.name, template.unit_id, template.body, template.active) == (
        "制度性答复",
        None,
        body,
        True,
    )  # type: ignore[attr-defined]
    assert "全市通用" in await page(inbox, "/inbox/admin/templates")
    assert "预览" in await page(inbox, location)
    path = f"/inbox/admin/templates/{template.id}"
    response = await submit(inbox, path, {"name": "人社制度性答复", "unit": "rsj", "body": body})
    assert notice_of(response).endswith("?done=template-saved")
    assert (await ReplyTemplate.get().select_related("unit")).unit.code == "rsj"
    response = await submit(inbox, f"{path}/active", {"active": "0"})
    assert notice_of(response).endswith("?done=template-deactivated")
    assert not (await ReplyTemplate.get()).active


async def test_a_bad_template_is_refused_with_the_reason_and_the_input_kept(inbox: Any, admin: Staff) -> None:
    data = {"name": "答复", "unit": "", "body": "请联系 {phone}"}
    response = await submit(inbox, "/inbox/admin/templates/new", data)
    html = await response.text()
    assert response.status == 400
    assert "不支持占位符 {phone}" in html
    assert "请联系 {phone}</textarea>" in html
    assert await ReplyTemplate.all().count() == 0


async def test_a_template_keeps_its_deactivated_unit_when_edited(inbox: Any, admin: Staff) -> None:
    tsq = await Unit.get(code="tsq")
    template = await ReplyTemplate.create(
        unit=tsq, name="区答复", body="{signature}", updated_at=admin.created_at
    )
    await Unit.filter(code="tsq").update(active=False)
    path = f"/inbox/admin/templates/{template.id}"
    assert '<option value="tsq" selected>天山区人民政府（已停用）' in await page(inbox, path)
    response = await submit(inbox, path, {"name": "区答复", "unit": "tsq", "body": "{signature}"})
    assert notice_of(response).endswith("?done=template-saved")
    assert (await ReplyTemplate.get(id=template.id)).unit_id == tsq.id  # type: ignore[attr-defined]
    new = await submit(inbox, "/inbox/admin/templates/new", {"name": "x", "unit": "tsq", "body": "x"})
    assert new.status == 400
