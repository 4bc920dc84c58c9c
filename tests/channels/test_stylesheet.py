"""The city's base stylesheet: served once however many page sets link it, with a content version."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from channels.stylesheet import STATIC, base_stylesheet_url


async def test_the_base_stylesheet_is_added_once_and_versioned(aiohttp_client: Any) -> None:
    app = web.Application()
    first, second = base_stylesheet_url(app), base_stylesheet_url(app)
    assert first == second
    assert re.fullmatch(r"/static/base/base\.css\?v=[\w%-]+", first)
    client = await aiohttp_client(app)
    response = await client.get(first)
    assert response.status == 200
    assert response.content_type == "text/css"
    assert await response.text() == (STATIC / "base.css").read_text("utf-8")


async def test_the_citizen_pages_and_the_inbox_link_the_same_base(client: Any) -> None:
    citizen = await (await client.get("/")).text()
    inbox = await (await client.get("/inbox/login")).text()
    link = re.search(r'<link rel="stylesheet" href="(/static/base/base\.css\?v=[^"]+)">', citizen)
    assert link is not None
    assert link.group(0) in inbox
    assert inbox.index(link.group(0)) < inbox.index("/static/inbox/inbox.css")
