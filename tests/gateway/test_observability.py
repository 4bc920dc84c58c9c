"""HTTP metrics: requests and latency by route, method and status, each label combination looked up once;
and the answer when the database is unavailable."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from tortoise.connection import get_connection

import core.batch_connection as batch_connection
from core.models import Inquiry
from gateway.observability import BUSY, HttpMetrics


def _sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_requests_are_counted_by_route_method_and_status_with_one_child_per_combination() -> None:
    registry = CollectorRegistry()
    metrics = HttpMetrics(registry)
    for status in (200, 200, 403):
        metrics.observe("/channels/wechat", "POST", status, 0.002)
    metrics.observe("unmatched", "GET", 404, 0.001)
    post = {"route": "/channels/wechat", "method": "POST"}
    assert _sample(registry, "wenzheng_http_requests_total", **post, status="200") == 2
    assert _sample(registry, "wenzheng_http_requests_total", **post, status="403") == 1
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert _sample(registry, "wenzheng_http_requests_total", **unmatched) == 1
    assert _sample(registry, "wenzheng_http_request_seconds_count", route="/channels/wechat") == 3
    assert len(metrics._counters) == 3
    assert len(metrics._histograms) == 2


async def test_the_middleware_reports_each_request_under_its_route(client: Any) -> None:
    await client.get("/healthz")
    await client.get("/healthz")
    await client.get("/no/such/page")
    text = await (await client.get("/metrics")).text()
    assert 'wenzheng_http_requests_total{method="GET",route="/healthz",status="200"} 2.0' in text
    assert 'wenzheng_http_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text


async def test_a_form_that_cannot_be_stored_for_a_held_database_lock_is_answered_503(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection: Any = get_connection("default")
    if connection.capabilities.dialect != "sqlite":
        pytest.skip("SQLite's write lock")
    monkeypatch.setattr(batch_connection, "LOCK_WAIT_SECONDS", 0.1)
    form = await (await client.get("/submit")).text()
    fields = {
        name: re.search(rf'name="{name}" value="([^"]*)"', form)[1] for name in ("csrf_token", "form_id")
    }  # type: ignore[index]
    holder = sqlite3.connect(connection.filename, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = await client.post(
            "/submit",
            data=fields | {"content": "路灯坏了", "kind": "complaint", "category": "qita"},
            allow_redirects=False,
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (response.status, await response.text()) == (503, BUSY)
    assert response.headers["Retry-After"] == "5"
    assert await Inquiry.all().count() == 0
