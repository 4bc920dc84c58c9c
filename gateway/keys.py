"""Typed keys for everything the application shares between its parts."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry

from core.actors import Actor
from core.models import Staff
from core.service import InquiryService
from gateway.settings import Settings

settings_key = web.AppKey("settings", Settings)
service_key = web.AppKey("service", InquiryService)
metrics_key = web.AppKey("metrics", CollectorRegistry)
ready_key = web.AppKey("ready", dict)
"""Named readiness checks (database, migrations, scheduler, ...) → a reason, or "" when ready."""

channel_status_key = web.AppKey("channel_status", dict)
"""Channel name → a function giving "" while the channel works, else why not ("degraded: ..."). A
degraded channel is reported, not a reason to take the gateway out of service."""

staff_key = web.RequestKey("staff", Staff)
actor_key = web.RequestKey("actor", Actor)
