"""The inbox's case page: the whole timeline, deadlines, and the actions of the signed-in role as forms."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.actors import Actor
from core.models import Attachment, Inquiry, InquiryMessage, OutboxMessage, ReplyTemplate, Staff, Unit
from core.service import InquiryService, available_actions
from core.vocab import Channel
from gateway.inbox.case import working_span
from tests.gateway.inbox.conftest import InboxClient, Seed

FORM_ACTION = re.compile(r'action="/inbox/cases/[^/"]+/actions/([a-z-]+)"')
RSJ = "市人力资源和社会保障局"
LOCATION_XML = (
    "<xml><ToUserName>gh_1</ToUserName><FromUserName>o-citizen</FromUserName><CreateTime>1790000000</CreateTime>"
    "<MsgType>location</MsgType><Location_X>43.825592</Location_X><Location_Y>87.616848</Location_Y>"
    "<Scale>15</Scale><Label>乌鲁木齐市天山区解放南路</Label><MsgId>1234567890123456</MsgId></xml>"
)


def case_path(number: str) -> str:
    return f"/inbox/cases/{number}"


def offered(page: str) -> list[str]:
    return FORM_ACTION.findall(page)


def text_of(page: str) -> str:
    """What a reader sees: the page without tags, whitespace collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


async def page_of(inbox: InboxClient, path: str, status: int = 200) -> str:
    response = await inbox.client.get(path)
    assert response.status == status, await response.text()
    return await response.text()


async def act(inbox: InboxClient, number: str, action: str, version: int | None = None, **fields: str) -> Any:
    """Post an action's form as the page offers it, with the current version unless one is given."""
    current = (await Inquiry.get(number=number)).version if version is None else version
    data = {"version": str(current), **fields}
    return await inbox.post_form(f"{case_path(number)}/actions/{action}", data, token_from=case_path(number))


async def done(inbox: InboxClient, response: Any, action: str) -> str:
    """Follow the 303 of a successful action to the case page and its notice."""
    assert response.status == 303, text_of(await response.text())
    assert response.headers["Location"].endswith(f"?done={action}")
    return await page_of(inbox, response.headers["Location"])


@pytest.fixture
async def staff(client: Any, make_staff: Any) -> dict[str, Staff]:
    made = {
        "desk": await make_staff("desk", "desk"),
        "rsj": await make_staff("rsj-h", "handler", "rsj"),
        "rsj-spk": await make_staff("rsj-spk", "spokesperson", "rsj"),
        "cgj": await make_staff("cgj-h", "handler", "cgj"),
        "supervisor": await make_staff("sup", "supervisor"),
    }
    made["rsj-spk"].display_name = "王芳"
    await made["rsj-spk"].save()
    return made


@pytest.fixture
async def acknowledged(service: InquiryService, staff: dict[str, Staff], seed_inquiry: Seed) -> str:
    number = await seed_inquiry("养老金迟迟没有发放", unit="rsj")
    await service.act(number, "acknowledge", Actor.of_staff(staff["rsj"]), {})
    return number


# -- what the page shows --------------------------------------------------------------------------


async def test_the_timeline_shows_messages_events_notes_and_deliveries(
    inbox: InboxClient, service: InquiryService, staff: dict[str, Staff], acknowledged: str
) -> None:
    number = acknowledged
    inquiry = await Inquiry.get(number=number)
    await Inquiry.filter(id=inquiry.id).update(contact_name="张三", contact_phone="13912345678")
    handler = Actor.of_staff(staff["rsj"])
    await service.act(number, "note", handler, {"text": "已电话联系来信人核实"})
    at = datetime.now(UTC)
    photo = await InquiryMessage.create(
        inquiry_id=inquiry.id, direction="in", channel=Channel.WECHAT, kind="image", created_at=at
    )
    await Attachment.create(
        inquiry_id=inquiry.id,
        message_id=photo.id,
        channel=Channel.WECHAT,
        filename="photo.jpg",
        content_type="image/jpeg",
        size=2048,
        storage_path="x/photo.jpg",
        created_at=at,
    )
    await InquiryMessage.create(
        inquiry_id=inquiry.id,
        direction="in",
        channel=Channel.WECHAT,
        kind="location",
        text="乌鲁木齐市天山区解放南路",
        payload=LOCATION_XML,
        created_at=at,
    )
    for kind, state, error in (
        ("request-extension", "failed", "43004 require subscribe"),
        ("reopen", "pending", ""),
    ):
        await InquiryMessage.create(
            inquiry_id=inquiry.id,
            direction="out",
            channel=Channel.WECHAT,
            kind=kind,
            text=f"{kind} 的消息",
            created_at=at,
        )
        await OutboxMessage.create(
            inquiry_id=inquiry.id,
            channel=Channel.WECHAT,
            recipient="o-citizen",
            kind=kind,
            text=f"{kind} 的消息",
            state=state,
            last_error=error,
            next_attempt_at=at,
            created_at=at,
        )
    await inbox.sign_in("rsj-h")
    page = text_of(await page_of(inbox, case_path(number)))
    for shown in (
        "养老金迟迟没有发放",
        "来信人（网站）",
        "受理（网站）",
        f"派单：由 {RSJ} 办理",
        "签收",
        "内部备注",
        "已电话联系来信人核实",
        "张三",
        "13912345678",
        "来信人（微信）图片",
        "photo.jpg",
        "来信人（微信）位置",
        "乌鲁木齐市天山区解放南路 纬度 43.825592，经度 87.616848",
        "发送状态：发送失败（43004 require subscribe）",
        "发送状态：待发送",
    ):
        assert shown in page, shown
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", page)
    assert page.index("受理（网站）") < page.index("派单：") < page.index("已电话联系来信人核实")


async def test_a_reply_event_reads_in_chinese_with_its_internal_note(
    inbox: InboxClient, service: InquiryService, staff: dict[str, Staff], acknowledged: str
) -> None:
    data = {"text": "已发放。", "resolved": False, "basis": "条例", "contact": "0991-1", "note": "领导已批示"}
    await service.act(acknowledged, "reply", Actor.of_staff(staff["rsj"]), data)
    await inbox.sign_in("desk")
    page = text_of(await page_of(inbox, case_path(acknowledged)))
    for shown in ("已发放。", "政策依据 条例", "联系方式 0991-1", f"签发 {RSJ} 网络发言人", "未解决"):
        assert shown in page, shown
    assert "内部备注 领导已批示" in page
    assert "发送状态：在网站查询页展示" in page


async def test_deadlines_show_the_working_time_left_and_the_marks(
    inbox: InboxClient, staff: dict[str, Staff], seed_inquiry: Seed
) -> None:
    number = await seed_inquiry("养老金迟迟没有发放", unit="rsj")
    await inbox.sign_in("rsj-h")
    page = text_of(await page_of(inbox, case_path(number)))
    assert re.search(
        r"签收期限 \d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d 剩余 (\d+ 个工作(日|小时)|不足 1 个工作小时)", page
    )
    late = datetime.now(UTC) - timedelta(days=30)
    await Inquiry.filter(number=number).update(
        ack_due_at=late, deadlines_provisional=True, urge_count=2, supervision_level=1
    )
    page = text_of(await page_of(inbox, case_path(number)))
    assert re.search(r"暂定 已超期 \d+ 个工作日", page)
    for mark in ("签收超期", "催办 2 次", "督办"):
        assert mark in page, mark


def test_working_time_reads_in_days_and_hours() -> None:
    day = timedelta(hours=8)
    assert working_span(timedelta(hours=26), day) == "3 个工作日 2 小时"
    assert working_span(timedelta(hours=16), day) == "2 个工作日"
    assert working_span(timedelta(hours=5, minutes=59), day) == "5 个工作小时"
    assert working_span(timedelta(minutes=20), day) == "不足 1 个工作小时"


@pytest.mark.parametrize(
    ("username", "steps"),
    [
        ("desk", []),
        ("desk", ["dispatch"]),
        ("sup", ["dispatch"]),
        ("rsj-h", ["dispatch"]),
        ("rsj-h", ["dispatch", "acknowledge"]),
        ("rsj-spk", ["dispatch", "acknowledge", "request-extension"]),
        ("desk", ["dispatch", "acknowledge", "request-extension"]),
        ("desk", ["dispatch", "return"]),
    ],
)
async def test_the_forms_offered_are_the_available_actions(
    inbox: InboxClient,
    service: InquiryService,
    staff: dict[str, Staff],
    seed_inquiry: Seed,
    username: str,
    steps: list[str],
) -> None:
    number = await seed_inquiry("养老金迟迟没有发放")
    data = {"dispatch": {"unit": "rsj"}, "request-extension": {"days": 3, "reason": "需现场核查"}}
    for step in steps:
        actor = staff["desk"] if step == "dispatch" else staff["rsj"]
        await service.act(number, step, Actor.of_staff(actor), data.get(step, {"reason": "不属本单位职责"}))
    await inbox.sign_in(username)
    page = await page_of(inbox, case_path(number))
    me = Actor.of_staff(await Staff.get(username=username))
    expected = available_actions(await Inquiry.get(number=number), me, service.rules, datetime.now(UTC))
    assert offered(page) == expected
    assert expected


# -- taking actions through the forms -----------------------------------------------------------------


async def test_dispatch_acknowledge_and_reply_with_a_template_and_a_spokesperson(
    inbox: InboxClient, staff: dict[str, Staff], seed_inquiry: Seed
) -> None:
    number = await seed_inquiry("养老金迟迟没有发放")
    await inbox.sign_in("desk")
    page = await done(inbox, await act(inbox, number, "dispatch", unit="rsj"), "dispatch")
    assert "已完成「派单」" in page
    await inbox.client.post("/inbox/logout", data={"csrf_token": await inbox.form_token("/inbox")})
    await inbox.sign_in("rsj-spk")
    await done(inbox, await act(inbox, number, "acknowledge"), "acknowledge")
    rsj = await Unit.get(code="rsj")
    template = await ReplyTemplate.create(
        unit=rsj,
        name="制度性答复（养老金）",
        body="您好！根据{basis}，养老金按月发放。咨询电话：{contact}。{signature}",
        updated_at=datetime.now(UTC),
    )
    await ReplyTemplate.create(
        name="其他单位模板", body="x", unit=await Unit.get(code="cgj"), updated_at=datetime.now(UTC)
    )
    page = await page_of(inbox, f"{case_path(number)}?template={template.id}")
    assert "您好！根据{basis}，养老金按月发放。" in html.unescape(page)
    assert "其他单位模板" not in page
    # the spokesperson signing in signs by default; the options are short enough for a phone's select
    assert '<option value="rsj-spk" selected>王芳</option>' in page
    assert '<option value="">以单位名义（不署个人姓名）</option>' in page
    assert "答复落款为承办单位的网络发言人，选定发言人时加署其姓名。" in page
    response = await act(
        inbox,
        number,
        "reply",
        template=str(template.id),
        text=template.body,
        basis="《社会保险法》第十条",
        contact="养老保险处 0991-1234567",
        signature="rsj-spk",
        resolved="yes",
        note="已核实",
    )
    await done(inbox, response, "reply")
    inquiry = await Inquiry.get(number=number)
    signature = f"{RSJ} 网络发言人 王芳"
    assert (inquiry.state, inquiry.reply_signature, inquiry.reply_contact) == (
        "replied",
        signature,
        "养老保险处 0991-1234567",
    )
    assert (inquiry.reply_basis, inquiry.reply_resolved, inquiry.reply_note) == (
        "《社会保险法》第十条",
        True,
        "已核实",
    )
    assert (
        inquiry.reply_text
        == f"您好！根据《社会保险法》第十条，养老金按月发放。咨询电话：养老保险处 0991-1234567。{signature}"
    )


async def test_a_formal_reply_needs_basis_contact_and_signature(
    inbox: InboxClient, staff: dict[str, Staff], acknowledged: str
) -> None:
    template = await ReplyTemplate.create(name="制度性答复", body="答复正文", updated_at=datetime.now(UTC))
    await inbox.sign_in("rsj-h")
    response = await act(
        inbox, acknowledged, "reply", template=str(template.id), text="答复正文", resolved="no"
    )
    assert response.status == 400
    page = await response.text()
    assert "制度性答复须填写政策依据和联系方式，并选择签发的网络发言人" in page
    assert "答复正文</textarea>" in page  # what was typed is kept
    assert (await Inquiry.get(number=acknowledged)).state == "acknowledged"


async def test_return_extension_and_the_desks_decisions(
    inbox: InboxClient, staff: dict[str, Staff], acknowledged: str, seed_inquiry: Seed
) -> None:
    await inbox.sign_in("rsj-h")
    await done(
        inbox,
        await act(inbox, acknowledged, "request-extension", days="5", reason="需多部门会商"),
        "request-extension",
    )
    await inbox.client.post("/inbox/logout", data={"csrf_token": await inbox.form_token("/inbox")})
    await inbox.sign_in("desk")
    page = text_of(await page_of(inbox, case_path(acknowledged)))
    assert "延期申请 5 个工作日，理由：需多部门会商" in page
    due = (await Inquiry.get(number=acknowledged)).reply_due_at
    page = text_of(
        await done(inbox, await act(inbox, acknowledged, "approve-extension"), "approve-extension")
    )
    inquiry = await Inquiry.get(number=acknowledged)
    assert (inquiry.extension_days, inquiry.reply_due_at > due) == (5, True)
    assert "批准延期 5 个工作日" in page
    assert "申请延期 5 个工作日" in page
    other = await seed_inquiry("社保卡补办太慢", unit="rsj")
    await inbox.client.post("/inbox/logout", data={"csrf_token": await inbox.form_token("/inbox")})
    await inbox.sign_in("rsj-h")
    page = text_of(await done(inbox, await act(inbox, other, "return", reason="属医保局职责"), "return"))
    assert re.search("退单 rsj-h .{0,30}理由 属医保局职责", page)
    assert (await Inquiry.get(number=other)).state == "returned"


async def test_reject_merge_and_note(inbox: InboxClient, staff: dict[str, Staff], seed_inquiry: Seed) -> None:
    main, duplicate, junk = [await seed_inquiry(text) for text in ("供暖不热", "供暖不热（重复）", "广告")]
    await inbox.sign_in("desk")
    page = text_of(await done(inbox, await act(inbox, junk, "reject", reason="与政务无关"), "reject"))
    assert re.search("不予受理 desk .{0,30}理由 与政务无关", page)
    page = text_of(await done(inbox, await act(inbox, duplicate, "merge", into=main), "merge"))
    assert f"并入 {main}" in page
    assert (await Inquiry.get(number=duplicate)).merged_into_id == (await Inquiry.get(number=main)).id  # type: ignore[attr-defined]
    page = text_of(await page_of(inbox, case_path(main)))
    assert f"并入本件的诉求 {duplicate}" in page
    page = text_of(await done(inbox, await act(inbox, main, "note", text="同一小区已有多件"), "note"))
    assert re.search("备注 内部备注 desk .{0,30}同一小区已有多件", page)


# -- refusals -----------------------------------------------------------------------------------------


async def test_a_stale_version_gets_the_conflict_notice_and_changes_nothing(
    inbox: InboxClient, service: InquiryService, staff: dict[str, Staff], seed_inquiry: Seed
) -> None:
    number = await seed_inquiry("养老金迟迟没有发放", unit="rsj")
    await inbox.sign_in("rsj-h")
    seen = (await Inquiry.get(number=number)).version
    await service.act(number, "return", Actor.of_staff(staff["rsj"]), {"reason": "别人先退了"})
    response = await act(inbox, number, "acknowledge", version=seen)
    assert response.status == 409
    page = text_of(await response.text())
    assert "此诉求已被他人更新" in page
    assert "别人先退了" in page  # the fresh state
    inquiry = await Inquiry.get(number=number)
    assert (inquiry.state, inquiry.version) == ("returned", seen + 1)


async def test_a_stale_reply_keeps_what_was_typed(
    inbox: InboxClient, service: InquiryService, staff: dict[str, Staff], acknowledged: str
) -> None:
    await inbox.sign_in("rsj-h")
    seen = (await Inquiry.get(number=acknowledged)).version
    await service.act(
        acknowledged, "request-extension", Actor.of_staff(staff["rsj"]), {"days": 2, "reason": "核查"}
    )
    response = await act(inbox, acknowledged, "reply", version=seen, text="我写了很久的答复", resolved="yes")
    assert response.status == 409
    page = await response.text()
    assert "我写了很久的答复</textarea>" in page
    assert f'name="version" value="{seen + 1}"' in page
    assert (await Inquiry.get(number=acknowledged)).state == "acknowledged"


@pytest.mark.parametrize(
    ("action", "fields", "status", "reason"),
    [
        ("return", {"reason": " "}, 400, "请填写「退单理由」"),
        ("request-extension", {"days": "三", "reason": "核查"}, 400, "「延期天数（工作日）」应为整数"),
        (
            "request-extension",
            {"days": "99", "reason": "核查"},
            400,
            "「延期天数（工作日）」应在 1 到 15 之间",
        ),
        ("reply", {"text": "答复"}, 400, "请选择「问题是否已解决」"),
        (
            "reply",
            {"text": "答复", "resolved": "yes", "signature": "rsj-h"},
            400,
            "不是市人力资源和社会保障局在岗的网络发言人",
        ),
        ("dispatch", {"unit": "rsj"}, 403, "当前角色不能执行该操作"),
        ("reopen", {}, 403, "当前角色不能执行该操作"),
    ],
)
async def test_bad_input_re_renders_the_form_with_the_reason(
    inbox: InboxClient,
    staff: dict[str, Staff],
    acknowledged: str,
    action: str,
    fields: dict[str, str],
    status: int,
    reason: str,
) -> None:
    await inbox.sign_in("rsj-h")
    before = await Inquiry.get(number=acknowledged)
    response = await act(inbox, acknowledged, action, **fields)
    assert response.status == status
    page = text_of(await response.text())
    assert reason in page
    assert (await Inquiry.get(number=acknowledged)).version == before.version


async def test_an_action_the_state_does_not_allow_is_409(
    inbox: InboxClient, staff: dict[str, Staff], seed_inquiry: Seed
) -> None:
    number = await seed_inquiry("养老金迟迟没有发放", unit="rsj")
    await inbox.sign_in("rsj-h")
    response = await act(inbox, number, "reply", text="答复", resolved="yes")
    assert response.status == 409
    assert "不能执行「答复」" in text_of(await response.text())


async def test_another_units_case_is_404_everywhere(
    inbox: InboxClient, staff: dict[str, Staff], acknowledged: str, tmp_path: Any, client: Any
) -> None:
    inquiry = await Inquiry.get(number=acknowledged)
    storage = tmp_path / "data" / "attachments" / str(inquiry.id)
    storage.mkdir(parents=True)
    (storage / "photo.jpg").write_bytes(b"\xff\xd8photo")
    row = await Attachment.create(
        inquiry_id=inquiry.id,
        filename="photo.jpg",
        content_type="image/jpeg",
        size=7,
        storage_path=f"{inquiry.id}/photo.jpg",
        created_at=datetime.now(UTC),
    )
    file_path = f"{case_path(acknowledged)}/attachments/{row.id}"
    await inbox.sign_in("rsj-h")
    own = await inbox.client.get(file_path)
    assert (own.status, await own.read()) == (200, b"\xff\xd8photo")
    assert own.headers["Content-Disposition"].startswith("attachment;")
    await inbox.client.post("/inbox/logout", data={"csrf_token": await inbox.form_token("/inbox")})
    await inbox.sign_in("cgj-h")
    await page_of(inbox, case_path(acknowledged), status=404)
    assert (await inbox.client.get(file_path)).status == 404
    data = {"version": str(inquiry.version), "text": "越权备注"}
    response = await inbox.post_form(f"{case_path(acknowledged)}/actions/note", data)
    assert response.status == 404
    assert (await Inquiry.get(number=acknowledged)).version == inquiry.version
    await page_of(inbox, case_path("WZ20990101-99999"), status=404)


async def test_a_form_without_its_csrf_token_is_refused(
    inbox: InboxClient, staff: dict[str, Staff], acknowledged: str
) -> None:
    await inbox.sign_in("rsj-h")
    version = (await Inquiry.get(number=acknowledged)).version
    response = await inbox.client.post(
        f"{case_path(acknowledged)}/actions/note",
        data={"version": str(version), "text": "x"},
        allow_redirects=False,
    )
    assert response.status == 403
    assert (await Inquiry.get(number=acknowledged)).version == version
