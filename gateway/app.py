"""The application factory: settings in, a ready aiohttp application out."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import CollectorRegistry

from channels.web import ChatIdentity, WebOptions, setup_web_channel
from channels.wechat.callback import WeChatOptions, setup_wechat_channel
from channels.wechat.security import WeChatKeys
from core.calendar import CalendarConfigError, WorkCalendar
from core.deadlines import DeadlineCalculator
from core.office_hours import OfficeHours
from core.service import InquiryService
from core.vocab import Channel
from gateway import api, health, observability
from gateway.categories import CategoryRules, category_rules_key, seed_categories
from gateway.db import open_database
from gateway.inbox import setup_inbox
from gateway.keys import channel_status_key, metrics_key, ready_key, service_key, settings_key
from gateway.login_limits import setup_login_limits
from gateway.scheduler import scheduler_context
from gateway.settings import ConfigError, Settings, ensure_secret_key
from gateway.units import sync_units
from gateway.wechat_outbound import wechat_outbound
from gateway.wechat_web import setup_web_login
from gateway.weibo_channel import setup_weibo_channel

MAX_BODY = 256 * 1024
log = logging.getLogger(__name__)


def build_service(settings: Settings) -> InquiryService:
    """The core service with the city's rules, calendar and office hours; ConfigError if they are bad."""
    overrides = settings.calendar.overrides_file
    try:
        calendar = WorkCalendar.from_file(settings.resolve(overrides) if overrides else None)
        seasons = [{"from": s.starts, "windows": s.windows} for s in settings.calendar.office_hours]
        office_hours = OfficeHours(seasons) if seasons else OfficeHours.default()
    except CalendarConfigError as error:
        raise ConfigError(f"calendar.overrides_file: {error}") from None
    except ValueError as error:
        raise ConfigError(f"calendar.office_hours: {error}") from None
    calculator = DeadlineCalculator(calendar, office_hours, settings.sla.day_counting)
    return InquiryService(settings.rules(), calculator)


def create_app(settings: Settings, service: InquiryService | None = None) -> web.Application:
    settings = ensure_secret_key(settings)
    app = web.Application(client_max_size=MAX_BODY, middlewares=[observability.access_middleware])
    app[settings_key] = settings
    app[service_key] = service or build_service(settings)
    app[category_rules_key] = CategoryRules(settings, app[service_key])
    app[metrics_key] = CollectorRegistry()
    app[ready_key] = {"database": "not connected", "scheduler": "not started"}
    app[channel_status_key] = {}
    observability.setup_metrics(app)
    setup_login_limits(app, settings.inbox.login_throttle)
    app.cleanup_ctx.append(_database)
    wechat = settings.channels.wechat
    if wechat.enabled and wechat.app_secret:
        app.cleanup_ctx.append(wechat_outbound)
    elif wechat.enabled:
        log.warning("channels.wechat.app_secret is not set: answers to WeChat citizens are queued, not sent")
    if settings.channels.weibo.enabled:
        setup_weibo_channel(app, settings)
    app.cleanup_ctx.append(scheduler_context)
    health.setup(app)
    app.add_subapp("/api/v1", api.create_api())
    setup_inbox(app, settings)
    identify = None
    if wechat.enabled and wechat.app_secret:
        login = setup_web_login(app, settings)

        def identify(request: web.Request) -> ChatIdentity | None:
            openid = login.openid(request)
            return ChatIdentity(Channel.WECHAT, openid) if openid else None

    if settings.channels.web.enabled:
        setup_web_channel(app, app[service_key], web_options(settings), identify)
    if settings.channels.wechat.enabled:
        setup_wechat_channel(app, app[service_key], wechat_options(settings))
    return app


def web_options(settings: Settings) -> WebOptions:
    web_settings = settings.channels.web
    return WebOptions(
        public_base_url=settings.public_base_url,
        secret_key=settings.secret_key,
        max_content_chars=web_settings.max_content_chars,
        submissions_per_minute=web_settings.rate_limit.per_minute,
        submissions_per_day=web_settings.rate_limit.per_day,
    )


def wechat_options(settings: Settings) -> WeChatOptions:
    wechat = settings.channels.wechat
    try:
        keys = WeChatKeys(
            token=wechat.token,
            app_id=wechat.app_id,
            encoding_aes_key=wechat.encoding_aes_key,
            previous_encoding_aes_key=wechat.previous_encoding_aes_key,
            replay_window_seconds=wechat.replay_window_seconds,
        )
    except ValueError as error:
        raise ConfigError(f"channels.wechat: {error}") from None
    return WeChatOptions(keys=keys, chat=settings.chat_options(wechat))


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[settings_key]
    async with open_database(settings.database_url):
        await sync_units(settings.units)
        await seed_categories(settings)
        # the category table, not config.yaml, is the truth once seeded (gateway.categories)
        await app[category_rules_key].reload()
        await app[service_key].recompute_provisional()
        app[ready_key]["database"] = ""
        yield
        app[ready_key]["database"] = "closed"
