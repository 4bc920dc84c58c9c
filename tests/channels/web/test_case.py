"""The case page: tracking, the identical 404, the public timeline and what it must never show."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.actors import Actor
from core.models import Inquiry
from core.service import InquiryService

BEIJING = ZoneInfo("Asia/Shanghai")


def shown(moment: Any) -> str:
    local = moment.astimezone(BEIJING)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


async def test_track_form_has_labelled_fields(client: Any) -> None:
    response = await client.get("/track")
    assert response.status == 200
    html = await response.text()
    assert '<form class="panel form" method="get" action="/track"' in html
    assert '<label for="number">诉求编号</label>' in html
    assert '<label for="code">查询码</label>' in html


async def test_track_sends_the_citizen_to_the_case_page(client: Any, submitted: Any) -> None:
    number, code = await submitted()
    typed = {"number": f" {number.lower()} ", "code": f"{code[:3].lower()} {code[3:]}"}
    response = await client.get("/track", params=typed, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == f"/cases/{number}?code={code}"
    page = await client.get(response.headers["Location"])
    assert page.status == 200
    assert f"诉求 {number}" in await page.text()


async def test_track_without_number_or_code_explains(client: Any) -> None:
    response = await client.get("/track", params={"number": "", "code": ""})
    assert response.status == 400
    html = await response.text()
    error = '<p class="field-error" id="{}-error"><span class="visually-hidden">错误：</span>{}</p>'
    assert error.format("number", "请填写诉求编号。") in html
    assert error.format("code", "请填写查询码。") in html


async def test_case_page_accepts_lower_case_and_spaces_in_the_code(client: Any, submitted: Any) -> None:
    number, code = await submitted()
    response = await client.get(
        f"/cases/{number.lower()}", params={"code": f" {code.lower()[:2]} {code.lower()[2:]} "}
    )
    assert response.status == 200
    html = await response.text()
    assert '<p class="state state--received">已受理</p>' in html
    assert "您的诉求已受理" not in html  # the receipt banner is only for new=1
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_wrong_code_and_unknown_number_get_the_same_404(client: Any, submitted: Any) -> None:
    number, code = await submitted()
    wrong_code = "".join("2" if c != "2" else "3" for c in code)
    unknown_number = number[:-5] + ("99999" if not number.endswith("99999") else "99998")
    responses = [
        await client.get(f"/cases/{number}", params={"code": wrong_code}),
        await client.get(f"/cases/{unknown_number}", params={"code": code}),
        await client.get(f"/cases/{number}"),
        await client.get("/cases/<script>", params={"code": "x" * 500}),
        await client.get(f"/cases/{number}", params={"code": "%FF"}),
    ]
    bodies = [await r.text() for r in responses]
    assert [r.status for r in responses] == [404] * 5
    assert all(body == bodies[0] for body in bodies)
    assert "没有找到与该编号和查询码对应的诉求。请核对后重新输入（查询码不区分大小写）。" in bodies[0]
    assert number not in bodies[0]
    assert all("Set-Cookie" not in r.headers for r in responses)


async def test_deadlines_are_shown_in_beijing_time(
    client: Any, submitted: Any, service: InquiryService, make_staff: Any
) -> None:
    number, code = await submitted()
    inquiry = await Inquiry.get(number=number)
    html = await (await client.get(f"/cases/{number}", params={"code": code})).text()
    assert f"<dt>提交时间</dt><dd>{shown(inquiry.created_at)}</dd>" in html
    assert f"<dt>预计答复</dt><dd>{shown(inquiry.promised_reply_at)}</dd>" in html
    assert shown(inquiry.promised_reply_at).endswith(" 23:59")

    desk = Actor.of_staff(await make_staff("desk_wangwu", "desk"))
    dispatched = await service.act(number, "dispatch", desk, {})
    html = await (await client.get(f"/cases/{number}", params={"code": code})).text()
    assert '<p class="state state--dispatched">已派单</p>' in html
    assert f"<dt>签收期限</dt><dd>{shown(dispatched.ack_due_at)}</dd>" in html


async def test_public_timeline_hides_notes_staff_reasons_and_the_private_zone(
    client: Any, submitted: Any, service: InquiryService, make_staff: Any, valid_form: Any
) -> None:
    number, code = await submitted()
    desk = Actor.of_staff(await make_staff("desk_wangwu", "desk"))
    handler = Actor.of_staff(await make_staff("handler_zhouba", "handler", "rsj"))
    secrets = {
        "note": "内部备注：此人多次来电，态度激动",
        "return": "退单理由：不属于本局职责范围",
        "refusal": "驳回理由：社保缴纳属于人社局职责",
        "extension": "延期理由：需要调取银行流水",
        "reply_note": "内部：已与单位财务王会计电话核实",
    }
    await service.act(number, "dispatch", desk, {})
    await service.act(number, "note", desk, {"text": secrets["note"]})
    await service.act(number, "return", handler, {"reason": secrets["return"]})
    await service.act(number, "refuse-return", desk, {"reason": secrets["refusal"]})
    await service.act(number, "acknowledge", handler, {})
    await service.act(number, "request-extension", handler, {"days": 3, "reason": secrets["extension"]})
    await service.act(number, "approve-extension", desk, {})
    reply = "您好，经核实，您单位已补缴社保费用。"
    await service.act(
        number, "reply", handler, {"text": reply, "resolved": True, "note": secrets["reply_note"]}
    )

    response = await client.get(f"/cases/{number}", params={"code": code})
    html = await response.text()
    titles = re.findall(r'<p class="timeline__title">([^<]*)</p>', html)
    assert titles == [
        "受理",
        "已交办至市人力资源和社会保障局",
        "已交办至市人力资源和社会保障局",
        "已签收",
        "延期 3 个工作日",
        "已答复",
    ]
    assert f'<div class="timeline__text">{reply}</div>' in html
    assert '<p class="timeline__signature">—— 市人力资源和社会保障局 网络发言人</p>' in html
    assert f'<div class="answer__text">{reply}</div>' in html
    assert '<p class="state state--replied">已答复</p>' in html
    for secret in secrets.values():
        assert secret not in html
    for private in (
        "desk_wangwu",
        "handler_zhouba",
        "张三丰",
        "13912345678",
        valid_form["content"],
        "天山区 人民路",
    ):
        assert private not in html


async def test_conduct_complaints_say_they_stay_private(client: Any, submitted: Any) -> None:
    number, code = await submitted(kind="conduct", category="zhengfeng")
    html = await (await client.get(f"/cases/{number}", params={"code": code, "new": "1"})).text()
    assert "<dd>政风行风</dd>" in html
    assert "政风行风类诉求由纪委监委专门办理，严格保密，不予公开。" in html
    assert "我们将在2小时内响应、7个工作日内答复" in html


@pytest.mark.parametrize("path", ["/", "/submit", "/track"])
async def test_pages_are_chinese_responsive_and_self_contained(client: Any, path: str) -> None:
    response = await client.get(path)
    html = await response.text()
    assert response.status == 200
    assert response.content_type == "text/html"
    assert '<html lang="zh-CN">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<span class="brand__city">乌鲁木齐市</span>' in html
    assert '<span class="brand__name">网络问政</span>' in html
    assert re.search(
        r'<link rel="stylesheet" href="/static/base/base\.css\?v=[^"]+">\n'
        r'<link rel="stylesheet" href="/static/web/web\.css\?v=[^"]+">',
        html,
    )
    assert "http://" not in html
    assert "https://" not in html
    assert "<script" not in html


async def test_stylesheets_are_served_by_the_app(client: Any) -> None:
    css = {}
    for path in ("/static/base/base.css", "/static/web/web.css"):
        response = await client.get(path)
        assert response.status == 200
        assert response.content_type == "text/css"
        css[path] = await response.text()
        for external in ("@import", "url(", "http"):
            assert external not in css[path]
    fonts = '"PingFang SC", "Hiragino Sans GB",\n    "Microsoft YaHei", "WenQuanYi Zen Hei"'
    assert fonts in css["/static/base/base.css"]
    assert "@media (max-width: 600px)" in css["/static/web/web.css"]


async def test_home_links_to_submit_and_track(client: Any) -> None:
    html = await (await client.get("/")).text()
    assert '<a class="button" href="/submit">填写诉求</a>' in html
    assert '<a class="button button--secondary" href="/track">查询办理进度</a>' in html


async def test_receipt_of_a_conduct_complaint_states_the_conduct_deadlines(
    client: Any, submitted: Any
) -> None:
    # filed under 社保 (8 working hours to respond), but the core times it by the conduct rule (2 hours)
    number, code = await submitted(kind="conduct", category="shebao")
    inquiry = await Inquiry.get(number=number)
    html = await (await client.get(f"/cases/{number}", params={"code": code, "new": "1"})).text()
    assert "<dd>社保</dd>" in html
    promised = inquiry.promised_reply_at.astimezone(BEIJING)  # type: ignore[union-attr]
    assert f"我们将在2小时内响应、7个工作日内答复（预计 {promised.month}月{promised.day}日 前答复）。" in html
    assert "8个工作小时" not in html
