"""Wiring the channel into an application."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp import web

from channels.web import WebOptions, setup_web_channel
from core.service import InquiryService


async def test_without_a_secret_key_forms_still_work_with_a_temporary_key(
    service: InquiryService, aiohttp_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app = web.Application()
    with caplog.at_level(logging.WARNING):
        setup_web_channel(
            app, service, WebOptions(public_base_url="https://wz.example.gov.cn", secret_key="")
        )
    assert "no secret_key configured" in caplog.text
    client = await aiohttp_client(app)
    response = await client.get("/submit")
    assert response.status == 200
    assert 'name="csrf_token" value="' in await response.text()
    assert response.headers["Set-Cookie"].startswith("__Host-wz_csrf=")
    assert "Secure" in response.headers["Set-Cookie"]


async def test_routes_keep_their_product_names(client: Any) -> None:
    assert (await client.get("/")).status == 200
    assert (await client.get("/submit")).status == 200
    assert (await client.get("/track")).status == 200
    assert (await client.get("/static/web/web.css")).status == 200
    assert (await client.get("/cases/WZ20261127-00001", params={"code": "ABCDEF"})).status == 404
    assert (await client.get("/cases/WZ20261127-00001/rate")).status == 405
    assert (await client.get("/static/web/")).status in (403, 404)  # no directory listing
