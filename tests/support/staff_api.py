"""Helpers for tests of the staff API: accounts with tokens, and JSON requests that return (status, body)."""

from __future__ import annotations

from typing import Any

from core.models import Staff, Unit
from gateway.auth import issue_token

API = "/api/v1"


async def bearer(username: str, role: str, unit: str | None = None) -> dict[str, str]:
    """A staff account and its Authorization header, without argon2 (signing in is tested elsewhere)."""
    unit_row = await Unit.get(code=unit) if unit else None
    account = await Staff.create(
        username=username, display_name=username, password_hash="!", role=role, unit=unit_row
    )
    token, _ = await issue_token(account, 1)
    return {"Authorization": f"Bearer {token}"}


async def answer(response: Any) -> tuple[int, Any]:
    """Every answer of the API, errors included, is JSON."""
    assert response.content_type == "application/json", await response.text()
    return response.status, await response.json()


async def post(client: Any, headers: dict[str, str], path: str, body: Any = None) -> tuple[int, Any]:
    return await answer(await client.post(API + path, json={} if body is None else body, headers=headers))


async def get(client: Any, headers: dict[str, str], path: str, **params: str) -> tuple[int, Any]:
    return await answer(await client.get(API + path, params=params, headers=headers))


async def act(
    client: Any, headers: dict[str, str], number: str, action: str, body: Any = None
) -> tuple[int, Any]:
    return await post(client, headers, f"/inquiries/{number}/actions/{action}", body)
