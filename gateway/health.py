"""/healthz (the process is up), /readyz (it can do its work) and /metrics (Prometheus text)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from tortoise.connection import get_connection
from tortoise.functions import Count

from core.models import Inquiry
from core.office_hours import BEIJING
from gateway.db import pending_migrations
from gateway.keys import channel_status_key, metrics_key, ready_key, service_key

_by_state = web.AppKey("inquiries_by_state", Gauge)
_known_ahead = web.AppKey("calendar_known_days_ahead", Gauge)
log = logging.getLogger(__name__)
CALENDAR_WARNING_DAYS = 60


def setup(app: web.Application) -> None:
    app[_by_state] = Gauge("wenzheng_inquiries", "Inquiries by state", ["state"], registry=app[metrics_key])
    app[_known_ahead] = Gauge(
        "wenzheng_calendar_known_days_ahead",
        "Days from today whose working-day status rests on published data (alert under 60)",
        registry=app[metrics_key],
    )
    app.on_startup.append(warn_if_calendar_runs_out)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)


def calendar_known_days_ahead(app: web.Application) -> int:
    today = datetime.now(BEIJING).date()
    return app[service_key].deadlines.calendar.known_days_ahead(today)


async def warn_if_calendar_runs_out(app: web.Application) -> None:
    days = calendar_known_days_ahead(app)
    if days < CALENDAR_WARNING_DAYS:
        first = datetime.now(BEIJING).date() + timedelta(days=days)
        log.warning(
            "the working-day calendar has no published data from %s on: deadlines reaching it are "
            "provisional (Monday to Friday) until next year's notice is added to calendar.overrides_file",
            first.isoformat(),
        )


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    checks = dict(request.app[ready_key])
    if not checks.get("database"):
        try:
            await get_connection("default").execute_query("SELECT 1")
            pending = await pending_migrations()
            checks["migrations"] = f"{len(pending)} pending: run `wenzheng migrate`" if pending else ""
        except Exception as error:  # any driver error means "not ready", with its reason
            checks["database"] = f"unreachable: {type(error).__name__}: {error}"
    ready = not any(checks.values())
    body = {
        "status": "ready" if ready else "not ready",
        "checks": {k: v or "ok" for k, v in checks.items()},
        "channels": channel_statuses(request.config_dict),
    }
    return web.json_response(body, status=200 if ready else 503)


def channel_statuses(config: Mapping[Any, Any]) -> dict[str, str]:
    """Each polled channel's state, "ok" or "degraded: <reason>" (``config``: a request's config_dict)."""
    return {name: status() or "ok" for name, status in config[channel_status_key].items()}


async def metrics(request: web.Request) -> web.Response:
    gauge = request.app[_by_state]
    rows = await Inquiry.all().group_by("state").annotate(n=Count("id")).values("state", "n")
    gauge.clear()
    for row in rows:
        gauge.labels(str(row["state"])).set(row["n"])
    request.app[_known_ahead].set(calendar_known_days_ahead(request.app))
    body = generate_latest(request.app[metrics_key])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
