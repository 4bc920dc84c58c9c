"""The inbox's queues: each role's queues select exactly their rows, never another unit's; filters and
the Chinese search combine; bad values are 400 with the reason; keyset paging; "due soon" in working
days."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.models import Inquiry
from core.numbers import BEIJING
from core.states import State
from gateway import inquiry_filters
from gateway.inquiry_filters import FEW_HITS

CASE_LINK = re.compile(r'href="/inbox/cases/(WZ\d{8}-\d{5})"')
# Friday 27 November 2026, 15:00 in Beijing: the next working day is Monday 30 November
FRIDAY = datetime(2026, 11, 27, 15, 0, tzinfo=BEIJING)


def numbers(page: str) -> list[str]:
    """The case numbers the page lists, in order (each row links to its case page)."""
    return CASE_LINK.findall(page)


def tab_count(page: str, label: str) -> str:
    match = re.search(rf">{label} <span class=\"tabs__count\">([\d+]+)</span>", page)
    assert match, label
    return match[1]


async def shape(number: str, **values: Any) -> None:
    """Put an inquiry into the state a test needs, deadlines and all, without going through the steps
    (times in UTC, as the service stores them: SQLite compares them as text)."""
    utc = {name: v.astimezone(UTC) if isinstance(v, datetime) else v for name, v in values.items()}
    await Inquiry.filter(number=number).update(**utc)


@pytest.fixture
def friday(service: Any) -> datetime:
    """The service's clock stopped on a Friday afternoon (intakes and the queues both read it)."""
    service.clock = lambda: FRIDAY.astimezone(UTC)
    return FRIDAY


async def seed_unit(seed_inquiry: Any, unit: str, category: str, word: str) -> dict[str, str]:
    """One inquiry of ``unit`` in each queue's state; ``word`` in every content, to search for."""
    made = {name: await seed_inquiry(f"{word}：{name}的诉求", category=category, unit=unit) for name in NAMES}
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=BEIJING)
    tuesday = monday + timedelta(days=1)
    await shape(made["new"], ack_due_at=tuesday)
    await shape(made["new_due_monday"], ack_due_at=monday)
    await shape(made["new_late"], ack_due_at=FRIDAY - timedelta(hours=1))
    await shape(made["doing"], state=State.ACKNOWLEDGED, ack_due_at=None, reply_due_at=tuesday)
    await shape(made["doing_due_monday"], state=State.ACKNOWLEDGED, reply_due_at=monday)
    await shape(made["doing_late"], state=State.ACKNOWLEDGED, reply_due_at=FRIDAY - timedelta(days=2))
    await shape(made["extension"], state=State.ACKNOWLEDGED, reply_due_at=tuesday, extension_pending_days=5)
    await shape(made["replied"], state=State.REPLIED)
    await shape(made["returned"], state=State.RETURNED)
    await shape(made["closed"], state=State.CLOSED)
    return made


NAMES = (
    "new",
    "new_due_monday",
    "new_late",
    "doing",
    "doing_due_monday",
    "doing_late",
    "extension",
    "replied",
    "returned",
    "closed",
)
UNIT_QUEUES = {
    "new": {"new", "new_due_monday", "new_late"},
    "doing": {"doing", "doing_due_monday", "doing_late", "extension"},
    "due": {"new_due_monday", "doing_due_monday"},
    "overdue": {"new_late", "doing_late"},
    "rating": {"replied"},
}
DESK_QUEUES = {
    "unscreened": {"received"},
    "returned": {"returned"},
    "extensions": {"extension"},
    "overdue": {"new_late", "doing_late"},
    "all": {*NAMES, "received"},
}


@pytest.fixture
async def world(
    client: Any, friday: datetime, seed_inquiry: Any, make_staff: Any
) -> dict[str, dict[str, str]]:
    """rsj's and cgj's inquiries in every state, one not yet dispatched, and staff to read them."""
    rsj = await seed_unit(seed_inquiry, "rsj", "shebao", "养老金")
    cgj = await seed_unit(seed_inquiry, "cgj", "chengguan", "占道经营")
    rsj["received"] = cgj["received"] = await seed_inquiry("养老金和占道经营都还没有派单")
    await make_staff("zhang", "handler", "rsj")
    await make_staff("desk", "desk")
    return {"rsj": rsj, "cgj": cgj}


async def get(inbox: Any, **params: str) -> tuple[int, str]:
    response = await inbox.client.get("/inbox", params=params)
    return response.status, await response.text()


@pytest.mark.parametrize(("queue", "expected"), UNIT_QUEUES.items())
async def test_each_unit_queue_selects_exactly_its_rows(
    inbox: Any, world: dict[str, dict[str, str]], queue: str, expected: set[str]
) -> None:
    await inbox.sign_in("zhang")
    status, page = await get(inbox, queue=queue)
    assert status == 200
    assert set(numbers(page)) == {world["rsj"][name] for name in expected}
    assert len(numbers(page)) == len(expected)
    for label, names in zip(
        ("待签收", "办理中", "即将到期", "已超期", "待评价"), UNIT_QUEUES.values(), strict=True
    ):
        assert tab_count(page, label) == str(len(names)), label


@pytest.mark.parametrize(("queue", "expected"), DESK_QUEUES.items())
async def test_each_desk_queue_selects_exactly_its_rows(
    inbox: Any, world: dict[str, dict[str, str]], queue: str, expected: set[str]
) -> None:
    await inbox.sign_in("desk")
    status, page = await get(inbox, queue=queue)
    assert status == 200
    want = {world[unit][name] for unit in ("rsj", "cgj") for name in expected}
    shown = numbers(page)
    assert set(shown) <= want
    assert len(shown) == min(len(want), 20)
    counts = [len({world[u][n] for u in ("rsj", "cgj") for n in names}) for names in DESK_QUEUES.values()]
    labels = ("待甄别", "退回", "延期申请", "已超期", "全部")
    assert [tab_count(page, label) for label in labels] == [str(n) for n in counts]


async def test_the_home_is_the_roles_first_queue(inbox: Any, world: dict[str, dict[str, str]]) -> None:
    await inbox.sign_in("zhang")
    assert (await get(inbox))[1] == (await get(inbox, queue="new"))[1]
    await inbox.client.post("/inbox/logout", data={"csrf_token": await inbox.form_token("/inbox")})
    await inbox.sign_in("desk")
    _, page = await get(inbox)
    assert numbers(page) == [world["rsj"]["received"]]
    assert 'href="/inbox" aria-current="page">待甄别' in page


@pytest.mark.parametrize("queue", ["unscreened", "all", "nope"])
async def test_a_queue_not_of_the_role_is_not_found(inbox: Any, world: Any, queue: str) -> None:
    await inbox.sign_in("zhang")
    assert (await get(inbox, queue=queue))[0] == 404


@pytest.mark.parametrize("few_hits", [FEW_HITS, 0])
async def test_a_handler_never_sees_another_units_rows(
    inbox: Any, world: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch, few_hits: int
) -> None:
    monkeypatch.setattr(inquiry_filters, "FEW_HITS", few_hits)
    await inbox.sign_in("zhang")
    theirs = set(world["cgj"].values()) - {world["cgj"]["received"]}
    searches = [
        {},
        {"q": "占道经营"},
        {"q": "占道"},
        {"q": "诉求"},
        {"unit": "cgj"},
        {"category": "chengguan"},
    ]
    searches += [{"q": number} for number in sorted(theirs)[:3]]
    for queue in UNIT_QUEUES:
        for params in searches:
            status, page = await get(inbox, queue=queue, **params)
            assert status == 200, params
            assert not theirs & set(numbers(page)), (queue, params)
            assert world["rsj"]["received"] not in numbers(page)
            assert "占道经营" not in page.split('role="search"')[1].split("</form>")[1], (queue, params)
            counts = [
                int(tab_count(page, label)) for label in ("待签收", "办理中", "即将到期", "已超期", "待评价")
            ]
            # the open tab counts what it lists; the other badges are their queues' own sizes
            sizes = [len(names) for names in UNIT_QUEUES.values()]
            q = params.get("q", "")
            if q.startswith("WZ") or "占道" in q or params.get("unit") or params.get("category"):
                sizes[list(UNIT_QUEUES).index(queue)] = 0
            assert counts == sizes, (queue, params)


async def test_filters_and_search_combine(
    inbox: Any, world: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    rsj, cgj = world["rsj"], world["cgj"]
    await shape(rsj["new"], kind="suggestion", channel="wechat", created_at=FRIDAY - timedelta(days=3))
    await shape(cgj["new"], kind="suggestion", created_at=FRIDAY - timedelta(days=10))
    await shape(rsj["new_late"], content="养老金：请核实 50% 的扣款")
    await inbox.sign_in("desk")
    cases: list[tuple[dict[str, str], set[str]]] = [
        ({"kind": "suggestion"}, {rsj["new"], cgj["new"]}),
        ({"kind": "suggestion", "channel": "wechat"}, {rsj["new"]}),
        ({"kind": "suggestion", "unit": "cgj"}, {cgj["new"]}),
        ({"kind": "suggestion", "received_from": "2026-11-20"}, {rsj["new"]}),
        ({"kind": "suggestion", "received_to": "2026-11-23"}, {cgj["new"]}),
        ({"received_from": "2026-11-24", "received_to": "2026-11-24"}, {rsj["new"]}),
        ({"q": "养老金", "kind": "suggestion"}, {rsj["new"]}),
        ({"q": "养老金", "category": "shebao"}, set(rsj.values())),
        ({"q": "占道", "unit": "rsj"}, set()),
        ({"q": "50%"}, {rsj["new_late"]}),
        ({"q": "0%"}, {rsj["new_late"]}),
        ({"q": "w_la"}, {cgj["new_late"]}),
        ({"q": "g_", "unit": "rsj"}, {rsj["doing_due_monday"], rsj["doing_late"]}),
        ({"q": "老金"}, set(rsj.values())),
        ({"q": rsj["doing"].lower()}, {rsj["doing"]}),
        ({"q": "养老金：doing的"}, {rsj["doing"]}),
        ({"q": "还没有派单", "kind": "complaint", "channel": "web"}, {rsj["received"]}),
        # form fields left empty are no filters
        ({"q": "", "kind": "", "unit": "", "received_from": "", "channel": "wechat"}, {rsj["new"]}),
    ]
    for few_hits in (FEW_HITS, 0):  # a rare text by its ids; a common one along the queue's index
        monkeypatch.setattr(inquiry_filters, "FEW_HITS", few_hits)
        for params, expected in cases:
            status, page = await get(inbox, queue="all", **params)
            assert status == 200, params
            assert sorted(numbers(page)) == sorted(expected), (few_hits, params)
            assert tab_count(page, "全部") == str(len(expected)), (few_hits, params)
    # the date range is in Beijing dates: 00:30 on 24 November in Beijing is still 23 November in UTC
    await shape(cgj["new"], created_at=datetime(2026, 11, 24, 0, 30, tzinfo=BEIJING))
    _, page = await get(
        inbox, queue="all", kind="suggestion", received_from="2026-11-24", received_to="2026-11-24"
    )
    assert sorted(numbers(page)) == sorted([rsj["new"], cgj["new"]])


async def test_the_filters_stay_on_the_tabs_and_in_the_form(inbox: Any, world: Any) -> None:
    await inbox.sign_in("desk")
    _, page = await get(inbox, queue="overdue", q="养老金", kind="complaint", unit="rsj")
    assert 'href="/inbox?queue=all&amp;kind=complaint&amp;unit=rsj&amp;q=%E5%85%BB%E8%80%81%E9%87%91"' in page
    assert 'value="养老金"' in page
    assert '<option value="complaint" selected>' in page
    assert '<option value="rsj" selected>' in page
    assert 'href="/inbox?queue=overdue">清除条件' in page


async def test_the_unit_filter_is_offered_to_the_desk_only(inbox: Any, world: Any) -> None:
    await inbox.sign_in("zhang")
    page = (await get(inbox))[1]
    assert 'name="unit"' not in page
    for label in ("搜索", "类型", "分类", "渠道", "收到日期从"):
        assert f">{label}</label>" in page


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"kind": "gripe"}, "参数 kind 的值 gripe 无效"),
        ({"channel": "fax"}, "参数 channel 的值 fax 无效"),
        ({"category": "nope"}, "参数 category 的值 nope 无效"),
        ({"unit": "nope"}, "参数 unit 的值 nope 无效"),
        ({"received_from": "2026-13-01"}, "参数 received_from 应为日期，格式如 2026-11-27"),
        ({"received_to": "27/11/2026"}, "参数 received_to 应为日期，格式如 2026-11-27"),
        (
            {"received_from": "2026-11-28", "received_to": "2026-11-27"},
            "参数 received_from 的日期不能晚于 received_to",
        ),
        ({"q": "x" * 101}, "搜索词不能超过 100 字"),
        ({"q": "路灯\x00"}, "搜索词含有无效字符"),
        ({"q": " 灯 "}, "搜索词至少 2 个字：单个字出现在太多诉求里，请输入词语或诉求编号"),
        ({"older": "yesterday"}, "参数 older 无效：请从列表中的翻页链接进入"),
        ({"newer": "1_2_3"}, "参数 newer 无效：请从列表中的翻页链接进入"),
    ],
)
async def test_a_bad_filter_is_400_with_the_reason(
    inbox: Any, client: Any, world: Any, login: Any, params: dict[str, str], reason: str
) -> None:
    await inbox.sign_in("desk")
    status, page = await get(inbox, queue="all", **params)
    assert status == 400
    assert "筛选条件有误" in page
    assert reason in page.replace("&#34;", '"')
    if not {"older", "newer"} & set(params):  # the API says the same, in JSON
        response = await client.get("/api/v1/inquiries", params=params, headers=await login("desk"))
        assert (response.status, await response.json()) == (400, {"error": reason})


async def test_keyset_paging_walks_45_rows_in_3_pages(
    inbox: Any, client: Any, friday: datetime, seed_inquiry: Any, make_staff: Any
) -> None:
    made = [await seed_inquiry(f"第{i}件诉求") for i in range(45)]
    for i, number in enumerate(made[:30]):  # ties on created_at are ordered by id
        await shape(number, created_at=FRIDAY - timedelta(minutes=i // 2))
    await make_staff("desk", "desk")
    await inbox.sign_in("desk")
    rows = await Inquiry.all().order_by("-created_at", "-id").values_list("number", flat=True)
    assert rows[:15] == made[30:][::-1]  # the untouched ones are the newest (created on Friday 15:00)
    pages, url = [], "/inbox"
    while url:
        page = await (await inbox.client.get(url.replace("&amp;", "&"))).text()
        pages.append(numbers(page))
        older = re.search(r'href="([^"]+)" rel="next">较早的', page)
        url = older[1] if older else None
    assert [len(p) for p in pages] == [20, 20, 5]
    assert [n for p in pages for n in p] == rows
    # and back: "newer" from the last page gives the middle page again
    newer = re.search(r'href="([^"]+)" rel="prev">较新的', page)
    assert newer is not None
    middle = await (await inbox.client.get(newer[1].replace("&amp;", "&"))).text()
    assert numbers(middle) == pages[1]
    assert 'rel="prev"' in middle
    assert 'rel="next"' in middle


async def test_due_soon_counts_working_days_across_the_weekend(
    inbox: Any, client: Any, friday: datetime, seed_inquiry: Any, make_staff: Any, service: Any
) -> None:
    """On Friday afternoon the next working day is Monday: a deadline on Monday evening is due soon, one
    on Saturday too, one on Tuesday morning is not (though 24 natural hours would say neither Monday)."""
    due = {
        "saturday": datetime(2026, 11, 28, 12, 0, tzinfo=BEIJING),
        "monday_evening": datetime(2026, 11, 30, 23, 0, tzinfo=BEIJING),
        "tuesday": datetime(2026, 12, 1, 9, 0, tzinfo=BEIJING),
        "friday_past": FRIDAY - timedelta(minutes=1),
    }
    made = {}
    for name, at in due.items():
        made[name] = await seed_inquiry(f"{name}到期", unit="rsj")
        await shape(made[name], state=State.ACKNOWLEDGED, reply_due_at=at)
    await make_staff("zhang", "handler", "rsj")
    await inbox.sign_in("zhang")
    _, page = await get(inbox, queue="due")
    assert set(numbers(page)) == {made["saturday"], made["monday_evening"]}
    # on Saturday morning it is still Monday; on Monday morning, Tuesday
    service.clock = lambda: datetime(2026, 11, 30, 9, 0, tzinfo=BEIJING).astimezone(UTC)
    _, page = await get(inbox, queue="due")
    assert set(numbers(page)) == {made["monday_evening"], made["tuesday"]}


async def test_a_row_reads_in_chinese_and_links_its_case(
    inbox: Any, world: dict[str, dict[str, str]]
) -> None:
    await inbox.sign_in("zhang")
    _, page = await get(inbox)
    for text in (
        "养老金",
        "投诉",
        "社保",
        "市人力资源和社会保障局",
        "已派单",
        "网站",
        "签收 ",
        "2026年11月27日",
    ):
        assert text in page, text
    assert f'<a href="/inbox/cases/{world["rsj"]["new"]}">{world["rsj"]["new"]}</a>' in page
    header = page.split("</header>")[0]
    for text in ("zhang", "承办人", "市人力资源和社会保障局", "退出登录"):  # who is signed in, role, unit
        assert text in header, text


async def test_counts_are_capped(inbox: Any, world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.inbox import queues

    monkeypatch.setattr(queues, "COUNT_CAP", 2)
    monkeypatch.setattr(queues, "TAB_CAP", 1)
    await inbox.sign_in("zhang")
    _, page = await get(inbox)
    assert tab_count(page, "待签收") == "2+"  # the open queue's cap
    assert tab_count(page, "办理中") == "1+"  # the other tabs' lower cap
    assert tab_count(page, "待评价") == "1"
    assert "共 2+ 件" in page


async def test_the_api_takes_the_received_date_range(client: Any, world: Any, login: Any) -> None:
    desk = await login("desk")
    response = await client.get(
        "/api/v1/inquiries", params={"received_from": "2026-11-27", "q": "养老金"}, headers=desk
    )
    body = await response.json()
    assert (response.status, body["total"]) == (200, 11)
    response = await client.get("/api/v1/inquiries", params={"received_to": "2026-11-26"}, headers=desk)
    assert (await response.json())["total"] == 0
