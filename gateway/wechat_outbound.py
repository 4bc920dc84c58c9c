"""WeChat's outbound side in the running gateway: one HTTP session, the API client with its token kept
in Redis when configured (so processes share one token) or in memory; the scheduler drains the outbox
and fetches citizens' media every few seconds."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from channels.wechat.api import MemoryTokenStore, RedisTokenStore, TokenStore, WeChatApi
from channels.wechat.delivery import DeliveryOptions, WeChatDelivery, drain
from channels.wechat.media import fetch_media
from gateway.keys import settings_key

log = logging.getLogger(__name__)
wechat_delivery_key = web.AppKey("wechat_delivery", WeChatDelivery)
wechat_api_key = web.AppKey("wechat_api", WeChatApi)


async def wechat_outbound(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the API client and its delivery for as long as the app runs."""
    settings = app[settings_key]
    wechat = settings.channels.wechat
    redis = Redis.from_url(settings.redis.url) if settings.redis.url else None
    store: TokenStore = MemoryTokenStore()
    if redis is not None:
        store = RedisTokenStore(redis, f"wenzheng:wechat:access-token:{wechat.app_id}")
    async with aiohttp.ClientSession() as session:
        api = WeChatApi(session, wechat.app_id, wechat.app_secret, api_base=wechat.api_base, store=store)
        options = DeliveryOptions(settings.public_base_url, settings.templates, wechat.template_ids)
        app[wechat_api_key] = api
        app[wechat_delivery_key] = WeChatDelivery(api, options)
        try:
            yield
        finally:
            if redis is not None:
                await redis.aclose()


async def fetch_wechat_media(app: web.Application) -> None:
    """The scheduler's job: fetch the photos and voices citizens sent, while their ids are valid."""
    storage = app[settings_key].data_path / "attachments"
    fetched = await fetch_media(app[wechat_api_key], storage, datetime.now(UTC))
    if fetched:
        log.info("fetched %d WeChat media files", fetched, extra={"channel": "wechat"})


async def deliver_wechat(app: web.Application) -> None:
    """The scheduler's job: one pass over the due WeChat messages."""
    sent = await drain(app[wechat_delivery_key], datetime.now(UTC))
    if sent:
        log.info("delivered %d WeChat messages", sent, extra={"channel": "wechat"})
