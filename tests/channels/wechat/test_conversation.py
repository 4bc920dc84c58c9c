"""Chat commands through the real WeChat endpoint: help, the citizen's cases, ratings, menu clicks."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from core.actors import Actor
from core.models import Inquiry, InquiryMessage
from core.numbers import BEIJING
from core.states import State
from core.vocab import Rating

NOT_FOUND = "没有找到您的诉求 {}。请核对编号，或回复“查询”查看您的全部诉求。"


def day(inquiry: Inquiry) -> str:
    due = inquiry.reply_due_at or inquiry.promised_reply_at
    assert due is not None
    local = due.astimezone(BEIJING)
    return f"{local.month}月{local.day}日"


async def open_inquiry(chat: Any, sender: str, text: str) -> Inquiry:
    await chat.send(sender, text)
    inquiry = await Inquiry.filter(content=text).first()
    assert inquiry is not None
    return inquiry


async def to_replied(chat: Any, staff: dict[str, Actor], number: str) -> None:
    act = chat.service.act
    await act(number, "dispatch", staff["desk"], {"unit": "mzj"})
    await act(number, "acknowledge", staff["mzj-h"], {})
    await act(number, "reply", staff["mzj-h"], {"text": "已安排维修。", "resolved": True})


async def two_answered(chat: Any, staff: dict[str, Actor]) -> tuple[Inquiry, Inquiry]:
    """Two of oA's inquiries, both answered, the older first."""
    older = await open_inquiry(chat, "oA", "小区路灯不亮")
    await to_replied(chat, staff, older.number)
    newer = await open_inquiry(chat, "oA", "楼道堆放杂物")
    await to_replied(chat, staff, newer.number)
    return older, newer


async def test_help_names_the_commands_and_the_web_form(chat: Any) -> None:
    answer = await chat.send("oA", "帮助")
    assert "查询" in answer
    assert "/submit" in answer
    assert await Inquiry.all().count() == 0


async def test_query_with_no_inquiries(chat: Any) -> None:
    assert await chat.send("oA", "查询") == "您暂无诉求记录。直接发送文字、图片、语音或位置即可反映问题。"
    assert await Inquiry.all().count() == 0


async def test_query_lists_own_inquiries_newest_first_with_state_and_date(
    chat: Any, staff: dict[str, Actor]
) -> None:
    first = await open_inquiry(chat, "oA", "小区路灯不亮")
    await chat.service.act(first.number, "dispatch", staff["desk"], {"unit": "mzj"})
    second = await open_inquiry(chat, "oA", "楼道堆放杂物")
    await open_inquiry(chat, "oB", "别人的诉求")
    answer = await chat.send("oA", "查询")
    lines = answer.splitlines()
    assert lines[1] == f"{second.number} 已受理，预计 {day(second)} 前答复"
    assert lines[2] == f"{first.number} 已派单，预计 {day(first)} 前答复"
    assert "别人的诉求" not in answer
    assert len(lines) == 4  # header, two cases, footer
    assert await Inquiry.all().count() == 3


async def test_query_one_number_own_or_not_found(chat: Any) -> None:
    mine = await open_inquiry(chat, "oA", "小区路灯不亮")
    theirs = await open_inquiry(chat, "oB", "楼道堆放杂物")
    answer = await chat.send("oA", f"查询 {mine.number.lower()}")
    assert answer.startswith(f"诉求 {mine.number}：已受理，预计 {day(mine)} 前答复。")
    assert answer.endswith(f"/cases/{mine.number}?code={mine.query_code}")
    assert await chat.send("oA", f"查询 {theirs.number}") == NOT_FOUND.format(theirs.number)
    assert await chat.send("oA", "查询 WZ20990101-00001") == NOT_FOUND.format("WZ20990101-00001")


async def test_rating_closes_the_replied_inquiry(chat: Any, staff: dict[str, Actor]) -> None:
    inquiry = await open_inquiry(chat, "oA", "小区路灯不亮")
    await to_replied(chat, staff, inquiry.number)
    assert "请回复 1 满意" in await chat.send("oA", "查询")
    assert await chat.send("oA", "1", msg_id=77) == "感谢您的评价，诉求已办结。"
    rated = await Inquiry.get(id=inquiry.id)
    assert (rated.state, rated.rating) == (State.CLOSED, Rating.SATISFIED)
    # WeChat retries the same push: answered the same, nothing else rated or filed
    assert await chat.send("oA", "1", msg_id=77) == "感谢您的评价，诉求已办结。"
    assert await Inquiry.all().count() == 1
    assert f"{inquiry.number} 已办结（满意）" in await chat.send("oA", "查询")


async def test_a_retried_rating_is_known_by_its_message_whatever_the_clocks_say(
    chat: Any, staff: dict[str, Actor]
) -> None:
    older, newer = await two_answered(chat, staff)
    ahead = int(time.time()) + 120  # WeChat's clock two minutes ahead of ours
    assert await chat.send("oA", "1", sent=ahead, msg_id=501) == "感谢您的评价，诉求已办结。"
    assert await chat.send("oA", "1", sent=ahead, msg_id=501) == "感谢您的评价，诉求已办结。"  # the retry
    assert (await Inquiry.get(id=newer.id)).rating == Rating.SATISFIED
    assert (await Inquiry.get(id=older.id)).state == State.REPLIED  # the retry rated nothing else
    assert await Inquiry.all().count() == 2  # nor was it filed
    # a second rating seconds later is a rating of its own, of the next answered inquiry
    assert await chat.send("oA", "3", sent=ahead, msg_id=502) == "已收到您的评价，我们将复核办理情况。"
    assert (await Inquiry.get(id=older.id)).rating == Rating.UNSATISFIED
    kept = await InquiryMessage.get(dedupe_key="wechat:oA:501")
    assert (kept.inquiry_id, kept.direction, kept.text) == (newer.id, "in", "1")  # type: ignore[attr-defined]


async def test_unsatisfied_rating_applies_to_the_latest_replied_inquiry(
    chat: Any, staff: dict[str, Actor]
) -> None:
    older, newer = await two_answered(chat, staff)
    # 查询 invites a rating by reply for the one a reply rates; the other is rated on its page
    listed = await chat.send("oA", "查询")
    assert f"{newer.number} 已答复，请回复 1 满意，2 基本满意，3 不满意" in listed
    assert f"{older.number} 已答复，请在诉求页面评价" in listed
    assert "请在诉求页面评价。查看进度：" in await chat.send("oA", f"查询 {older.number}")
    later = int(time.time()) + 60  # sent after both answers
    assert await chat.send("oA", "不满意", sent=later) == "已收到您的评价，我们将复核办理情况。"
    assert (await Inquiry.get(id=newer.id)).rating == Rating.UNSATISFIED
    assert (await Inquiry.get(id=older.id)).state == State.REPLIED


async def test_a_rating_with_nothing_to_rate_is_filed_as_a_message(chat: Any) -> None:
    answer = await chat.send("oA", "2", msg_id=601)
    inquiry = await Inquiry.get(content="2")
    assert answer.startswith(f"您的诉求已受理。编号：{inquiry.number}")
    assert await chat.send("oA", "2", msg_id=601) == answer  # its retry is no rating either
    assert (await Inquiry.get(id=inquiry.id)).rating is None


async def test_menu_clicks_answer_like_the_command(chat: Any) -> None:
    mine = await open_inquiry(chat, "oA", "小区路灯不亮")
    assert await chat.click("oA", "MY_CASES") == await chat.send("oA", "查询")
    assert mine.number in await chat.click("oA", "MY_CASES")
    assert "/submit" in await chat.click("oA", "HELP")
    assert await chat.click("oA", "NOT_IN_CONFIG") == "success"
    assert await Inquiry.all().count() == 1


async def test_query_leaves_out_cases_closed_over_30_days_ago(chat: Any, staff: dict[str, Actor]) -> None:
    old = await open_inquiry(chat, "oA", "小区路灯不亮")
    await to_replied(chat, staff, old.number)
    await chat.send("oA", "1")
    await Inquiry.filter(id=old.id).update(closed_at=old.created_at - timedelta(days=31))
    assert await chat.send("oA", "查询") == "您暂无诉求记录。直接发送文字、图片、语音或位置即可反映问题。"
