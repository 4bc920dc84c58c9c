"""WeChat's pieces that face the citizen's browser: the custom menu whose view button opens the web
form, and the web-page authorisation behind it that tells the form who the citizen is."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from channels.wechat.api import WeChatApi
from channels.wechat.menu import menu_body
from channels.wechat.web_login import DEFAULT_NEXT, ENTRY_PATH, WeChatWebLogin
from gateway.settings import Settings
from gateway.wechat_outbound import wechat_api_key


def menu_links(settings: Settings) -> dict[str, str]:
    """What the menu's ``{form}`` and ``{site}`` placeholders stand for."""
    base = settings.public_base_url
    return {"form": f"{base}{ENTRY_PATH}?next={DEFAULT_NEXT}", "site": base}


def menu_json(settings: Settings) -> dict[str, Any]:
    """The menu/create body for the configured menu (validated when the settings were loaded)."""
    return menu_body(settings.channels.wechat.menu_buttons(), menu_links(settings))


async def push_menu(settings: Settings) -> dict[str, Any]:
    """Replace the account's custom menu with the configured one; returns what was sent."""
    wechat = settings.channels.wechat
    menu = menu_json(settings)
    async with aiohttp.ClientSession() as session:
        api = WeChatApi(session, wechat.app_id, wechat.app_secret, api_base=wechat.api_base)
        await api.create_menu(menu)
    return menu


def setup_web_login(app: web.Application, settings: Settings) -> WeChatWebLogin:
    """Mount web-page authorisation; the code exchange uses the running app's WeChat API client."""

    async def exchange(code: str) -> str:
        return await app[wechat_api_key].oauth_openid(code)

    wechat = settings.channels.wechat
    login = WeChatWebLogin(
        exchange, wechat.app_id, wechat.oauth_base, settings.public_base_url, settings.secret_key
    )
    app.router.add_routes(login.routes())
    return login
