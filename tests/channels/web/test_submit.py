"""The inquiry form: rendering, a valid submission and its receipt, every invalid field, CSRF, bad bodies."""

from __future__ import annotations

import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.models import Inquiry, InquiryMessage
from core.states import State
from core.vocab import Channel

BEIJING = ZoneInfo("Asia/Shanghai")
RECEIPT = re.compile(r"^/cases/(WZ\d{8}-\d{5})\?code=([A-Z0-9]{6})&new=1$")


async def test_form_renders_every_field_with_label_and_csrf_token(client: Any) -> None:
    response = await client.get("/submit")
    assert response.status == 200
    html = await response.text()
    assert re.search(r'<input type="hidden" name="csrf_token" value="\d+\.[\w-]{32}\.[\w-]{43}">', html)
    for control, label in [
        ("content", "诉求内容"),
        ("category", "诉求分类"),
        ("location", "地点"),
        ("latitude", "纬度"),
        ("longitude", "经度"),
        ("contact_name", "姓名"),
        ("contact_phone", "手机号或电话"),
        ("kind-complaint", "投诉"),
        ("kind-suggestion", "建议"),
        ("kind-consultation", "咨询"),
        ("kind-help", "求助"),
        ("kind-report", "举报"),
        ("kind-conduct", "政风行风"),
    ]:
        assert re.search(rf'<label for="{control}">{label}', html), control
        assert f'id="{control}"' in html
    assert '<label for="consent">同意公开：' in html
    assert '<input type="checkbox" id="consent" name="consent" value="1" aria-describedby' in html
    assert "只公开隐去姓名、电话、身份证号、详细地址等个人信息后的诉求内容和答复" in html
    assert "此类诉求由纪委监委专门办理，严格保密，不会转给被反映的单位，也一律不公开。" in html
    assert '<h2 id="private-zone-title" class="panel__title">隐私区' in html
    assert '<option value="shebao">社保</option>' in html
    assert '<option value="gongnuan">供暖</option>' in html
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("wz_csrf=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "<script" not in html


async def test_the_form_reuses_the_visitors_token(client: Any) -> None:
    first = await client.get("/submit")
    second = await client.get("/submit")
    token = re.compile(r'name="csrf_token" value="([^"]+)"')
    assert token.search(await first.text())[1] == token.search(await second.text())[1]  # type: ignore[index]
    assert "Set-Cookie" not in second.headers


async def test_valid_submission_redirects_to_the_receipt(client: Any, submit: Any, valid_form: Any) -> None:
    response = await submit()
    assert response.status == 303
    match = RECEIPT.match(response.headers["Location"])
    assert match, response.headers["Location"]
    number, code = match[1], match[2]

    inquiry = await Inquiry.get(number=number)
    assert inquiry.query_code == code
    assert inquiry.state == State.RECEIVED
    assert inquiry.channel == Channel.WEB
    assert inquiry.kind == "complaint"
    assert inquiry.category == "shebao"
    assert inquiry.content == valid_form["content"]
    assert inquiry.location == "天山区 人民路 1 号"
    assert (inquiry.latitude, inquiry.longitude) == (43.8256, 87.6168)
    assert inquiry.contact_name == "张三丰"
    assert inquiry.contact_phone == "13912345678"
    assert inquiry.consent_to_publish is True
    message = await InquiryMessage.get(inquiry_id=inquiry.id)
    assert message.channel == Channel.WEB
    assert message.text == valid_form["content"]
    raw = json.loads(message.payload)
    assert raw["content"] == valid_form["content"]
    assert "contact_name" not in raw
    assert "contact_phone" not in raw
    assert "csrf_token" not in raw

    page = await client.get(response.headers["Location"])
    assert page.status == 200
    html = await page.text()
    assert f'<dd class="receipt__number">{number}</dd>' in html
    assert f'<dd class="receipt__code">{code}</dd>' in html
    assert "请牢记或截图保存诉求编号和查询码" in html
    promised = inquiry.promised_reply_at.astimezone(BEIJING)
    assert (
        f"我们将在8个工作小时内响应、7个工作日内答复（预计 {promised.month}月{promised.day}日 前答复）。"
        in html
    )
    assert '<p class="state state--received">已受理</p>' in html
    assert "张三丰" not in html
    assert "13912345678" not in html
    assert valid_form["content"] not in html


async def test_receipt_states_an_urgent_categorys_own_deadlines(client: Any, submit: Any) -> None:
    response = await submit(category="gongnuan")
    html = await (await client.get(response.headers["Location"])).text()
    assert "我们将在2小时内响应、3个工作日内答复（预计 " in html


async def test_no_consent_by_default_and_never_for_conduct(submit: Any) -> None:
    await submit(consent=None)
    await submit(kind="conduct", consent="1")
    first, conduct = await Inquiry.all().order_by("id")
    assert first.consent_to_publish is False
    assert conduct.consent_to_publish is False


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("138 1234 5678", "13812345678"),
        ("+86 13812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("0991-4567890", "0991-4567890"),
        ("(0991)4567890", "(0991)4567890"),
        ("", ""),
    ],
)
async def test_phone_numbers_are_accepted_and_normalised(submit: Any, phone: str, stored: str) -> None:
    response = await submit(contact_phone=phone)
    assert response.status == 303
    assert (await Inquiry.get()).contact_phone == stored


async def test_the_private_zone_and_location_are_optional(submit: Any) -> None:
    response = await submit(contact_name="", contact_phone="", location="", latitude="", longitude="")
    assert response.status == 303
    inquiry = await Inquiry.get()
    assert (inquiry.contact_name, inquiry.contact_phone, inquiry.latitude, inquiry.longitude) == (
        "",
        "",
        None,
        None,
    )


LONG = 5001
INVALID = [
    ({"content": ""}, "content", "请填写诉求内容。"),
    ({"content": " \n\t "}, "content", "请填写诉求内容。"),
    ({"content": "问" * LONG}, "content", f"诉求内容不能超过 5000 字（现为 {LONG} 字），请精简后再提交。"),
    ({"kind": None}, "kind", "请选择诉求类型。"),
    ({"kind": "praise"}, "kind", "请从列表中选择诉求类型。"),
    ({"category": ""}, "category", "请选择诉求分类。"),
    ({"category": "weather"}, "category", "请从列表中选择诉求分类。"),
    ({"location": "路" * 201}, "location", "地点不能超过 200 字。"),
    ({"latitude": "北纬43度"}, "latitude", "纬度应为数字，例如 43.8256。"),
    ({"latitude": "nan"}, "latitude", "纬度应为数字，例如 43.8256。"),
    ({"latitude": "1e2"}, "latitude", "纬度应为数字，例如 43.8256。"),
    ({"latitude": "90.5"}, "latitude", "纬度应在 -90 到 90 之间。"),
    ({"longitude": "-180.01"}, "longitude", "经度应在 -180 到 180 之间。"),
    ({"longitude": ""}, "longitude", "请同时填写纬度和经度，或都不填写。"),
    ({"contact_name": "名" * 65}, "contact_name", "姓名不能超过 64 字。"),
    (
        {"contact_phone": "12812345678"},
        "contact_phone",
        "请填写正确的手机号（11 位，如 13812345678）或固定电话（如 0991-4567890）。",
    ),
    ({"contact_phone": "1391234567"}, "contact_phone", "请填写正确的手机号"),
    ({"contact_phone": "call me maybe"}, "contact_phone", "请填写正确的手机号"),
    ({"contact_phone": "0" * 33}, "contact_phone", "电话号码不能超过 32 位。"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), INVALID)
async def test_each_invalid_field_is_explained_next_to_it(
    submit: Any, overrides: dict[str, str | None], field: str, message: str
) -> None:
    response = await submit(**overrides)
    assert response.status == 400
    html = await response.text()
    error = re.search(
        rf'<p class="field-error" id="{field}-error"><span class="visually-hidden">错误：</span>([^<]*)</p>',
        html,
    )
    assert error, html
    assert error[1].startswith(message)
    assert re.search(rf'id="{field}"[^>]*aria-describedby="[^"]*{field}-error', html)
    assert f'<a href="#{field}">' in html  # the summary at the top links to the field
    assert await Inquiry.all().count() == 0


async def test_invalid_form_keeps_what_the_citizen_entered(submit: Any, valid_form: Any) -> None:
    response = await submit(category="weather", kind="suggestion", location="水磨沟区 <b>南湖</b>")
    assert response.status == 400
    html = await response.text()
    assert f">{valid_form['content']}</textarea>" in html
    assert 'id="kind-suggestion" name="kind" value="suggestion" checked' in html
    assert 'value="水磨沟区 &lt;b&gt;南湖&lt;/b&gt;"' in html
    assert (
        'id="contact_name" name="contact_name" type="text" maxlength="64" autocomplete="name" value="张三丰"'
        in html
    )
    assert 'value="13912345678"' in html
    assert 'id="consent" name="consent" value="1" checked' in html
    assert "<b>南湖</b>" not in html


async def test_several_problems_are_all_reported_at_once(submit: Any) -> None:
    response = await submit(content="", kind=None, contact_phone="123")
    html = await response.text()
    assert response.status == 400
    assert "提交的内容有 3 处需要修改" in html
    for field in ("content", "kind", "contact_phone"):
        assert f'id="{field}-error"' in html


async def test_a_double_clicked_submit_makes_one_inquiry(
    client: Any, form_tokens: Any, valid_form: Any
) -> None:
    data = {**await form_tokens(), **valid_form}
    first = await client.post("/submit", data=data, allow_redirects=False)
    second = await client.post("/submit", data=data, allow_redirects=False)
    assert first.status == second.status == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert await Inquiry.all().count() == 1


async def test_control_characters_are_dropped(submit: Any) -> None:
    response = await submit(content="路灯\x00坏了\u200b\r\n第二行\x1b", contact_name="张\x00三")
    assert response.status == 303
    inquiry = await Inquiry.get()
    assert inquiry.content == "路灯坏了\n第二行"
    assert inquiry.contact_name == "张三"


# -- CSRF ----------------------------------------------------------------------------------------------


async def assert_expired(response: Any) -> None:
    assert response.status == 403
    assert "页面已过期，请刷新后重新提交" in await response.text()
    assert await Inquiry.all().count() == 0


async def test_missing_csrf_token_is_refused(client: Any, form_tokens: Any, valid_form: Any) -> None:
    tokens = await form_tokens()
    del tokens["csrf_token"]
    await assert_expired(await client.post("/submit", data={**tokens, **valid_form}))


async def test_wrong_csrf_token_is_refused(client: Any, form_tokens: Any, valid_form: Any) -> None:
    tokens = await form_tokens()
    issued, _nonce, signature = tokens["csrf_token"].split(".")
    forged = f"{issued}.{'A' * 32}.{signature}"
    await assert_expired(await client.post("/submit", data={**valid_form, "csrf_token": forged}))


async def test_csrf_token_without_its_cookie_is_refused(
    client: Any, form_tokens: Any, valid_form: Any
) -> None:
    tokens = await form_tokens()
    client.session.cookie_jar.clear()
    await assert_expired(await client.post("/submit", data={**tokens, **valid_form}))


async def test_a_matching_pair_not_signed_by_us_is_refused(client: Any, valid_form: Any) -> None:
    made_up = f"1800000000.{'B' * 32}.{'C' * 43}"
    client.session.cookie_jar.update_cookies({"wz_csrf": made_up})
    await assert_expired(await client.post("/submit", data={**valid_form, "csrf_token": made_up}))


# -- bodies that are not the form ----------------------------------------------------------------------


async def form_body(form_tokens: Any) -> str:
    tokens = await form_tokens()
    return f"csrf_token={tokens['csrf_token']}&kind=complaint&category=shebao"


URLENCODED = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"&content=\xff\xfe\xfd", URLENCODED),
        (b"&content=%FF%FE", URLENCODED),
        ("&content=路灯".encode("gbk"), {"Content-Type": "application/x-www-form-urlencoded; charset=gbk"}),
        (b'{"content": "x"}', {"Content-Type": "application/json"}),
        (b"\x00\x01\x02garbage", {"Content-Type": "application/octet-stream"}),
        (
            b'--x\r\nContent-Disposition: form-data; name="content"\r\n\r\nx\r\n--x--\r\n',
            {"Content-Type": "multipart/form-data; boundary=x"},
        ),
        (b"content=x" + b"&a=b" * 40, URLENCODED),
    ],
    ids=["invalid-utf8", "invalid-percent-utf8", "gbk", "json", "binary", "multipart", "too-many-fields"],
)
async def test_garbage_bodies_are_refused_with_400(
    client: Any, form_tokens: Any, body: bytes, headers: dict[str, str]
) -> None:
    prefix = (await form_body(form_tokens)).encode()
    response = await client.post("/submit", data=prefix + body, headers=headers)
    assert response.status == 400
    assert "提交的内容无法识别，没有保存任何信息。" in await response.text()
    assert await Inquiry.all().count() == 0


async def test_a_body_over_the_apps_limit_gets_413(client: Any, form_tokens: Any) -> None:
    prefix = await form_body(form_tokens)
    response = await client.post("/submit", data=prefix + "&content=" + "x" * 300_000, headers=URLENCODED)
    assert response.status == 413
    assert await Inquiry.all().count() == 0


async def test_a_form_with_no_fields_but_the_token_is_400(client: Any, form_tokens: Any) -> None:
    tokens = await form_tokens()
    response = await client.post("/submit", data={"csrf_token": tokens["csrf_token"]})
    assert response.status == 400
    html = await response.text()
    for message in ("请填写诉求内容。", "请选择诉求类型。", "请选择诉求分类。"):
        assert message in html
    assert await Inquiry.all().count() == 0
