"""The notification list at /inbox/notifications, the bell's count and "mark all read"."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from core.actors import Actor
from core.audit import AuditEvent
from core.models import Inquiry, Staff
from core.service import InquiryService
from gateway.inbox.notifications import PER_PAGE

BELL = re.compile(r'class="bell__count" data-unread="(\d+)"')


async def page(inbox: Any, path: str = "/inbox/notifications") -> str:
    response = await inbox.client.get(path)
    assert response.status == 200, response.url
    return await response.text()


def listed(html: str) -> str:
    """The notification list of a page, without the header around it."""
    start = html.find('<section class="panel notifications"')
    return html[start : html.index("</section>", start)]


async def bell(inbox: Any) -> int:
    match = BELL.search(await page(inbox, "/inbox/password"))
    assert match
    return int(match.group(1))


async def answered(service: InquiryService, seed_inquiry: Any, content: str) -> str:
    """An inquiry of the 人社局 acknowledged and answered, waiting for the citizen's rating."""
    number = await seed_inquiry(content, unit="rsj")
    handler = Actor.of_staff(await Staff.get(username="rsj-handler"))
    await service.act(number, "acknowledge", handler, {})
    await service.act(number, "reply", handler, {"text": "已核实办理。", "resolved": True})
    return number


@pytest.fixture
async def staff(inbox: Any, make_staff: Any) -> None:
    await make_staff("rsj-handler", "handler", "rsj")
    await make_staff("cgj-handler", "handler", "cgj")
    await make_staff("desk1", "desk")
    await make_staff("supervisor1", "supervisor")


async def test_a_unit_hears_of_its_own_units_cases_only(
    inbox: Any, staff: None, seed_inquiry: Any, service: InquiryService
) -> None:
    own = await answered(service, seed_inquiry, "社保卡补办三个月没有消息")
    other = await seed_inquiry("夜市占道经营", category="chengguan", unit="cgj")
    await service.act(own, "rate", Actor.citizen(), {"rating": "unsatisfied", "comment": "没有解决"})
    await inbox.sign_in("rsj-handler")

    html = listed(await page(inbox))
    assert own in html
    assert other not in html
    assert "派单" in html
    assert "不满意：没有解决" in html
    assert "notice--alert" in html
    # the handler's own acknowledgement and reply are not news to them
    assert "签收" not in html
    assert ">答复<" not in html
    assert html.count('class="tag tag--new"') == 2
    assert await bell(inbox) == 2


async def test_the_desk_hears_of_returns_extensions_unsatisfied_ratings_and_failed_deliveries(
    inbox: Any, staff: None, seed_inquiry: Any, service: InquiryService
) -> None:
    handler = Actor.of_staff(await Staff.get(username="rsj-handler"))
    returned = await seed_inquiry("应由城管局办理的问题", unit="rsj")
    await service.act(returned, "return", handler, {"reason": "不属于本单位职责"})
    extended = await seed_inquiry("需要现场核查", unit="rsj")
    await service.act(extended, "acknowledge", handler, {})
    await service.act(extended, "request-extension", handler, {"days": 5, "reason": "需要现场核查"})
    pleased = await answered(service, seed_inquiry, "已解决的问题")
    await service.act(pleased, "rate", Actor.citizen(), {"rating": "satisfied"})
    unhappy = await answered(service, seed_inquiry, "没解决的问题")
    await service.act(unhappy, "rate", Actor.citizen(), {"rating": "unsatisfied"})
    inquiry = await Inquiry.get(number=pleased)
    data = {"channel": "wechat", "kind": "reply", "error": "48001 api unauthorized", "attempts": 5}
    now = datetime.now(UTC)
    await AuditEvent(inquiry.id, "delivery-failed", Actor.system(), "", "", data, now).model().save()
    await inbox.sign_in("desk1")

    html = listed(await page(inbox))
    for expected in ("退单", "不属于本单位职责", "申请延期", "5 个工作日", "不满意", "答复送达失败", "48001"):
        assert expected in html, expected
    assert unhappy in html
    assert "满意<" not in html.replace("不满意", "")  # the satisfied rating is no news
    assert "派单" not in html  # the desk's own dispatches
    assert await bell(inbox) == 4


async def test_supervisors_hear_of_escalations(
    inbox: Any, staff: None, seed_inquiry: Any, service: InquiryService
) -> None:
    number = await seed_inquiry("超期未签收", unit="rsj")
    inquiry = await Inquiry.get(number=number)
    now = datetime.now(UTC)
    await AuditEvent(inquiry.id, "supervise", Actor.system(), "", "", {"level": 1}, now).model().save()
    await inbox.sign_in("supervisor1")
    html = listed(await page(inbox))
    assert "督办" in html
    assert number in html
    assert "派单" not in html
    await inbox.sign_in("rsj-handler")  # the unit hears of it too
    assert "督办" in listed(await page(inbox))


async def test_mark_all_read_keeps_what_came_after_the_page(
    inbox: Any, staff: None, seed_inquiry: Any
) -> None:
    await seed_inquiry("第一件", unit="rsj")
    await inbox.sign_in("rsj-handler")
    html = await page(inbox)
    upto = re.search(r'name="upto" value="(\d+)"', html)
    assert upto
    assert "全部标为已读" in html
    await seed_inquiry("看页面之后才来的", unit="rsj")
    response = await inbox.post_form(
        "/inbox/notifications/read", {"upto": upto.group(1)}, token_from="/inbox/notifications"
    )
    assert response.status == 303
    assert response.headers["Location"] == "/inbox/notifications"
    assert await bell(inbox) == 1
    html = await page(inbox)
    assert html.count('class="tag tag--new"') == 1
    staff_row = await Staff.get(username="rsj-handler")
    assert staff_row.seen_event_id == int(upto.group(1))


async def test_mark_all_read_needs_the_form(inbox: Any, staff: None) -> None:
    await inbox.sign_in("desk1")
    refused = await inbox.client.post("/inbox/notifications/read", data={"upto": "5"})
    assert refused.status == 403
    bad = await inbox.post_form("/inbox/notifications/read", {"upto": "x"}, token_from="/inbox/notifications")
    assert bad.status == 400
    # an id from the future cannot mark events read before they exist
    await inbox.post_form("/inbox/notifications/read", {"upto": "999999"}, token_from="/inbox/notifications")
    assert (await Staff.get(username="desk1")).seen_event_id == 0


async def test_older_notifications_a_page_at_a_time(inbox: Any, staff: None, seed_inquiry: Any) -> None:
    numbers = [await seed_inquiry(f"第 {n} 件", unit="rsj") for n in range(PER_PAGE + 3)]
    await inbox.sign_in("rsj-handler")
    first = await page(inbox)
    assert numbers[-1] in first
    assert numbers[2] not in first
    older = re.search(r'href="(/inbox/notifications\?before=\d+)" rel="next"', first)
    assert older
    second = await page(inbox, older.group(1))
    assert [n for n in numbers if n in second] == numbers[:3]
    assert 'rel="next"' not in second
    assert "最新通知" in second
    assert await bell(inbox) == PER_PAGE + 3


async def test_nothing_yet(inbox: Any, staff: None) -> None:
    await inbox.sign_in("cgj-handler")
    html = await page(inbox)
    assert "暂无通知" in html
    assert "全部标为已读" not in html
    assert 'data-unread="0" hidden' in html
