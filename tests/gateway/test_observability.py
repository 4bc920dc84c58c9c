"""HTTP metrics: requests and latency by route, method and status, each label combination looked up once."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry

from gateway.observability import HttpMetrics


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
