"""Logs with the case number in context, and Prometheus metrics of the HTTP traffic."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import Counter, Histogram

from gateway.keys import metrics_key

_requests = web.AppKey("http_requests", Counter)
_latency = web.AppKey("http_latency", Histogram)
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


def setup_metrics(app: web.Application) -> None:
    registry = app[metrics_key]
    app[_requests] = Counter(
        "wenzheng_http_requests", "HTTP requests served", ["route", "method", "status"], registry=registry
    )
    app[_latency] = Histogram(
        "wenzheng_http_request_seconds", "HTTP request latency", ["route"], registry=registry
    )


def _route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


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
    finally:
        route = _route_name(request)
        request.config_dict[_requests].labels(route, request.method, str(status)).inc()
        request.config_dict[_latency].labels(route).observe(time.perf_counter() - started)
        if status >= 500:
            log.error("%s %s -> %s", request.method, request.path, status)
