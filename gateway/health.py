"""/healthz (the process is up), /readyz (it can do its work) and /metrics (Prometheus text)."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest
from tortoise.connection import get_connection
from tortoise.functions import Count

from core.models import Inquiry
from gateway.db import pending_migrations
from gateway.keys import metrics_key, ready_key

_by_state = web.AppKey("inquiries_by_state", Gauge)


def setup(app: web.Application) -> None:
    app[_by_state] = Gauge("wenzheng_inquiries", "Inquiries by state", ["state"], registry=app[metrics_key])
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)


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
    body = {"status": "ready" if ready else "not ready", "checks": {k: v or "ok" for k, v in checks.items()}}
    return web.json_response(body, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    gauge = request.app[_by_state]
    rows = await Inquiry.all().group_by("state").annotate(n=Count("id")).values("state", "n")
    gauge.clear()
    for row in rows:
        gauge.labels(str(row["state"])).set(row["n"])
    body = generate_latest(request.app[metrics_key])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
