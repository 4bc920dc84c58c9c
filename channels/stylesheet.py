"""The city's base stylesheet (``channels/static/base.css``: colours, type, the focus ring, helpers),
linked before their own by the citizen pages and the staff inbox, so that both look like one city's."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC = Path(__file__).resolve().parent / "static"
ROUTE_NAME = "base-static"


def base_stylesheet_url(app: web.Application) -> str:
    """Serve the base stylesheet under ``/static/base/`` (once, whoever asks first) and return its URL,
    with a version that changes with its content so browsers may cache it for good."""
    resource = app.router.named_resources().get(ROUTE_NAME)
    if resource is None:
        resource = app.router.add_static("/static/base/", STATIC, name=ROUTE_NAME)
    assert isinstance(resource, web.StaticResource)
    return str(resource.url_for(filename="base.css", append_version=True))
