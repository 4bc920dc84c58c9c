"""Logs with the case number in context, and Prometheus metrics of the HTTP traffic."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CollectorRegistry, Counter, Histogram

from core.group_commit import BatchFailed
from gateway.keys import metrics_key

log = logging.getLogger("wenzheng.access")

CONTEXT_FIELDS = ("case", "channel", "actor")


class ContextFormatter(logging.Formatter):
    """``time level logger message key=value...``: the case number and friends when a record has them."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [f"{k}={getattr(record, k)}" for k in CONTEXT_FIELDS if getattr(record, k, None)]
        return " ".join([line, *extras])


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not the stream of the moment
    logging was configured (which a test runner's capture may have closed since)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def configure_logging(level: str = "INFO") -> None:
    handler = _StderrHandler()
    handler.setFormatter(ContextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


class HttpMetrics:
    """Requests and latency by route, with each label combination's child looked up once.

    ``Counter.labels`` checks and joins its labels under a lock on every call; the combinations a
    gateway sees are few (its routes, methods and statuses), so their children are kept here instead.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "wenzheng_http_requests", "HTTP requests served", ["route", "method", "status"], registry=registry
        )
        self.latency = Histogram(
            "wenzheng_http_request_seconds", "HTTP request latency", ["route"], registry=registry
        )
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[str, Any] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        counter = self._counters.get((route, method, status))
        if counter is None:
            counter = self._counters[route, method, status] = self.requests.labels(route, method, str(status))
        histogram = self._histograms.get(route)
        if histogram is None:
            histogram = self._histograms[route] = self.latency.labels(route)
        counter.inc()
        histogram.observe(seconds)


_metrics = web.AppKey("http_metrics", HttpMetrics)


def setup_metrics(app: web.Application) -> None:
    app[_metrics] = HttpMetrics(app[metrics_key])


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


BUSY = "系统繁忙，请稍后重试"
BUSY_HEADERS = {"Retry-After": "5"}
"""What a request the database cannot take now is answered with, besides 503 and :data:`BUSY`."""


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    except BatchFailed:
        # the database is unavailable (SQLite's write lock held too long): nothing was stored, and a
        # WeChat or Weibo push answered with an error is sent again
        status = 503
        return web.Response(status=status, text=BUSY, headers=BUSY_HEADERS)
    finally:
        seconds = time.perf_counter() - started
        request.config_dict[_metrics].observe(_route_name(request), request.method, status, seconds)
        if status >= 500:
            log.error("%s %s -> %s", request.method, request.path, status)
