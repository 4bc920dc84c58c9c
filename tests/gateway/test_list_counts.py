"""The list's total is exact up to a cap, then a lower bound that says so."""

from __future__ import annotations

from typing import Any

import pytest

from core.actors import Actor
from core.models import Inquiry
from core.service import IntakeRequest
from core.vocab import Channel, Kind
from gateway import api


async def add(service: Any, count: int) -> None:
    for _ in range(count):
        request = IntakeRequest(channel=Channel.WEB, kind=Kind.HELP, category="shebao", content="求助")
        await service.intake(request, Actor.citizen())


async def test_count_up_to_stops_past_the_cap(client: Any, service: Any) -> None:
    await add(service, 7)
    assert await api.count_up_to(Inquiry.all(), 10) == 7
    assert await api.count_up_to(Inquiry.all(), 5) == 6
    assert await api.count_up_to(Inquiry.filter(category="jiuye"), 5) == 0


@pytest.mark.parametrize(("cap", "total", "exact"), [(10, 7, True), (5, 5, False)])
async def test_the_list_says_whether_its_total_is_exact(
    client: Any,
    service: Any,
    make_staff: Any,
    login: Any,
    monkeypatch: pytest.MonkeyPatch,
    cap: int,
    total: int,
    exact: bool,
) -> None:
    monkeypatch.setattr(api, "COUNT_CAP", cap)
    await add(service, 7)
    await make_staff("desk1", "desk")
    body = await (await client.get("/api/v1/inquiries?per_page=3", headers=await login("desk1"))).json()
    assert (body["total"], body["total_exact"], len(body["items"])) == (total, exact, 3)
