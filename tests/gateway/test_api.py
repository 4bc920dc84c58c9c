"""The staff API (product.md §9) end to end: an inquiry's whole life, the other paths, the list, races."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from staff_api import act, bearer, get, post

from core.actors import Actor
from core.deadlines import Deadline
from core.models import Inquiry, InquiryEvent, Staff
from core.service import InquiryService
from gateway.serialize import beijing

CASE_NUMBER = re.compile(r"WZ\d{8}-\d{5}")
BEIJING_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00")


@pytest.fixture
async def staff(client: Any) -> dict[str, dict[str, str]]:
    """Authorization headers: the desk, handlers of rsj (two), cgj and jwjw, a supervisor."""
    accounts = {
        "desk": ("desk", None),
        "rsj": ("handler", "rsj"),
        "rsj2": ("handler", "rsj"),
        "cgj": ("handler", "cgj"),
        "jwjw": ("handler", "jwjw"),
        "supervisor": ("supervisor", None),
    }
    return {name: await bearer(name, role, unit) for name, (role, unit) in accounts.items()}


async def ok(client: Any, headers: dict[str, str], number: str, action: str, body: Any = None) -> Any:
    status, inquiry = await act(client, headers, number, action, body)
    assert status == 200, inquiry
    return inquiry


async def register(client: Any, headers: dict[str, str], **fields: Any) -> Any:
    body = {"kind": "complaint", "category": "shebao", "content": "社保卡补办三个月没有消息"} | fields
    status, inquiry = await post(client, headers, "/inquiries", body)
    assert status == 201, inquiry
    return inquiry


async def event_time(number: str, action: str) -> datetime:
    """When the last ``action`` on ``number`` happened, with full precision, from the database."""
    event = await InquiryEvent.filter(inquiry__number=number, action=action).order_by("-id").first()
    assert event is not None
    return event.created_at


def parse(value: str) -> datetime:
    assert BEIJING_ISO.fullmatch(value), value
    return datetime.fromisoformat(value)


def moves(inquiry: Any) -> list[tuple[str, str, str | None, str]]:
    return [(e["action"], e["actor"]["name"], e["from"], e["to"]) for e in inquiry["events"]]


async def replied(client: Any, staff: dict[str, dict[str, str]], **fields: Any) -> str:
    """A shebao inquiry answered by rsj, waiting for the citizen's rating; returns its number."""
    number = (await register(client, staff["desk"], **fields))["number"]
    await ok(client, staff["desk"], number, "dispatch")
    await ok(client, staff["rsj"], number, "acknowledge")
    await ok(client, staff["rsj"], number, "reply", {"text": "已办理", "resolved": True, "basis": ""})
    return number


async def rate(service: InquiryService, number: str, rating: str) -> None:
    await service.act(number, "rate", Actor.citizen(), {"rating": rating})


# --- 1. the whole life ------------------------------------------------------------------------------------


async def test_whole_life_through_the_api(client: Any, service: InquiryService, staff: Any) -> None:
    desk, rsj = staff["desk"], staff["rsj"]
    shebao = service.rules.category("shebao")

    created = await register(
        client, desk, contact_name="张三", contact_phone="13800000000", consent_to_publish=True
    )
    number = created["number"]
    assert CASE_NUMBER.fullmatch(number)
    assert created["state"] == "received"
    assert created["channel"] == "desk"
    assert created["unit"] is None
    assert created["ack_due_at"] is None
    assert created["reply_due_at"] is None
    assert created["contact"] == {"name": "张三", "phone": "13800000000"}
    assert created["allowed_actions"] == [
        "dispatch",
        "answer-directly",
        "reject",
        "redirect",
        "merge",
        "note",
    ]
    assert [(m["direction"], m["text"]) for m in created["messages"]] == [("in", "社保卡补办三个月没有消息")]
    assert moves(created) == [("intake", "desk", None, "received")]
    assert created["events"][0]["actor"] == {"kind": "staff", "name": "desk"}

    # dispatch: the category's unit, and an acknowledgement window of 8 working hours from then
    dispatched = await ok(client, desk, number, "dispatch")
    assert dispatched["state"] == "dispatched"
    assert dispatched["unit"] == {"code": "rsj", "name": "市人力资源和社会保障局"}
    at = await event_time(number, "dispatch")
    assert dispatched["ack_due_at"] == beijing(service.deadlines.due(at, shebao.ack).due_at)
    assert parse(dispatched["ack_due_at"]) > at
    assert dispatched["events"][-1]["at"] == beijing(at)
    assert dispatched["events"][-1]["data"]["ack_due_at"] == dispatched["ack_due_at"]  # Beijing time too
    assert dispatched["allowed_actions"] == ["note"]  # the desk waits for the unit

    # the unit acknowledges: a reply window of 7 working days, due at the end of the day
    status, seen = await get(client, rsj, f"/inquiries/{number}")
    assert status == 200
    assert seen["allowed_actions"] == ["acknowledge", "return", "note"]
    acknowledged = await ok(client, rsj, number, "acknowledge")
    assert acknowledged["state"] == "acknowledged"
    at = await event_time(number, "acknowledge")
    reply_due = parse(acknowledged["reply_due_at"])
    assert acknowledged["reply_due_at"] == beijing(service.deadlines.due(at, shebao.reply).due_at)
    assert acknowledged["reply_due_at"].endswith("T23:59:59+08:00")
    assert reply_due - at > timedelta(days=7)  # the 7th working day after today ends over 7 days on
    assert acknowledged["ack_due_at"] == dispatched["ack_due_at"]
    assert acknowledged["events"][-1]["data"] == {"reply_due_at": acknowledged["reply_due_at"]}

    # extension: asked by the unit, approved by the desk; the deadline moves by 3 working days
    asked = await ok(client, rsj, number, "request-extension", {"days": 3, "reason": "需要现场核查"})
    assert asked["state"] == "acknowledged"
    assert asked["extension"] == {
        "pending_days": 3,
        "pending_reason": "需要现场核查",
        "approved_days": 0,
        "count": 0,
    }
    assert asked["reply_due_at"] == acknowledged["reply_due_at"]
    approved = await ok(client, desk, number, "approve-extension")
    expected = service.deadlines.extend(Deadline(reply_due, provisional=False), 3).due_at
    assert approved["reply_due_at"] == beijing(expected)
    assert parse(approved["reply_due_at"]) - reply_due >= timedelta(days=3)
    assert approved["events"][-1]["data"] == {"days": 3, "reply_due_at": approved["reply_due_at"]}
    assert approved["extension"] == {"pending_days": 0, "pending_reason": "", "approved_days": 3, "count": 1}
    assert approved["messages"][-1]["direction"] == "out"
    assert approved["messages"][-1]["text"] == "您的诉求承办单位已获准延期 3 个工作日办理。"

    # reply: the answer goes out to the citizen, signed by the unit's spokesperson
    answer = "经核查，您的社保卡已补办完成，请到窗口领取。"
    reply = {"text": answer, "resolved": True, "basis": "《社会保障卡管理办法》", "contact": "0991-4567890"}
    done = await ok(client, rsj, number, "reply", reply)
    assert done["state"] == "replied"
    assert done["reply"] == {
        "text": answer,
        "resolved": True,
        "basis": "《社会保障卡管理办法》",
        "contact": "0991-4567890",
        "note": "",
        "signature": "市人力资源和社会保障局 网络发言人",
    }
    assert (done["messages"][-1]["direction"], done["messages"][-1]["text"]) == ("out", answer)
    assert parse(done["replied_at"]) == (await event_time(number, "reply")).replace(microsecond=0)

    # the citizen rates on their channel; the case is closed
    await rate(service, number, "satisfied")
    status, closed = await get(client, desk, f"/inquiries/{number}")
    assert status == 200
    assert closed["state"] == "closed"
    assert closed["close_reason"] == "rated"
    assert closed["rating"]["value"] == "satisfied"
    assert closed["rating"]["label"] == "满意"
    assert closed["allowed_actions"] == ["publish", "note"]
    assert moves(closed) == [
        ("intake", "desk", None, "received"),
        ("dispatch", "desk", "received", "dispatched"),
        ("acknowledge", "rsj", "dispatched", "acknowledged"),
        ("request-extension", "rsj", "acknowledged", "acknowledged"),
        ("approve-extension", "desk", "acknowledged", "acknowledged"),
        ("reply", "rsj", "acknowledged", "replied"),
        ("rate", "来信人", "replied", "closed"),
    ]
    assert [e["actor"]["kind"] for e in closed["events"]] == ["staff"] * 6 + ["citizen"]
    assert closed["events"][1]["data"]["unit"] == "rsj"
    assert closed["events"][3]["data"] == {"days": 3, "reason": "需要现场核查"}
    assert closed["version"] == 6
    for field in ("created_at", "updated_at", "dispatched_at", "acknowledged_at", "closed_at"):
        parse(closed[field])
    for event in closed["events"]:
        parse(event["at"])


async def test_dispatch_to_an_explicit_unit(client: Any, staff: Any) -> None:
    number = (await register(client, staff["desk"]))["number"]
    inquiry = await ok(client, staff["desk"], number, "dispatch", {"unit": "cgj"})
    assert inquiry["unit"] == {"code": "cgj", "name": "市城市管理局"}
    assert inquiry["events"][-1]["data"]["unit"] == "cgj"
    assert (await get(client, staff["cgj"], f"/inquiries/{number}"))[0] == 200
    assert (await get(client, staff["rsj"], f"/inquiries/{number}"))[0] == 404


async def test_dispatch_to_an_unknown_unit_is_refused(client: Any, staff: Any) -> None:
    number = (await register(client, staff["desk"]))["number"]
    assert await act(client, staff["desk"], number, "dispatch", {"unit": "nope"}) == (
        400,
        {"error": "没有编码为 nope 的单位"},
    )


async def test_registering_gives_the_query_code_once_for_the_caller(client: Any, staff: Any) -> None:
    registered = await register(client, staff["desk"])
    stored = await Inquiry.get(number=registered["number"])
    assert registered["query_code"] == stored.query_code
    assert "query_code" not in (await get(client, staff["desk"], f"/inquiries/{stored.number}"))[1]
    page = await client.get(f"/cases/{stored.number}", params={"code": registered["query_code"]})
    assert page.status == 200


async def test_an_action_with_the_version_read_is_refused_once_someone_else_moved_it(
    client: Any, staff: Any
) -> None:
    registered = await register(client, staff["desk"])
    number, seen = registered["number"], registered["version"]
    await ok(client, staff["desk"], number, "note", {"text": "已电话联系来信人"})  # does not move it
    moved = await ok(client, staff["desk"], number, "dispatch", {"version": seen})
    status, body = await act(client, staff["desk"], number, "redispatch", {"unit": "cgj", "version": seen})
    assert status == 409
    assert "已被他人更新" in body["error"]
    assert (await Inquiry.get(number=number)).version == moved["version"]
    assert (await act(client, staff["desk"], number, "note", {"text": "x", "version": "1"}))[0] == 400


async def test_register_with_another_channel_and_kind(client: Any, staff: Any) -> None:
    inquiry = await register(client, staff["desk"], kind="suggestion", category="jiaotong", channel="web")
    assert (inquiry["kind"], inquiry["kind_label"]) == ("suggestion", "建议")
    assert (inquiry["channel"], inquiry["channel_label"]) == ("web", "网站")
    assert inquiry["category_name"] == "交通"


# --- 2. the other paths -----------------------------------------------------------------------------------


async def test_return_then_redispatch_to_another_unit(
    client: Any, service: InquiryService, staff: Any
) -> None:
    desk = staff["desk"]
    number = (await register(client, desk))["number"]
    await ok(client, desk, number, "dispatch")
    await ok(client, staff["rsj"], number, "acknowledge")
    returned = await ok(client, staff["rsj"], number, "return", {"reason": "属城管职责"})
    assert returned["state"] == "returned"
    assert returned["counts"]["returns"] == 1
    assert returned["events"][-1]["data"] == {"reason": "属城管职责"}

    assert await act(client, desk, number, "redispatch", {"unit": "rsj"}) == (
        400,
        {"error": "改派须选择另一个单位；如退单理由不成立，请驳回退单"},
    )
    assert await act(client, desk, number, "redispatch") == (400, {"error": "缺少字段 unit"})
    redispatched = await ok(client, desk, number, "redispatch", {"unit": "cgj"})
    assert redispatched["state"] == "dispatched"
    assert redispatched["unit"]["code"] == "cgj"
    assert redispatched["reply_due_at"] is None
    assert redispatched["acknowledged_at"] is None
    at = await event_time(number, "redispatch")
    assert redispatched["ack_due_at"] == beijing(
        service.deadlines.due(at, service.rules.category("shebao").ack).due_at
    )
    assert moves(redispatched)[-2:] == [
        ("return", "rsj", "acknowledged", "returned"),
        ("redispatch", "desk", "returned", "dispatched"),
    ]
    assert (await get(client, staff["rsj"], f"/inquiries/{number}"))[0] == 404
    assert (await ok(client, staff["cgj"], number, "acknowledge"))["state"] == "acknowledged"


async def test_refuse_return_sends_it_back_to_the_same_unit(client: Any, staff: Any) -> None:
    desk = staff["desk"]
    number = (await register(client, desk))["number"]
    await ok(client, desk, number, "dispatch")
    await ok(client, staff["rsj"], number, "return", {"reason": "不属本单位"})
    assert await act(client, desk, number, "refuse-return") == (400, {"error": "缺少字段 reason"})
    refused = await ok(client, desk, number, "refuse-return", {"reason": "社保卡属人社局职责"})
    assert refused["state"] == "dispatched"
    assert refused["unit"]["code"] == "rsj"
    assert refused["events"][-1]["data"]["reason"] == "社保卡属人社局职责"
    assert moves(refused)[-1] == ("refuse-return", "desk", "returned", "dispatched")


async def test_refuse_extension(client: Any, staff: Any) -> None:
    number = (await register(client, staff["desk"]))["number"]
    await ok(client, staff["desk"], number, "dispatch")
    before = await ok(client, staff["rsj"], number, "acknowledge")
    await ok(client, staff["rsj"], number, "request-extension", {"days": 2, "reason": "等待材料"})
    status, body = await act(client, staff["rsj"], number, "request-extension", {"days": 2, "reason": "再等"})
    assert (status, body) == (409, {"error": "已有一项延期申请待审核"})
    refused = await ok(client, staff["desk"], number, "refuse-extension", {"reason": "期限足够"})
    assert refused["reply_due_at"] == before["reply_due_at"]
    assert refused["extension"] == {"pending_days": 0, "pending_reason": "", "approved_days": 0, "count": 0}
    assert await act(client, staff["desk"], number, "approve-extension") == (
        409,
        {"error": "没有待审核的延期申请"},
    )


async def test_answer_directly(client: Any, service: InquiryService, staff: Any) -> None:
    number = (await register(client, staff["desk"], kind="consultation"))["number"]
    answered = await ok(client, staff["desk"], number, "answer-directly", {"text": "可在线办理。"})
    assert answered["state"] == "replied"
    assert answered["unit"] is None
    assert answered["reply"]["text"] == "可在线办理。"
    assert answered["reply"]["signature"] == "网络问政受理中心"
    assert (answered["messages"][-1]["direction"], answered["messages"][-1]["text"]) == (
        "out",
        "可在线办理。",
    )
    assert moves(answered)[-1] == ("answer-directly", "desk", "received", "replied")
    await rate(service, number, "basically_satisfied")
    status, closed = await get(client, staff["desk"], f"/inquiries/{number}")
    assert status == 200
    assert (closed["state"], closed["rating"]["label"]) == ("closed", "基本满意")


async def test_reject_with_a_reason(client: Any, staff: Any) -> None:
    number = (await register(client, staff["desk"]))["number"]
    assert await act(client, staff["desk"], number, "reject") == (400, {"error": "缺少字段 reason"})
    rejected = await ok(client, staff["desk"], number, "reject", {"reason": "内容与政务无关"})
    assert (rejected["state"], rejected["close_reason"]) == ("closed", "rejected")
    assert rejected["close_reason_label"] == "不予受理"
    assert rejected["messages"][-1]["text"] == "您的诉求不予受理。理由：内容与政务无关"
    assert moves(rejected)[-1] == ("reject", "desk", "received", "closed")
    assert rejected["allowed_actions"] == ["note"]


async def test_redirect_to_a_legal_channel(client: Any, staff: Any) -> None:
    number = (await register(client, staff["desk"]))["number"]
    assert await act(client, staff["desk"], number, "redirect", {"to": "人民法院"}) == (
        400,
        {"error": "缺少字段 text"},
    )
    redirected = await ok(
        client, staff["desk"], number, "redirect", {"to": "人民法院", "text": "民事纠纷请依法起诉。"}
    )
    assert (redirected["state"], redirected["close_reason"]) == ("closed", "redirected")
    assert redirected["events"][-1]["data"] == {"to": "人民法院", "text": "民事纠纷请依法起诉。"}
    assert redirected["messages"][-1]["text"] == "您反映的事项请通过人民法院办理：民事纠纷请依法起诉。"


async def test_merge_into_another_inquiry(client: Any, staff: Any) -> None:
    desk = staff["desk"]
    main = (await register(client, desk))["number"]
    duplicate = (await register(client, desk))["number"]
    assert await act(client, desk, duplicate, "merge", {"into": duplicate.lower()}) == (
        400,
        {"error": "不能并入自身"},
    )
    assert await act(client, desk, duplicate, "merge", {"into": "WZ20000101-00001"}) == (
        400,
        {"error": "没有编号为 WZ20000101-00001 的诉求"},
    )
    assert await act(client, desk, duplicate, "merge") == (400, {"error": "缺少字段 into"})
    merged = await ok(client, desk, duplicate, "merge", {"into": main})
    assert (merged["state"], merged["close_reason"], merged["merged_into"]) == ("closed", "merged", main)
    assert merged["events"][-1]["data"] == {"into": main}
    assert merged["messages"][-1]["text"] == f"您的诉求与 {main} 反映的是同一事项，已合并办理。"
    third = (await register(client, desk))["number"]
    assert await act(client, desk, third, "merge", {"into": duplicate}) == (
        400,
        {"error": f"{duplicate} 本身已并入其他诉求，请并入主诉求"},
    )
    status, main_inquiry = await get(client, desk, f"/inquiries/{main}")
    assert status == 200
    assert (main_inquiry["state"], main_inquiry["merged_into"]) == ("received", None)


async def test_unsatisfied_rating_reopens_once(client: Any, service: InquiryService, staff: Any) -> None:
    desk, rsj = staff["desk"], staff["rsj"]
    number = await replied(client, staff)
    await rate(service, number, "unsatisfied")
    status, closed = await get(client, desk, f"/inquiries/{number}")
    assert status == 200
    assert closed["allowed_actions"] == ["reopen", "note"]  # no consent: no publish

    reopened = await ok(client, desk, number, "reopen")
    assert reopened["state"] == "acknowledged"
    assert reopened["counts"]["reopens"] == 1
    assert reopened["rating"]["value"] is None
    assert reopened["close_reason"] is None
    at = await event_time(number, "reopen")
    assert reopened["reply_due_at"] == beijing(
        service.deadlines.due(at, service.rules.category("shebao").reply).due_at
    )
    assert moves(reopened)[-2:] == [
        ("rate", "来信人", "replied", "closed"),
        ("reopen", "desk", "closed", "acknowledged"),
    ]
    assert reopened["events"][-1]["data"]["previous_rating"] == "unsatisfied"
    assert reopened["messages"][-1]["text"] == "您的诉求已发回承办单位重新办理。"

    await ok(client, rsj, number, "reply", {"text": "重新办理完毕", "resolved": False, "basis": ""})
    await rate(service, number, "unsatisfied")
    assert await act(client, desk, number, "reopen") == (409, {"error": "该诉求已重办 1 次，达到上限"})


async def test_reopen_needs_an_unsatisfied_rating(client: Any, service: InquiryService, staff: Any) -> None:
    number = await replied(client, staff)
    assert await act(client, staff["desk"], number, "reopen") == (
        409,
        {
            "error": "诉求当前状态为「已答复」，不能执行「重办」（当前可执行：评价、逾期未评价办结）",
        },
    )
    await rate(service, number, "satisfied")
    assert await act(client, staff["desk"], number, "reopen") == (
        409,
        {"error": "只有来信人评价为「不满意」的诉求可以重办"},
    )


async def test_publish_only_with_consent(client: Any, service: InquiryService, staff: Any) -> None:
    desk = staff["desk"]
    without = await replied(client, staff)
    await rate(service, without, "satisfied")
    assert await act(client, desk, without, "publish") == (409, {"error": "来信人未同意公开"})

    with_consent = await replied(client, staff, consent_to_publish=True)
    assert await act(client, desk, with_consent, "publish") == (
        409,
        {"error": "诉求当前状态为「已答复」，不能执行「公开」（当前可执行：评价、逾期未评价办结）"},
    )
    await rate(service, with_consent, "satisfied")
    published = await ok(client, desk, with_consent, "publish")
    assert published["state"] == "closed"
    parse(published["published_at"])
    assert moves(published)[-1] == ("publish", "desk", "closed", "closed")
    assert published["allowed_actions"] == ["note"]
    assert await act(client, desk, with_consent, "publish") == (409, {"error": "该诉求已公开"})

    rejected = (await register(client, desk, consent_to_publish=True))["number"]
    await ok(client, desk, rejected, "reject", {"reason": "重复"})
    assert await act(client, desk, rejected, "publish") == (
        409,
        {"error": "不予受理、转办或已并单的诉求不公开"},
    )


async def test_conduct_complaints_go_to_the_discipline_unit_and_stay_private(
    client: Any, service: InquiryService, staff: Any
) -> None:
    desk = staff["desk"]
    created = await register(
        client,
        desk,
        kind="conduct",
        category="chengguan",
        content="城管执法人员态度粗暴",
        consent_to_publish=True,
    )
    number = created["number"]
    assert created["kind_label"] == "政风行风"
    assert created["urgent"] is True
    assert created["consent_to_publish"] is False
    for unit in ("cgj", "rsj"):
        assert await act(client, desk, number, "dispatch", {"unit": unit}) == (
            400,
            {"error": "政风行风投诉只能交由纪委监委办理，不得交给被反映单位"},
        )
    dispatched = await ok(client, desk, number, "dispatch")
    assert dispatched["unit"] == {"code": "jwjw", "name": "市纪委监委"}
    assert (await get(client, staff["cgj"], f"/inquiries/{number}"))[0] == 404

    jwjw = staff["jwjw"]
    await ok(client, jwjw, number, "return", {"reason": "请核实"})
    assert await act(client, desk, number, "redispatch", {"unit": "cgj"}) == (
        400,
        {"error": "政风行风投诉只能交由纪委监委办理，不得交给被反映单位"},
    )
    await ok(client, desk, number, "refuse-return", {"reason": "应由纪委监委调查"})
    await ok(client, jwjw, number, "acknowledge")
    await ok(client, jwjw, number, "reply", {"text": "已调查处理", "resolved": True, "basis": ""})
    await rate(service, number, "satisfied")
    status, closed = await get(client, desk, f"/inquiries/{number}")
    assert status == 200
    assert closed["allowed_actions"] == ["note"]
    assert await act(client, desk, number, "publish") == (409, {"error": "政风行风投诉一律不公开"})


async def test_explicit_dispatch_of_a_conduct_complaint_to_the_discipline_unit(
    client: Any, staff: Any
) -> None:
    number = (await register(client, staff["desk"], kind="conduct", category="zhengfeng"))["number"]
    assert (await ok(client, staff["desk"], number, "dispatch", {"unit": "jwjw"}))["unit"]["code"] == "jwjw"


@pytest.mark.parametrize("who", ["desk", "rsj", "supervisor"])
async def test_note_adds_an_event_without_changing_the_version(client: Any, staff: Any, who: str) -> None:
    number = (await register(client, staff["desk"]))["number"]
    before = await ok(client, staff["desk"], number, "dispatch")
    noted = await ok(client, staff[who], number, "note", {"text": "已电话联系来信人"})
    assert noted["version"] == before["version"] == 1
    assert noted["state"] == "dispatched"
    assert noted["updated_at"] == before["updated_at"]
    assert len(noted["events"]) == len(before["events"]) + 1
    assert moves(noted)[-1] == ("note", who, "dispatched", "dispatched")
    assert noted["events"][-1]["data"] == {"text": "已电话联系来信人"}
    assert noted["messages"] == before["messages"]  # internal: nothing goes to the citizen
    assert await act(client, staff[who], number, "note", {"text": " "}) == (400, {"error": "缺少字段 text"})


# --- 6. concurrency ---------------------------------------------------------------------------------------


async def test_two_handlers_acknowledge_at_once_exactly_one_wins(client: Any, staff: Any) -> None:
    number = (await register(client, staff["desk"]))["number"]
    await ok(client, staff["desk"], number, "dispatch")
    results = await asyncio.gather(
        act(client, staff["rsj"], number, "acknowledge"),
        act(client, staff["rsj2"], number, "acknowledge"),
    )
    assert sorted(status for status, _ in results) == [200, 409]
    loser = next(body for status, body in results if status == 409)
    assert set(loser) == {"error"}
    assert loser["error"] in (
        "该诉求刚被他人更新，请刷新后重试",
        "诉求当前状态为「办理中」，不能执行「签收」（当前可执行：退单、申请延期、批准延期、驳回延期、答复）",
    )
    assert await InquiryEvent.filter(inquiry__number=number, action="acknowledge").count() == 1
    inquiry = await Inquiry.get(number=number)
    assert (inquiry.state, inquiry.version) == ("acknowledged", 2)


async def test_desk_dispatches_to_two_units_at_once_exactly_one_wins(client: Any, staff: Any) -> None:
    number = (await register(client, staff["desk"]))["number"]
    results = await asyncio.gather(
        act(client, staff["desk"], number, "dispatch", {"unit": "rsj"}),
        act(client, staff["desk"], number, "dispatch", {"unit": "cgj"}),
    )
    assert sorted(status for status, _ in results) == [200, 409]
    winner = next(body for status, body in results if status == 200)
    events = await InquiryEvent.filter(inquiry__number=number, action="dispatch")
    assert len(events) == 1
    assert events[0].data["unit"] == winner["unit"]["code"]
    inquiry = await Inquiry.get(number=number).prefetch_related("unit")
    assert inquiry.unit is not None
    assert inquiry.unit.code == winner["unit"]["code"]
    assert inquiry.version == 1


# --- 7. the list ------------------------------------------------------------------------------------------


def numbers(listing: Any) -> list[str]:
    return [item["number"] for item in listing["items"]]


async def test_list_filters_and_newest_first(client: Any, service: InquiryService, staff: Any) -> None:
    desk = staff["desk"]
    a = (await register(client, desk, content="社保断缴"))["number"]
    b = (await register(client, desk, kind="suggestion", category="chengguan", content="占道经营"))["number"]
    c = (await register(client, desk, kind="help", category="jiuye", channel="web", content="找工作"))[
        "number"
    ]
    await ok(client, desk, b, "dispatch")
    await ok(client, desk, c, "dispatch")
    await ok(client, staff["rsj"], c, "acknowledge")

    status, everything = await get(client, desk, "/inquiries")
    assert status == 200
    assert numbers(everything) == [c, b, a]
    assert (everything["total"], everything["page"], everything["per_page"]) == (3, 1, 20)
    item = everything["items"][0]
    assert item["state"] == "acknowledged"
    assert item["unit"] == {"code": "rsj", "name": "市人力资源和社会保障局"}
    assert item["summary"] == "找工作"
    assert item["overdue"] == {"ack": False, "reply": False}
    parse(item["created_at"])
    parse(item["reply_due_at"])

    cases = [
        ({"state": "received"}, [a]),
        ({"state": "dispatched"}, [b]),
        ({"state": "acknowledged"}, [c]),
        ({"kind": "suggestion"}, [b]),
        ({"kind": "complaint"}, [a]),
        ({"category": "jiuye"}, [c]),
        ({"channel": "web"}, [c]),
        ({"channel": "desk"}, [b, a]),
        ({"unit": "rsj"}, [c]),
        ({"unit": "cgj"}, [b]),
        ({"unit": "jyj"}, []),
        ({"q": "占道"}, [b]),
        ({"q": a}, [a]),
        ({"q": " " + a.lower() + " "}, [a]),
        ({"q": "社保"}, [a]),
        ({"state": "received", "kind": "suggestion"}, []),
        ({"overdue": "true"}, []),
        ({"overdue": "false"}, [c, b, a]),
        # empty is no filter, for every parameter (an "any" option in a form sends it empty)
        ({"state": ""}, [c, b, a]),
        ({"kind": ""}, [c, b, a]),
        ({"channel": ""}, [c, b, a]),
        ({"category": "", "unit": ""}, [c, b, a]),
        ({"state": "", "kind": "suggestion", "channel": ""}, [b]),
    ]
    for params, expected in cases:
        status, listing = await get(client, desk, "/inquiries", **params)
        assert status == 200, (params, listing)
        assert (numbers(listing), listing["total"]) == (expected, len(expected)), params


async def test_list_q_is_a_literal_text_search(client: Any, staff: Any) -> None:
    desk = staff["desk"]
    await register(client, desk, content="路灯不亮")
    percent = (await register(client, desk, content="收费上涨 50% 不合理"))["number"]
    for q, expected in (("0%", [percent]), ("0_", []), ("50%", [percent])):
        status, listing = await get(client, desk, "/inquiries", q=q)
        assert (status, numbers(listing)) == (200, expected), q


async def test_list_paging(client: Any, staff: Any) -> None:
    created = [(await register(client, staff["desk"], content=f"第{i}件"))["number"] for i in range(5)]
    newest_first = created[::-1]
    status, first = await get(client, staff["desk"], "/inquiries", per_page="2")
    assert (status, numbers(first), first["total"], first["page"], first["per_page"]) == (
        200,
        newest_first[:2],
        5,
        1,
        2,
    )
    _, second = await get(client, staff["desk"], "/inquiries", per_page="2", page="2")
    assert (numbers(second), second["page"]) == (newest_first[2:4], 2)
    _, third = await get(client, staff["desk"], "/inquiries", per_page="2", page="3")
    assert numbers(third) == newest_first[4:]
    _, beyond = await get(client, staff["desk"], "/inquiries", per_page="2", page="4")
    assert (numbers(beyond), beyond["total"]) == ([], 5)
    _, most = await get(client, staff["desk"], "/inquiries", per_page="100")
    assert numbers(most) == newest_first


async def test_overdue_finds_a_dispatched_inquiry_past_its_ack_deadline(
    client: Any, service: InquiryService, staff: Any
) -> None:
    desk = staff["desk"]
    late = (await register(client, desk))["number"]
    on_time = (await register(client, desk))["number"]
    past = datetime.now(UTC) - timedelta(days=30)
    desk_actor = Actor.of_staff(await Staff.get(username="desk"))
    earlier = InquiryService(service.rules, service.deadlines, clock=lambda: past)
    await earlier.act(late, "dispatch", desk_actor, {})
    await ok(client, desk, on_time, "dispatch")

    status, listing = await get(client, desk, "/inquiries", overdue="true")
    assert (status, numbers(listing), listing["total"]) == (200, [late], 1)
    assert listing["items"][0]["overdue"] == {"ack": True, "reply": False}
    assert parse(listing["items"][0]["ack_due_at"]) < datetime.now(UTC)
    _, punctual = await get(client, desk, "/inquiries", overdue="false")
    assert numbers(punctual) == [on_time]
    _, mine = await get(client, staff["rsj"], "/inquiries", overdue="true", state="dispatched")
    assert numbers(mine) == [late]
    _, detail = await get(client, staff["rsj"], f"/inquiries/{late}")
    assert detail["overdue"] == {"ack": True, "reply": False}

    # a reply deadline that has passed counts too, once acknowledged
    await ok(client, staff["rsj"], on_time, "acknowledge")
    await Inquiry.filter(number=on_time).update(reply_due_at=past)
    _, listing = await get(client, desk, "/inquiries", overdue="true")
    assert numbers(listing) == [on_time, late]
    assert listing["items"][0]["overdue"] == {"ack": False, "reply": True}
