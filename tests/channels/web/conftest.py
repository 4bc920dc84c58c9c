"""Helpers for the web channel's tests: reading a page's form tokens, submitting the form, and moving
an inquiry along with the service the way staff would."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from web_form import RECEIPT, VALID, read_tokens

from core.actors import Actor
from core.models import Inquiry
from core.service import InquiryService

Tokens = Callable[..., Awaitable[dict[str, str]]]
Submit = Callable[..., Awaitable[Any]]


@pytest.fixture
def valid_form() -> dict[str, str]:
    """The fields of a valid inquiry form (without its hidden tokens)."""
    return dict(VALID)


@pytest.fixture
def form_tokens(client: Any) -> Tokens:
    """The hidden fields of the form on a page (its CSRF cookie lands in the client's cookie jar)."""

    async def read(path: str = "/submit") -> dict[str, str]:
        return await read_tokens(client, path)

    return read


@pytest.fixture
def submit(client: Any) -> Submit:
    """Post the inquiry form: the valid fields, with ``overrides`` (None drops a field)."""

    async def post(**overrides: str | None) -> Any:
        fields: dict[str, str | None] = {**await read_tokens(client, "/submit"), **VALID, **overrides}
        data = {name: value for name, value in fields.items() if value is not None}
        return await client.post("/submit", data=data, allow_redirects=False)

    return post


@pytest.fixture
def submitted(submit: Submit) -> Callable[..., Awaitable[tuple[str, str]]]:
    """Submit a valid inquiry; returns its number and query code."""

    async def make(**overrides: str | None) -> tuple[str, str]:
        response = await submit(**overrides)
        assert response.status == 303, await response.text()
        match = RECEIPT.match(response.headers["Location"])
        assert match, response.headers["Location"]
        return match[1], match[2]

    return make


REPLY_TEXT = "您好，经核实，您单位已于本月补缴社保费用。如有疑问请致电 0991-4567890。"


@pytest.fixture
def to_replied(service: InquiryService, make_staff: Any) -> Callable[[str], Awaitable[Inquiry]]:
    """Dispatch, acknowledge and reply to inquiry ``number`` (category shebao → unit rsj)."""

    async def move(number: str) -> Inquiry:
        desk = Actor.of_staff(await make_staff("desk_zhaoliu", "desk"))
        handler = Actor.of_staff(await make_staff("handler_qianqi", "handler", "rsj"))
        await service.act(number, "dispatch", desk, {})
        await service.act(number, "acknowledge", handler, {})
        return await service.act(
            number,
            "reply",
            handler,
            {"text": REPLY_TEXT, "resolved": True, "note": "内部备注：已电话联系单位财务"},
        )

    return move
