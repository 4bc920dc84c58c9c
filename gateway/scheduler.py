"""The in-process scheduler: periodic sweeps over due times kept in the database.

Jobs hold no state of their own (due times live on the inquiries), so a restart loses nothing and
several gateway processes may sweep at once: every change is a compare-and-set in the core.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from gateway.categories import RELOAD_SECONDS, category_rules_key
from gateway.keys import ready_key, service_key, settings_key
from gateway.wechat_outbound import deliver_wechat, fetch_wechat_media, wechat_delivery_key
from gateway.weibo_channel import deliver_weibo, weibo_delivery_key

log = logging.getLogger(__name__)
scheduler_key = web.AppKey("scheduler", AsyncIOScheduler)


async def close_expired_ratings(app: web.Application) -> None:
    closed = await app[service_key].close_expired_ratings()
    if closed:
        log.info("closed %d inquiries whose rating window passed", closed)


async def recompute_provisional(app: web.Application) -> None:
    moved = await app[service_key].recompute_provisional()
    if moved:
        log.info("recomputed %d provisional deadlines", moved)


async def reload_category_rules(app: web.Application) -> None:
    """Pick up category changes made in another process's admin pages."""
    await app[category_rules_key].refresh()


async def scheduler_context(app: web.Application) -> AsyncIterator[None]:
    """Start the sweeps after the database is open; stop them before it closes."""
    settings = app[settings_key].scheduler
    if not settings.enabled:
        app[ready_key]["scheduler"] = ""
        yield
        return
    scheduler = AsyncIOScheduler(timezone="UTC")
    options = {"max_instances": 1, "coalesce": True, "args": [app]}
    scheduler.add_job(
        close_expired_ratings,
        "interval",
        seconds=settings.sweep_seconds,
        id="close-expired-ratings",
        **options,
    )
    scheduler.add_job(recompute_provisional, "interval", hours=6, id="recompute-provisional", **options)
    scheduler.add_job(
        reload_category_rules, "interval", seconds=RELOAD_SECONDS, id="reload-category-rules", **options
    )
    if wechat_delivery_key in app:
        seconds = app[settings_key].channels.wechat.delivery_seconds
        scheduler.add_job(deliver_wechat, "interval", seconds=seconds, id="deliver-wechat", **options)
        scheduler.add_job(fetch_wechat_media, "interval", seconds=seconds, id="fetch-wechat-media", **options)
    if weibo_delivery_key in app:
        seconds = app[settings_key].channels.weibo.delivery_seconds
        scheduler.add_job(deliver_weibo, "interval", seconds=seconds, id="deliver-weibo", **options)
    scheduler.start()
    app[scheduler_key] = scheduler
    app[ready_key]["scheduler"] = ""
    try:
        yield
    finally:
        app[ready_key]["scheduler"] = "stopped"
        scheduler.shutdown(wait=False)
