"""The public timeline's whitelist, on hand-made events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from channels.web.present import beijing_day, beijing_time, policy_span
from channels.web.timeline import Entry, public_timeline
from core.deadlines import Clock, DeadlinePolicy

START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def events(*rows: tuple[str, dict[str, Any]]) -> list[Any]:
    return [
        SimpleNamespace(
            id=i, action=action, data=data, created_at=START + timedelta(hours=i), actor_name="王五"
        )
        for i, (action, data) in enumerate(rows)
    ]


def test_only_whitelisted_actions_and_fields_are_public() -> None:
    timeline = public_timeline(
        events(
            ("intake", {"channel": "web"}),
            ("dispatch", {"unit": "rsj", "unit_name": "市人力资源和社会保障局", "ack_due_at": "x"}),
            ("note", {"text": "内部备注"}),
            ("return", {"reason": "不归我们管"}),
            ("redispatch", {"unit": "jtj", "unit_name": "市交通运输局"}),
            ("acknowledge", {"reply_due_at": "x"}),
            ("request-extension", {"days": 5, "reason": "要查档案"}),
            ("refuse-extension", {"days": 5, "reason": "理由不充分"}),
            ("request-extension", {"days": 2, "reason": "要查档案"}),
            ("approve-extension", {"days": 2}),
            (
                "reply",
                {"text": "已处理。", "note": "内部：已电话核实", "signature": "市交通运输局 网络发言人"},
            ),
            (
                "rate",
                {"rating": "basically_satisfied", "label": "基本满意", "comment": "我的电话 13912345678"},
            ),
            ("publish", {}),
            ("something-new", {"text": "未来的新操作"}),
        ),
        "网络问政受理中心",
    )
    assert [(e.title, e.text, e.signature) for e in timeline] == [
        ("受理", "", ""),
        ("已交办至市人力资源和社会保障局", "", ""),
        ("已交办至市交通运输局", "", ""),
        ("已签收", "", ""),
        ("延期 2 个工作日", "", ""),
        ("已答复", "已处理。", "市交通运输局 网络发言人"),
        ("评价：基本满意", "", ""),
        ("办结", "", ""),
    ]
    assert timeline[0] == Entry(START, "受理")


def test_closing_without_a_reply_shows_no_reason() -> None:
    titles = [
        e.title
        for e in public_timeline(
            events(
                ("reject", {"reason": "重复投诉"}),
                ("redirect", {"to": "人民法院", "text": "请起诉"}),
                ("merge", {"into": "WZ20261201-00001"}),
                ("close-unrated", {}),
                ("reopen", {"previous_rating": "unsatisfied"}),
            ),
            "网络问政受理中心",
        )
    ]
    assert titles == [
        "办结（不予受理）",
        "办结（转法定途径办理）",
        "办结（与反映同一事项的诉求合并办理）",
        "办结（逾期未评价）",
        "重新办理",
    ]


def test_a_direct_answer_is_signed_by_the_desk_and_bad_data_is_tolerated() -> None:
    timeline = public_timeline(
        events(
            ("answer-directly", {"text": "请携带身份证到政务服务中心办理。"}),
            ("dispatch", {"unit_name": 42}),
            ("approve-extension", {"days": True}),
            ("rate", {"rating": "excellent"}),
        ),
        "网络问政受理中心",
    )
    assert [(e.title, e.text, e.signature) for e in timeline] == [
        ("已答复", "请携带身份证到政务服务中心办理。", "网络问政受理中心"),
        ("已交办至承办单位", "", ""),
        ("延期办理", "", ""),
        ("已评价", "", ""),
        ("办结", "", ""),
    ]


def test_times_and_policies_read_in_beijing_time() -> None:
    assert beijing_time(datetime(2026, 12, 8, 15, 59, 59, tzinfo=UTC)) == "2026年12月8日 23:59"
    assert beijing_time(datetime(2026, 12, 31, 16, 5, tzinfo=UTC)) == "2027年1月1日 00:05"
    assert beijing_day(datetime(2026, 12, 8, 15, 59, 59, tzinfo=UTC)) == "12月8日"
    assert beijing_time(None) == ""
    assert policy_span(DeadlinePolicy(Clock.working_hours, 8)) == "8个工作小时"
    assert policy_span(DeadlinePolicy(Clock.natural_hours, 2)) == "2小时"
    assert policy_span(DeadlinePolicy(Clock.working_days, 7)) == "7个工作日"
