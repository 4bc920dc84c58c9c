"""Unit isolation and roles on every route of the staff API (product.md §1, §9)."""

from __future__ import annotations

from typing import Any

import pytest
from staff_api import act, bearer, get, post

from core.models import Inquiry, InquiryEvent, InquiryMessage
from core.service import ACTION_ROLES, DESK_ROLES
from core.states import Action
from core.vocab import UNIT_ROLES

STAFF_ACTIONS = sorted(ACTION_ROLES)
DESK_ACTIONS = sorted(a for a, roles in ACTION_ROLES.items() if roles == DESK_ROLES)
UNIT_ACTIONS = sorted(a for a, roles in ACTION_ROLES.items() if roles == UNIT_ROLES)
# a body that would be valid for each action, so only isolation can refuse it
BODIES: dict[str, dict[str, Any]] = {
    Action.DISPATCH: {"unit": "cgj"},
    Action.RETURN: {"reason": "不属本单位"},
    Action.REDISPATCH: {"unit": "cgj"},
    Action.REFUSE_RETURN: {"reason": "属本单位"},
    Action.REQUEST_EXTENSION: {"days": 2, "reason": "核查"},
    Action.REFUSE_EXTENSION: {"reason": "不需要"},
    Action.REPLY: {"text": "已办理", "resolved": True, "basis": ""},
    Action.ANSWER_DIRECTLY: {"text": "答复"},
    Action.REJECT: {"reason": "无关"},
    Action.REDIRECT: {"to": "法院", "text": "请起诉"},
    Action.MERGE: {"into": "WZ20000101-00001"},
    Action.NOTE: {"text": "备注"},
    Action.RATE: {"rating": "satisfied"},
}


def test_the_role_table_splits_as_the_product_says() -> None:
    assert set(DESK_ACTIONS) == {
        "dispatch",
        "answer-directly",
        "reject",
        "redirect",
        "merge",
        "redispatch",
        "refuse-return",
        "approve-extension",
        "refuse-extension",
        "reopen",
        "publish",
    }
    assert set(UNIT_ACTIONS) == {"acknowledge", "return", "request-extension", "reply"}
    assert set(STAFF_ACTIONS) == {*DESK_ACTIONS, *UNIT_ACTIONS, "note"}


@pytest.fixture
async def staff(client: Any) -> dict[str, dict[str, str]]:
    accounts = {
        "desk": ("desk", None),
        "admin": ("admin", None),
        "supervisor": ("supervisor", None),
        "rsj": ("handler", "rsj"),
        "cgj": ("handler", "cgj"),
        "cgj-spokesperson": ("spokesperson", "cgj"),
        "cgj-leader": ("leader", "cgj"),
        "nounit": ("handler", None),
    }
    return {name: await bearer(name, role, unit) for name, (role, unit) in accounts.items()}


async def rsj_inquiry(client: Any, staff: dict[str, dict[str, str]], *, acknowledge: bool = True) -> str:
    """A shebao inquiry dispatched to rsj (and acknowledged there, by default)."""
    body = {"kind": "complaint", "category": "shebao", "content": "养老金没有按时发放"}
    status, created = await post(client, staff["desk"], "/inquiries", body)
    assert status == 201, created
    number = created["number"]
    assert (await act(client, staff["desk"], number, "dispatch"))[0] == 200
    if acknowledge:
        assert (await act(client, staff["rsj"], number, "acknowledge"))[0] == 200
    return number


async def footprint(number: str) -> tuple[Any, ...]:
    inquiry = await Inquiry.get(number=number)
    return (
        inquiry.state,
        inquiry.version,
        inquiry.updated_at,
        await InquiryEvent.filter(inquiry_id=inquiry.id).count(),
        await InquiryMessage.filter(inquiry_id=inquiry.id).count(),
    )


NOT_FOUND = "没有找到诉求 {}"


@pytest.mark.parametrize("who", ["cgj", "cgj-spokesperson", "cgj-leader", "nounit"])
async def test_another_units_inquiry_is_not_found(client: Any, staff: Any, who: str) -> None:
    number = await rsj_inquiry(client, staff)
    headers = staff[who]
    assert await get(client, headers, f"/inquiries/{number}") == (404, {"error": NOT_FOUND.format(number)})
    lower = number.lower()
    assert await get(client, headers, f"/inquiries/{lower}") == (404, {"error": NOT_FOUND.format(lower)})


@pytest.mark.parametrize("action", [*STAFF_ACTIONS, "rate", "close-unrated", "no-such-action"])
@pytest.mark.parametrize("state", ["dispatched", "acknowledged"])
async def test_every_action_on_another_units_inquiry_is_not_found(
    client: Any, staff: Any, action: str, state: str
) -> None:
    number = await rsj_inquiry(client, staff, acknowledge=state == "acknowledged")
    before = await footprint(number)
    status, body = await act(client, staff["cgj"], number, action, BODIES.get(action, {}))
    assert (status, body) == (404, {"error": NOT_FOUND.format(number)})
    assert await footprint(number) == before


async def test_another_units_inquiry_never_appears_in_the_list(client: Any, staff: Any) -> None:
    theirs = await rsj_inquiry(client, staff)
    dispatched = await rsj_inquiry(client, staff, acknowledge=False)
    body = {"kind": "complaint", "category": "chengguan", "content": "养老院门口占道经营"}
    mine = (await post(client, staff["desk"], "/inquiries", body))[1]["number"]
    assert (await act(client, staff["desk"], mine, "dispatch"))[0] == 200

    filters: list[dict[str, str]] = [
        {},
        {"unit": "rsj"},
        {"q": theirs},
        {"q": theirs.lower()},
        {"q": "养老"},
        {"state": "acknowledged"},
        {"state": "dispatched"},
        {"category": "shebao"},
        {"kind": "complaint"},
        {"channel": "desk"},
        {"overdue": "false"},
        {"overdue": "true"},
        {"per_page": "100"},
        {"page": "2", "per_page": "1"},
    ]
    for params in filters:
        status, listing = await get(client, staff["cgj"], "/inquiries", **params)
        assert status == 200, params
        seen = [item["number"] for item in listing["items"]]
        assert theirs not in seen, params
        assert dispatched not in seen, params
        assert listing["total"] <= 1, params
    _, everything = await get(client, staff["cgj"], "/inquiries")
    assert ([i["number"] for i in everything["items"]], everything["total"]) == ([mine], 1)
    _, searched = await get(client, staff["cgj"], "/inquiries", q="养老")
    assert [i["number"] for i in searched["items"]] == [mine]
    _, rsj_view = await get(client, staff["rsj"], "/inquiries")
    assert [i["number"] for i in rsj_view["items"]] == [dispatched, theirs]


async def test_a_received_inquiry_is_nobodys_in_the_units(client: Any, staff: Any) -> None:
    body = {"kind": "complaint", "category": "shebao", "content": "未派单的诉求"}
    number = (await post(client, staff["desk"], "/inquiries", body))[1]["number"]
    for who in ("rsj", "nounit"):
        assert await get(client, staff[who], f"/inquiries/{number}") == (
            404,
            {"error": NOT_FOUND.format(number)},
        )
        assert await act(client, staff[who], number, "acknowledge") == (
            404,
            {"error": NOT_FOUND.format(number)},
        )
        status, listing = await get(client, staff[who], "/inquiries")
        assert (status, listing["items"], listing["total"]) == (200, [], 0), who


@pytest.mark.parametrize("who", ["cgj", "cgj-spokesperson", "cgj-leader"])
@pytest.mark.parametrize("action", DESK_ACTIONS)
async def test_unit_staff_cannot_take_desk_actions_on_their_own_inquiry(
    client: Any, staff: Any, action: str, who: str
) -> None:
    body = {"kind": "complaint", "category": "chengguan", "content": "夜间施工噪音"}
    number = (await post(client, staff["desk"], "/inquiries", body))[1]["number"]
    assert (await act(client, staff["desk"], number, "dispatch"))[0] == 200
    before = await footprint(number)
    status, refusal = await act(client, staff[who], number, action, BODIES.get(action, {}))
    assert (status, refusal) == (403, {"error": f"当前角色不能执行该操作（{action}）"})
    assert await footprint(number) == before


@pytest.mark.parametrize("who", ["desk", "admin"])
@pytest.mark.parametrize("action", UNIT_ACTIONS)
async def test_the_desk_cannot_take_unit_actions(client: Any, staff: Any, action: str, who: str) -> None:
    number = await rsj_inquiry(client, staff, acknowledge=action != "acknowledge")
    before = await footprint(number)
    status, refusal = await act(client, staff[who], number, action, BODIES.get(action, {}))
    assert (status, refusal) == (403, {"error": f"当前角色不能执行该操作（{action}）"})
    assert await footprint(number) == before


@pytest.mark.parametrize("action", ["rate", "close-unrated"])
async def test_staff_cannot_take_the_citizens_or_the_systems_actions(
    client: Any, staff: Any, action: str
) -> None:
    number = await rsj_inquiry(client, staff)
    for who in ("desk", "rsj", "supervisor"):
        status, refusal = await act(client, staff[who], number, action, BODIES.get(action, {}))
        assert (status, refusal) == (403, {"error": f"当前角色不能执行该操作（{action}）"}), who


async def test_a_supervisor_sees_everything_but_may_only_note(client: Any, staff: Any) -> None:
    number = await rsj_inquiry(client, staff)
    supervisor = staff["supervisor"]
    status, inquiry = await get(client, supervisor, f"/inquiries/{number}")
    assert (status, inquiry["number"], inquiry["allowed_actions"]) == (200, number, ["note"])
    status, listing = await get(client, supervisor, "/inquiries", unit="rsj")
    assert (status, [i["number"] for i in listing["items"]]) == (200, [number])
    for action in STAFF_ACTIONS:
        if action == "note":
            continue
        before = await footprint(number)
        status, refusal = await act(client, supervisor, number, action, BODIES.get(action, {}))
        assert (status, refusal) == (403, {"error": f"当前角色不能执行该操作（{action}）"}), action
        assert await footprint(number) == before
    status, noted = await act(client, supervisor, number, "note", {"text": "请加快办理"})
    assert status == 200
    assert (noted["events"][-1]["action"], noted["events"][-1]["actor"]["name"]) == ("note", "supervisor")


async def test_only_the_desk_registers_inquiries(client: Any, staff: Any) -> None:
    body = {"kind": "complaint", "category": "shebao", "content": "窗口登记"}
    for who in ("rsj", "cgj-leader", "supervisor"):
        assert await post(client, staff[who], "/inquiries", body) == (
            403,
            {"error": "只有受理人员可以登记诉求"},
        ), who
    assert (await post(client, staff["admin"], "/inquiries", body))[0] == 201
    assert await Inquiry.all().count() == 1


async def test_allowed_actions_follow_the_viewer(client: Any, staff: Any) -> None:
    number = await rsj_inquiry(client, staff)
    expected = {
        "desk": ["note"],
        "admin": ["note"],
        "supervisor": ["note"],
        "rsj": ["return", "request-extension", "reply", "note"],
    }
    for who, actions in expected.items():
        status, inquiry = await get(client, staff[who], f"/inquiries/{number}")
        assert (status, inquiry["allowed_actions"]) == (200, actions), who


async def test_me_shows_the_role_and_unit(client: Any, staff: Any) -> None:
    assert await get(client, staff["cgj-leader"], "/me") == (
        200,
        {
            "username": "cgj-leader",
            "display_name": "cgj-leader",
            "role": "leader",
            "role_label": "单位领导",
            "unit": {"code": "cgj", "name": "市城市管理局"},
        },
    )
    status, me = await get(client, staff["desk"], "/me")
    assert (status, me["role"], me["unit"]) == (200, "desk", None)


async def test_units_and_categories(client: Any, staff: Any) -> None:
    status, units = await get(client, staff["rsj"], "/units")
    assert status == 200
    assert {"code": "jwjw", "name": "市纪委监委"} in units["items"]
    assert len(units["items"]) == 21
    status, categories = await get(client, staff["rsj"], "/categories")
    assert status == 200
    assert {"code": "gongnuan", "name": "供暖", "unit": "gr", "urgent": True} in categories["items"]
    assert {"code": "conduct", "label": "政风行风"} in categories["kinds"]
