"""Operations: the scheduler's wiring, readiness, and the calendar's publication horizon."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from core.office_hours import BEIJING
from gateway.scheduler import scheduler_key


async def test_the_sweeps_are_scheduled_and_reported_ready(client: Any) -> None:
    scheduler = client.app[scheduler_key]
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"close-expired-ratings", "recompute-provisional", "reload-category-rules"}
    assert jobs["close-expired-ratings"].trigger.interval.total_seconds() == 60
    assert jobs["close-expired-ratings"].max_instances == 1
    response = await client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"] == {"database": "ok", "scheduler": "ok", "migrations": "ok"}


async def test_metrics_report_how_far_the_calendar_is_published(client: Any, service: Any) -> None:
    text = await (await client.get("/metrics")).text()
    line = next(x for x in text.splitlines() if x.startswith("wenzheng_calendar_known_days_ahead "))
    today = datetime.now(BEIJING).date()
    assert float(line.split()[1]) == service.deadlines.calendar.known_days_ahead(today)


def test_start_up_warns_when_next_years_calendar_is_missing(
    client: Any, service: Any, caplog: pytest.LogCaptureFixture
) -> None:
    days = service.deadlines.calendar.known_days_ahead(datetime.now(BEIJING).date())
    warnings = [r.getMessage() for r in caplog.get_records("setup") if r.name == "gateway.health"]
    if days < 60:
        first = (datetime.now(BEIJING) + timedelta(days=days)).date().isoformat()
        assert warnings == [
            f"the working-day calendar has no published data from {first} on: deadlines reaching it are "
            "provisional (Monday to Friday) until next year's notice is added to calendar.overrides_file"
        ]
    else:
        assert warnings == []
