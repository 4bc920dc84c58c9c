"""The scheduler's wiring: its jobs, and readiness while it runs."""

from __future__ import annotations

from typing import Any

from gateway.scheduler import scheduler_key


async def test_the_sweeps_are_scheduled_and_reported_ready(client: Any) -> None:
    scheduler = client.app[scheduler_key]
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"close-expired-ratings", "recompute-provisional"}
    assert jobs["close-expired-ratings"].trigger.interval.total_seconds() == 60
    assert jobs["close-expired-ratings"].max_instances == 1
    response = await client.get("/readyz")
    assert response.status == 200
    assert (await response.json())["checks"] == {"database": "ok", "scheduler": "ok", "migrations": "ok"}
