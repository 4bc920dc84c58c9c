"""How times and deadline policies read on the citizen's pages (stored in UTC, shown in Beijing time)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from core.deadlines import Clock, DeadlinePolicy

BEIJING = ZoneInfo("Asia/Shanghai")

_CLOCK_UNITS = {
    Clock.working_hours: "个工作小时",
    Clock.natural_hours: "小时",
    Clock.working_days: "个工作日",
}


def beijing_time(moment: datetime | None) -> str:
    """``2026年12月8日 23:59`` in Beijing time; empty for no time."""
    if moment is None:
        return ""
    local = moment.astimezone(BEIJING)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def beijing_day(moment: datetime | None) -> str:
    """``12月8日`` in Beijing time (the receipt's promised reply date); empty for no time."""
    if moment is None:
        return ""
    local = moment.astimezone(BEIJING)
    return f"{local.month}月{local.day}日"


def policy_span(policy: DeadlinePolicy) -> str:
    """``8个工作小时``, ``2小时``, ``7个工作日``: a deadline policy as the receipt states it."""
    return f"{policy.amount}{_CLOCK_UNITS[policy.clock]}"
