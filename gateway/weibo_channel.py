"""Weibo in the running gateway (protocols.md §4).

- With ``app_secret``: the fans-service push endpoint ``/channels/weibo``.
- With ``access_token``: one HTTP session for the API, the mentions poller as a background task (when
  ``poll`` is on in this process), and the outbox delivery that the scheduler drains. The poller's health
  is a channel status: ``/readyz`` and the staff API show "degraded" with Weibo's reason while it backs
  off, without taking the gateway out of service (the web and WeChat channels still work).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
from aiohttp import web

from channels.weibo.api import WeiboApi
from channels.weibo.callback import WeiboCallback
from channels.weibo.cursors import DatabaseCursorStore
from channels.weibo.delivery import WeiboDelivery, WeiboDeliveryOptions, drain
from channels.weibo.mentions import MentionIntake
from channels.weibo.poller import MentionsPoller, PollStatus
from channels.weibo.security import PushSecurity
from gateway.keys import channel_status_key, service_key, settings_key
from gateway.settings import Settings

log = logging.getLogger(__name__)
weibo_delivery_key = web.AppKey("weibo_delivery", WeiboDelivery)
weibo_poller_key = web.AppKey("weibo_poller", MentionsPoller)


def setup_weibo_channel(app: web.Application, settings: Settings) -> None:
    """Mount what the configured credentials allow (before the scheduler's context is added)."""
    weibo = settings.channels.weibo
    if weibo.app_secret:
        chat = settings.chat_options(weibo)
        security = PushSecurity(weibo.app_secret, weibo.replay_window_seconds)
        app.router.add_routes(WeiboCallback(app[service_key], security, chat).routes())
    if weibo.access_token:
        app.cleanup_ctx.append(weibo_outbound)
    else:
        log.warning("channels.weibo.access_token is not set: mentions are not polled, replies not sent")


async def weibo_outbound(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the API client, the delivery, and the poller's task while the app runs."""
    settings = app[settings_key]
    weibo = settings.channels.weibo
    async with aiohttp.ClientSession() as session:
        api = WeiboApi(session, weibo.access_token, weibo.api_base, weibo.messages_base, rip=weibo.rip)
        options = WeiboDeliveryOptions(settings.public_base_url, settings.templates)
        app[weibo_delivery_key] = WeiboDelivery(api, options)
        task = None
        if weibo.poll:
            intake = MentionIntake(app[service_key], settings.chat_options(weibo))
            poller = MentionsPoller(
                api,
                DatabaseCursorStore(),
                intake,
                interval_seconds=weibo.poll_seconds,
                page_size=weibo.page_size,
                max_backoff_seconds=weibo.max_backoff_seconds,
                first_poll_hours=weibo.first_poll_hours,
            )
            app[weibo_poller_key] = poller
            app[channel_status_key]["weibo"] = lambda: describe(poller.status)
            task = asyncio.create_task(poller.run_forever(), name="weibo-mentions")
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def describe(status: PollStatus) -> str:
    """ "" when polling is fine, else why not and when it tries again (Beijing time is for people; this
    is for operators and logs, so UTC)."""
    if status.state == "ok":
        return ""
    retry = f", retrying at {status.retry_at:%H:%M:%S} UTC" if status.retry_at else ""
    code = f" (Weibo error {status.error_code})" if status.error_code is not None else ""
    return f"degraded: {status.reason}{code}{retry}"


async def deliver_weibo(app: web.Application) -> None:
    """The scheduler's job: one pass over the due Weibo comments and private replies."""
    sent = await drain(app[weibo_delivery_key], datetime.now(UTC))
    if sent:
        log.info("delivered %d Weibo messages", sent, extra={"channel": "weibo"})
