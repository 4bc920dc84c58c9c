"""Sign-in, tokens and bad input on the staff API: always a JSON {error} with a 4xx, never a 500."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from staff_api import API, answer, bearer, post
from tortoise.connection import get_connection

import core.batch_connection as batch_connection
from core.models import Inquiry, InquiryEvent, Staff, StaffToken
from gateway.observability import BUSY

PASSWORD = "correct horse battery"  # tests/conftest.py
UNAUTHORISED = {"error": "未登录或登录已过期"}


@pytest.fixture
async def desk(client: Any) -> dict[str, str]:
    return await bearer("desk", "desk")


@pytest.fixture
async def rsj(client: Any) -> dict[str, str]:
    return await bearer("rsj", "handler", "rsj")


async def post_raw(client: Any, headers: dict[str, str], path: str, data: bytes | str) -> tuple[int, Any]:
    headers = headers | {"Content-Type": "application/json"}
    return await answer(await client.post(API + path, data=data, headers=headers))


async def register(client: Any, desk: dict[str, str], **fields: Any) -> str:
    body = {"kind": "complaint", "category": "shebao", "content": "医保报销慢"} | fields
    status, inquiry = await post(client, desk, "/inquiries", body)
    assert status == 201, inquiry
    return inquiry["number"]


async def acknowledged(client: Any, desk: dict[str, str], rsj: dict[str, str]) -> str:
    number = await register(client, desk)
    assert (await post(client, desk, f"/inquiries/{number}/actions/dispatch"))[0] == 200
    assert (await post(client, rsj, f"/inquiries/{number}/actions/acknowledge"))[0] == 200
    return number


# --- 4. auth ----------------------------------------------------------------------------------------------


async def test_login_gives_a_working_token(client: Any, make_staff: Any) -> None:
    await make_staff("zhang", "handler", "rsj")
    status, body = await post(client, {}, "/auth/login", {"username": "zhang", "password": PASSWORD})
    assert status == 200
    assert set(body) == {"token", "expires_at"}
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert body["expires_at"].endswith("+08:00")
    assert timedelta(hours=11, minutes=59) < expires_at - datetime.now(UTC) <= timedelta(hours=12)
    status, me = await answer(
        await client.get(f"{API}/me", headers={"Authorization": f"Bearer {body['token']}"})
    )
    assert (status, me["username"]) == (200, "zhang")


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "zhang", "password": "wrong password"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "zhang", "password": PASSWORD.upper()},
    ],
)
async def test_wrong_credentials_are_401(client: Any, make_staff: Any, credentials: dict[str, str]) -> None:
    await make_staff("zhang", "handler", "rsj")
    assert await post(client, {}, "/auth/login", credentials) == (401, {"error": "用户名或密码错误"})
    assert await StaffToken.all().count() == 0


async def test_an_inactive_account_cannot_sign_in_or_use_its_token(client: Any, make_staff: Any) -> None:
    await make_staff("zhang", "desk")
    status, body = await post(client, {}, "/auth/login", {"username": "zhang", "password": PASSWORD})
    assert status == 200
    await Staff.filter(username="zhang").update(active=False)
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert await answer(await client.get(f"{API}/me", headers=headers)) == (401, UNAUTHORISED)
    assert await post(client, {}, "/auth/login", {"username": "zhang", "password": PASSWORD}) == (
        401,
        {"error": "用户名或密码错误"},
    )


@pytest.mark.parametrize(
    "body",
    [b"username=zhang&password=x", b"{", b"\xff\xfe", b'["zhang", "x"]', b'"zhang"', b"null"],
)
async def test_login_body_that_is_not_a_json_object_is_400(client: Any, body: bytes) -> None:
    status, refusal = await post_raw(client, {}, "/auth/login", body)
    assert status == 400
    assert refusal["error"] in ("请求体不是合法的 JSON", "请求体应为 JSON 对象")


@pytest.mark.parametrize(
    "body",
    [{}, {"username": "zhang"}, {"password": PASSWORD}, {"username": 1, "password": 2}, {"username": ""}],
)
async def test_login_without_credentials_is_400(client: Any, body: dict[str, Any]) -> None:
    assert await post(client, {}, "/auth/login", body) == (400, {"error": "请提供 username 和 password"})


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer not-a-token",
        "Basic emhhbmc6eA==",
        "Token abc",
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/me"),
        ("GET", "/units"),
        ("GET", "/categories"),
        ("GET", "/inquiries"),
        ("POST", "/inquiries"),
        ("GET", "/inquiries/WZ20261127-00001"),
        ("POST", "/inquiries/WZ20261127-00001/actions/dispatch"),
    ],
)
async def test_no_or_a_bad_token_is_401(
    client: Any, authorization: str | None, method: str, path: str
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.request(method, API + path, headers=headers, json={})
    assert await answer(response) == (401, UNAUTHORISED)
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_the_token_scheme_is_case_insensitive(client: Any, desk: dict[str, str]) -> None:
    token = desk["Authorization"].removeprefix("Bearer ")
    status, _ = await answer(await client.get(f"{API}/me", headers={"Authorization": f"bearer {token}"}))
    assert status == 200


async def test_an_expired_token_is_401(client: Any, desk: dict[str, str]) -> None:
    assert (await client.get(f"{API}/me", headers=desk)).status == 200
    await StaffToken.all().update(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    response = await client.get(f"{API}/inquiries", headers=desk)
    assert await answer(response) == (401, UNAUTHORISED)


async def test_a_token_is_not_a_password_hash(client: Any, desk: dict[str, str]) -> None:
    stored = await StaffToken.get()
    assert stored.token_hash != desk["Authorization"].removeprefix("Bearer ")
    response = await client.get(f"{API}/me", headers={"Authorization": f"Bearer {stored.token_hash}"})
    assert await answer(response) == (401, UNAUTHORISED)


# --- 5. bad input -----------------------------------------------------------------------------------------


async def test_unknown_action_is_400(client: Any, desk: dict[str, str]) -> None:
    number = await register(client, desk)
    assert await post(client, desk, f"/inquiries/{number}/actions/approve") == (
        400,
        {"error": "没有操作 approve"},
    )
    # on an unknown number the inquiry is looked for first
    assert await post(client, desk, "/inquiries/WZ20000101-00009/actions/approve") == (
        404,
        {"error": "没有找到诉求 WZ20000101-00009"},
    )
    assert await answer(await client.get(f"{API}/inquiries/WZ20000101-00009", headers=desk)) == (
        404,
        {"error": "没有找到诉求 WZ20000101-00009"},
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{", "请求体不是合法的 JSON"),
        (b"unit=rsj", "请求体不是合法的 JSON"),
        (b'{"unit": "rsj",}', "请求体不是合法的 JSON"),
        (b"\xff\xfe\xfd", "请求体不是合法的 JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "请求体不是合法的 JSON"),
        (b'{"a":' * 40_000 + b"1" + b"}" * 40_000, "请求体不是合法的 JSON"),
        (b'["rsj"]', "请求体应为 JSON 对象"),
        (b'"rsj"', "请求体应为 JSON 对象"),
        (b"42", "请求体应为 JSON 对象"),
        (b"null", "请求体应为 JSON 对象"),
        (b"true", "请求体应为 JSON 对象"),
    ],
)
@pytest.mark.parametrize("path", ["/inquiries", "/inquiries/{number}/actions/dispatch", "/auth/login"])
async def test_a_body_that_is_not_a_json_object_is_400(
    client: Any, desk: dict[str, str], data: bytes, reason: str, path: str
) -> None:
    number = await register(client, desk)
    assert await post_raw(client, desk, path.format(number=number), data) == (400, {"error": reason})
    assert (await Inquiry.get(number=number)).state == "received"


@pytest.mark.parametrize(
    "data",
    [
        '{"kind": "complaint", "category": "shebao", "content": "路灯\\u0000不亮"}',
        '{"kind": "complaint", "category": "shebao", "content": "路灯\\ud800不亮"}',
        '{"kind": "complaint", "category": "shebao", "content": "路灯不亮", "x": ["\\udfff"]}',
        '{"kind": "complaint", "category": "shebao", "content": "路灯不亮", "\\u0000": 1}',
    ],
)
async def test_text_that_cannot_be_stored_is_400(client: Any, desk: dict[str, str], data: str) -> None:
    assert await post_raw(client, desk, "/inquiries", data) == (
        400,
        {"error": "请求体含有无法保存的字符（如 \\u0000）"},
    )
    assert await Inquiry.all().count() == 0


async def test_a_number_or_a_search_with_nul_is_refused(client: Any, desk: dict[str, str]) -> None:
    response = await client.get(f"{API}/inquiries/WZ%00", headers=desk)
    assert await answer(response) == (404, {"error": "没有找到诉求 WZ\x00"})
    response = await client.get(f"{API}/inquiries", params={"q": "路灯\x00"}, headers=desk)
    assert await answer(response) == (400, {"error": "搜索词含有无效字符"})
    # PostgreSQL refuses NUL in a query parameter: the unit code is checked before it is looked up
    response = await client.get(f"{API}/inquiries?unit=%00x", headers=desk)
    assert await answer(response) == (400, {"error": "参数 unit 的值含有无效字符"})
    response = await client.get(f"{API}/inquiries?unit=rsj%00", headers=desk)
    assert await answer(response) == (400, {"error": "参数 unit 的值含有无效字符"})


async def test_an_empty_body_is_an_empty_object(client: Any, desk: dict[str, str]) -> None:
    number = await register(client, desk)
    status, inquiry = await post_raw(client, desk, f"/inquiries/{number}/actions/dispatch", b"")
    assert (status, inquiry["unit"]["code"]) == (200, "rsj")


@pytest.mark.parametrize(
    ("action", "body", "reason"),
    [
        ("request-extension", {"days": "3", "reason": "核查"}, "字段 days 应为整数"),
        ("request-extension", {"days": 3.0, "reason": "核查"}, "字段 days 应为整数"),
        ("request-extension", {"days": True, "reason": "核查"}, "字段 days 应为整数"),
        ("request-extension", {"reason": "核查"}, "字段 days 应为整数"),
        ("request-extension", {"days": 0, "reason": "核查"}, "字段 days 应在 1 到 15 之间"),
        ("request-extension", {"days": 16, "reason": "核查"}, "字段 days 应在 1 到 15 之间"),
        ("request-extension", {"days": 10**400, "reason": "核查"}, "字段 days 应在 1 到 15 之间"),
        ("request-extension", {"days": 3}, "缺少字段 reason"),
        ("request-extension", {"days": 3, "reason": ["核查"]}, "字段 reason 应为文本"),
        (
            "reply",
            {"text": "已办理", "resolved": "yes", "basis": ""},
            "字段 resolved 应为 true 或 false（问题是否解决）",
        ),
        (
            "reply",
            {"text": "已办理", "resolved": 1, "basis": ""},
            "字段 resolved 应为 true 或 false（问题是否解决）",
        ),
        ("reply", {"text": "已办理", "basis": ""}, "字段 resolved 应为 true 或 false（问题是否解决）"),
        ("reply", {"resolved": True}, "缺少字段 text"),
        ("reply", {"text": "   ", "resolved": True}, "缺少字段 text"),
        ("reply", {"text": 5, "resolved": True}, "字段 text 应为文本"),
        ("reply", {"text": "x" * 5001, "resolved": True}, "字段 text 超过 5000 字"),
        ("reply", {"text": "已办理", "resolved": True, "basis": "x" * 1001}, "字段 basis 超过 1000 字"),
        ("reply", {"text": "已办理", "resolved": True, "note": "x" * 5001}, "字段 note 超过 5000 字"),
        ("return", {}, "缺少字段 reason"),
        ("return", {"reason": {"text": "x"}}, "字段 reason 应为文本"),
        ("note", {"text": "x" * 5001}, "字段 text 超过 5000 字"),
        ("note", {}, "缺少字段 text"),
    ],
)
async def test_unit_action_with_bad_data_is_400(
    client: Any, desk: dict[str, str], rsj: dict[str, str], action: str, body: Any, reason: str
) -> None:
    number = await acknowledged(client, desk, rsj)
    before = await Inquiry.get(number=number)
    assert await post(client, rsj, f"/inquiries/{number}/actions/{action}", body) == (400, {"error": reason})
    after = await Inquiry.get(number=number)
    assert (after.state, after.version, after.extension_pending_days) == ("acknowledged", before.version, 0)
    assert await InquiryEvent.filter(inquiry_id=after.id, action=action).count() == 0


@pytest.mark.parametrize(
    ("action", "body", "reason"),
    [
        ("dispatch", {"unit": 7}, "字段 unit 应为文本"),
        ("dispatch", {"unit": "x" * 33}, "字段 unit 超过 32 字"),
        ("answer-directly", {}, "缺少字段 text"),
        ("answer-directly", {"text": "x" * 5001}, "字段 text 超过 5000 字"),
        ("reject", {"reason": "x" * 1001}, "字段 reason 超过 1000 字"),
        ("redirect", {"text": "请起诉"}, "缺少字段 to"),
        ("redirect", {"to": "x" * 101, "text": "请起诉"}, "字段 to 超过 100 字"),
        ("merge", {"into": ["WZ20261127-00001"]}, "字段 into 应为文本"),
    ],
)
async def test_desk_action_with_bad_data_is_400(
    client: Any, desk: dict[str, str], action: str, body: Any, reason: str
) -> None:
    number = await register(client, desk)
    assert await post(client, desk, f"/inquiries/{number}/actions/{action}", body) == (400, {"error": reason})
    assert (await Inquiry.get(number=number)).version == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"category": "shebao", "content": "x"}, "字段 kind 无效"),
        ({"kind": "gripe", "category": "shebao", "content": "x"}, "字段 kind 无效"),
        ({"kind": ["complaint"], "category": "shebao", "content": "x"}, "字段 kind 无效"),
        (
            {"kind": "complaint", "category": "shebao", "content": "x", "channel": "open311"},
            "字段 channel 无效",
        ),
        ({"kind": "complaint", "category": "shebao", "content": "x", "channel": "fax"}, "字段 channel 无效"),
        ({"kind": "complaint", "category": "nope", "content": "x"}, "没有分类 nope"),
        ({"kind": "complaint", "content": "x"}, "没有分类 "),
        ({"kind": "complaint", "category": "shebao"}, "诉求内容不能为空"),
        ({"kind": "complaint", "category": "shebao", "content": "  "}, "诉求内容不能为空"),
        (
            {"kind": "complaint", "category": "shebao", "content": "x" * 5001},
            "字段 content 应为不超过 5000 字的文本",
        ),
        ({"kind": "complaint", "category": "shebao", "content": 42}, "字段 content 应为不超过 5000 字的文本"),
        (
            {"kind": "complaint", "category": "shebao", "content": "x", "contact_phone": "1" * 33},
            "字段 contact_phone 应为不超过 32 字的文本",
        ),
        (
            {"kind": "complaint", "category": "shebao", "content": "x", "consent_to_publish": "yes"},
            "字段 consent_to_publish 应为 true 或 false",
        ),
    ],
)
async def test_register_with_bad_data_is_400(
    client: Any, desk: dict[str, str], body: dict[str, Any], reason: str
) -> None:
    assert await post(client, desk, "/inquiries", body) == (400, {"error": reason})
    assert await Inquiry.all().count() == 0


async def test_text_at_the_limit_is_accepted(client: Any, desk: dict[str, str]) -> None:
    status, inquiry = await post(
        client, desk, "/inquiries", {"kind": "complaint", "category": "shebao", "content": "问" * 5000}
    )
    assert (status, len(inquiry["content"])) == (201, 5000)


async def test_wrong_state_is_409_naming_the_state(
    client: Any, desk: dict[str, str], rsj: dict[str, str]
) -> None:
    number = await register(client, desk)
    # a received inquiry belongs to no unit yet: a unit's handler cannot even see it, and the desk
    # may not acknowledge at all; the state is checked after visibility and role
    assert await post(client, rsj, f"/inquiries/{number}/actions/acknowledge") == (
        404,
        {"error": f"没有找到诉求 {number}"},
    )
    assert await post(client, desk, f"/inquiries/{number}/actions/acknowledge") == (
        403,
        {"error": "当前角色不能执行该操作（acknowledge）"},
    )
    assert await post(client, desk, f"/inquiries/{number}/actions/approve-extension") == (
        409,
        {
            "error": "诉求当前状态为「已受理」，不能执行「批准延期」"
            "（当前可执行：派单、直接答复、不予受理、转法定途径、并单、补充诉求）"
        },
    )
    assert (await post(client, desk, f"/inquiries/{number}/actions/dispatch"))[0] == 200
    assert await post(client, desk, f"/inquiries/{number}/actions/dispatch") == (
        409,
        {"error": "诉求当前状态为「已派单」，不能执行「派单」（当前可执行：签收、退单）"},
    )
    assert await post(client, rsj, f"/inquiries/{number}/actions/reply", {"text": "x", "resolved": True}) == (
        409,
        {"error": "诉求当前状态为「已派单」，不能执行「答复」（当前可执行：签收、退单）"},
    )
    assert (await post(client, rsj, f"/inquiries/{number}/actions/acknowledge"))[0] == 200
    assert await post(client, rsj, f"/inquiries/{number}/actions/acknowledge") == (
        409,
        {
            "error": "诉求当前状态为「办理中」，不能执行「签收」"
            "（当前可执行：退单、申请延期、批准延期、驳回延期、答复）"
        },
    )
    assert (await post(client, rsj, f"/inquiries/{number}/actions/return", {"reason": "不属本单位"}))[
        0
    ] == 200
    assert await post(client, rsj, f"/inquiries/{number}/actions/acknowledge") == (
        409,
        {"error": "诉求当前状态为「已退单」，不能执行「签收」（当前可执行：改派、驳回退单）"},
    )


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"state": "foo"}, "参数 state 的值 foo 无效"),
        ({"state": "RECEIVED"}, "参数 state 的值 RECEIVED 无效"),
        ({"kind": "gripe"}, "参数 kind 的值 gripe 无效"),
        ({"channel": "fax"}, "参数 channel 的值 fax 无效"),
        ({"category": "nope"}, "参数 category 的值 nope 无效"),
        ({"unit": "nope"}, "参数 unit 的值 nope 无效"),
        ({"overdue": "maybe"}, "参数 overdue 应为 true 或 false"),
        ({"overdue": "1"}, "参数 overdue 应为 true 或 false"),
        ({"overdue": ""}, "参数 overdue 应为 true 或 false"),
        ({"page": "0"}, "参数 page 应为 1 到 100000 之间的整数"),
        ({"page": "-1"}, "参数 page 应为 1 到 100000 之间的整数"),
        ({"page": "abc"}, "参数 page 应为 1 到 100000 之间的整数"),
        ({"page": ""}, "参数 page 应为 1 到 100000 之间的整数"),
        ({"page": "1.5"}, "参数 page 应为 1 到 100000 之间的整数"),
        ({"page": "²"}, "参数 page 应为 1 到 100000 之间的整数"),
        ({"page": "9" * 5000}, "参数 page 应为 1 到 100000 之间的整数"),
        ({"per_page": "1000"}, "参数 per_page 应为 1 到 100 之间的整数"),
        ({"per_page": "0"}, "参数 per_page 应为 1 到 100 之间的整数"),
        ({"per_page": "١٠"}, "参数 per_page 应为 1 到 100 之间的整数"),
        ({"q": "x" * 101}, "搜索词不能超过 100 字"),
    ],
)
async def test_bad_list_filters_are_400(
    client: Any, desk: dict[str, str], params: dict[str, str], reason: str
) -> None:
    response = await client.get(f"{API}/inquiries", params=params, headers=desk)
    assert await answer(response) == (400, {"error": reason})


async def test_a_body_over_256_kib_is_413(client: Any, desk: dict[str, str], rsj: dict[str, str]) -> None:
    number = await acknowledged(client, desk, rsj)
    huge = json.dumps({"text": "x" * (256 * 1024), "resolved": True})
    for headers, path in (
        (rsj, f"/inquiries/{number}/actions/reply"),
        (desk, "/inquiries"),
        ({}, "/auth/login"),
    ):
        status, refusal = await post_raw(client, headers, path, huge)
        assert status == 413, path
        assert refusal == {"error": "请求体过大（上限 256 KiB）"}, path
    assert (await Inquiry.get(number=number)).state == "acknowledged"
    # just under the limit is read (and then refused for its content, not its size)
    under = json.dumps({"text": "x" * (200 * 1024), "resolved": True})
    assert await post_raw(client, rsj, f"/inquiries/{number}/actions/reply", under) == (
        400,
        {"error": "字段 text 超过 5000 字"},
    )


async def test_a_huge_body_is_not_read_without_a_token(client: Any) -> None:
    response = await client.post(f"{API}/inquiries", data=b"x" * (300 * 1024))
    assert await answer(response) == (401, UNAUTHORISED)


async def test_a_method_the_route_does_not_have_is_405(client: Any, desk: dict[str, str]) -> None:
    response = await client.delete(f"{API}/inquiries", headers=desk)
    assert await answer(response) == (405, {"error": "该接口不支持 DELETE 方法"})
    assert set(response.headers["Allow"].split(",")) == {"GET", "HEAD", "POST"}


async def test_an_unknown_api_path_is_a_json_404(client: Any, desk: dict[str, str]) -> None:
    response = await client.get(f"{API}/nothing-here", headers=desk)
    assert await answer(response) == (404, {"error": "没有这个接口"})


async def test_an_unexpected_failure_is_a_json_500(
    client: Any, service: Any, desk: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(service, "get", broken)
    response = await client.get(f"{API}/inquiries/WZ20261127-00001", headers=desk)
    assert await answer(response) == (500, {"error": "服务器内部错误，请稍后重试"})
    assert (await client.get(f"{API}/me", headers=desk)).status == 200  # and it keeps serving


async def test_an_intake_the_database_cannot_take_now_is_a_503_in_json(
    client: Any, desk: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    connection: Any = get_connection("default")
    if connection.capabilities.dialect != "sqlite":
        pytest.skip("SQLite's write lock")
    monkeypatch.setattr(batch_connection, "LOCK_WAIT_SECONDS", 0.1)
    holder = sqlite3.connect(connection.filename, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        body = {"kind": "complaint", "category": "shebao", "content": "医保报销慢"}
        response = await client.post("/api/v1/inquiries", json=body, headers=desk)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (response.status, await response.json()) == (503, {"error": BUSY})
    assert response.headers["Retry-After"] == "5"  # as every request the database cannot take now
    assert await Inquiry.all().count() == 0
