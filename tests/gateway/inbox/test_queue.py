"""The inbox's queue page: the staff API's visibility rules, newest first, 20 a page."""

from __future__ import annotations

import re
from typing import Any

import pytest

NUMBER = re.compile(r"WZ\d{8}-\d{5}")


def numbers(page: str) -> list[str]:
    return NUMBER.findall(page)


@pytest.fixture
async def cases(client: Any, seed_inquiry: Any) -> dict[str, str]:
    """One inquiry at rsj, one at cgj, one not yet dispatched."""
    return {
        "rsj": await seed_inquiry("养老金迟迟没有发放", unit="rsj"),
        "cgj": await seed_inquiry("夜市占道经营噪音扰民", category="chengguan", unit="cgj"),
        "new": await seed_inquiry("失业保险金一直在审核中"),
    }


@pytest.mark.parametrize(
    ("role", "unit", "visible"),
    [
        ("handler", "rsj", {"rsj"}),
        ("spokesperson", "cgj", {"cgj"}),
        ("desk", None, {"rsj", "cgj", "new"}),
        ("supervisor", None, {"rsj", "cgj", "new"}),
    ],
)
async def test_the_queue_shows_what_the_staff_api_would(
    inbox: Any,
    make_staff: Any,
    login: Any,
    cases: dict[str, str],
    role: str,
    unit: str | None,
    visible: set[str],
) -> None:
    await make_staff("someone", role, unit)
    await inbox.sign_in("someone")
    page = await (await inbox.client.get("/inbox")).text()
    assert set(numbers(page)) == {cases[name] for name in visible}
    api = await inbox.client.get("/api/v1/inquiries", headers=await login("someone"))
    assert {item["number"] for item in (await api.json())["items"]} == set(numbers(page))


async def test_a_row_reads_in_chinese_in_beijing_time(
    inbox: Any, make_staff: Any, cases: dict[str, str]
) -> None:
    await make_staff("zhang", "handler", "rsj")
    await inbox.sign_in("zhang")
    page = await (await inbox.client.get("/inbox")).text()
    for text in ("养老金迟迟没有发放", "投诉", "社保", "市人力资源和社会保障局", "已派单", "网站", "签收 "):
        assert text in page, text
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d", page)
    header = page.split("</header>")[0]
    for text in ("zhang", "承办人", "市人力资源和社会保障局", "退出登录"):  # who is signed in, role, unit
        assert text in header, text


async def test_twenty_a_page_newest_first(inbox: Any, make_staff: Any, seed_inquiry: Any) -> None:
    made = [await seed_inquiry(f"第{i}件诉求的内容") for i in range(21)]
    await make_staff("desk", "desk")
    await inbox.sign_in("desk")
    first = await (await inbox.client.get("/inbox")).text()
    assert numbers(first) == made[::-1][:20]
    assert "共 21 件" in first
    assert 'href="/inbox?page=2" rel="next"' in first
    second = await (await inbox.client.get("/inbox?page=2")).text()
    assert numbers(second) == [made[0]]
    assert 'href="/inbox" rel="prev"' in second
    assert 'rel="next"' not in second


@pytest.mark.parametrize("page", ["0", "-1", "abc", "²", "99999999999"])
async def test_a_bad_page_number_shows_the_first_page(
    inbox: Any, make_staff: Any, cases: dict[str, str], page: str
) -> None:
    await make_staff("desk", "desk")
    await inbox.sign_in("desk")
    response = await inbox.client.get("/inbox", params={"page": page})
    assert response.status == 200
    assert len(numbers(await response.text())) == 3


async def test_an_unknown_queue_is_not_found(inbox: Any, make_staff: Any) -> None:
    await make_staff("desk", "desk")
    await inbox.sign_in("desk")
    assert (await inbox.client.get("/inbox", params={"queue": "nope"})).status == 404
