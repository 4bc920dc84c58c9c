"""Live updates: the server-sent events of /inbox/events, read by an aiohttp client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from core.actors import Actor
from core.models import InquiryEvent, Staff, StaffToken
from core.service import InquiryService
from gateway.inbox.live import live_hub_key

InboxClient = Any  # conftest's InboxClient (test modules cannot import conftest)


FAST = {"WENZHENG_INBOX__LIVE__POLL_MS": "20"}


class Stream:
    """An open event stream, read one event (or comment) at a time."""

    def __init__(self, response: Any) -> None:
        self.response = response

    async def block(self, wait: float = 3) -> dict[str, str]:
        """The next block: its fields (``comment`` for a comment line)."""
        raw = await asyncio.wait_for(self.response.content.readuntil(b"\n\n"), wait)
        fields: dict[str, str] = {}
        for line in raw.decode().strip("\n").split("\n"):
            name, _, value = line.partition(":")
            fields[name or "comment"] = value.removeprefix(" ")
        return fields

    async def event(self, wait: float = 3) -> dict[str, Any]:
        """The next ``inquiry`` event's data, with its id; skips retry lines and heartbeats."""
        while True:
            block = await self.block(wait)
            if block.get("event") == "inquiry":
                return {**json.loads(block["data"]), "event_id": block["id"]}
            assert "event" not in block, block

    async def events_until(self, number: str, action: str) -> list[dict[str, Any]]:
        """Every event up to and including ``action`` on ``number``."""
        seen = []
        while not seen or (seen[-1]["number"], seen[-1]["action"]) != (number, action):
            seen.append(await self.event())
        return seen


async def open_stream(inbox: Any, headers: dict[str, str] | None = None, **query: str) -> Stream:
    response = await inbox.client.get("/inbox/events", headers=headers or {}, params=query)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == "text/event-stream"
    return Stream(response)


@pytest.fixture
async def fast(inbox_with: Any) -> Any:
    """An inbox polling every 20 ms, signed in as nobody yet."""
    return await inbox_with(**FAST)


async def signed_in(first: Any, aiohttp_client: Any, make_staff: Any, username: str, *role: str) -> Any:
    """A client of ``first``'s server signed in as a new staff member ``username`` (``role``, unit)."""
    await make_staff(username, *role)
    client = type(first)(await aiohttp_client(first.client.server))
    assert (await client.sign_in(username)).status == 303
    return client


async def test_events_need_a_session(inbox: Any) -> None:
    response = await inbox.client.get("/inbox/events", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/inbox/login?next=%2Finbox%2Fevents"


async def test_each_staff_member_hears_of_the_inquiries_they_may_see(
    fast: Any, aiohttp_client: Any, make_staff: Any, seed_inquiry: Any
) -> None:
    rsj = await signed_in(fast, aiohttp_client, make_staff, "rsj-handler", "handler", "rsj")
    cgj = await signed_in(fast, aiohttp_client, make_staff, "cgj-handler", "handler", "cgj")
    desk = await signed_in(fast, aiohttp_client, make_staff, "desk1", "desk")
    streams = {name: await open_stream(c) for name, c in {"rsj": rsj, "cgj": cgj, "desk": desk}.items()}

    own = await seed_inquiry("社保卡补办三个月没有消息", unit="rsj")
    other = await seed_inquiry("夜市占道经营", category="chengguan", unit="cgj")
    last = await seed_inquiry("养老金没有发放", unit="rsj")

    desk_saw = await streams["desk"].events_until(last, "dispatch")
    assert [(e["number"], e["action"]) for e in desk_saw] == [
        (number, action) for number in (own, other, last) for action in ("intake", "dispatch")
    ]
    assert desk_saw[0]["label"] == "受理"
    assert desk_saw[0]["state"] == "received"
    rsj_saw = await streams["rsj"].events_until(last, "dispatch")
    # an intake read in the same poll as its dispatch is the unit's already: it may come along
    assert {e["number"] for e in rsj_saw} == {own, last}
    dispatches = [e for e in rsj_saw if e["action"] == "dispatch"]
    assert [(e["number"], e["label"]) for e in dispatches] == [(own, "派单"), (last, "派单")]
    assert all(e["notify"] for e in dispatches)  # a dispatch to one's unit is a notification
    assert not any(e["notify"] for e in desk_saw)  # the desk's own dispatches are not
    assert {e["number"] for e in await streams["cgj"].events_until(other, "dispatch")} == {other}


async def test_an_inquiry_dispatched_away_stops_reaching_the_unit(
    fast: Any,
    aiohttp_client: Any,
    make_staff: Any,
    seed_inquiry: Any,
    service: InquiryService,
) -> None:
    rsj = await signed_in(fast, aiohttp_client, make_staff, "rsj-handler", "handler", "rsj")
    stream = await open_stream(rsj)
    number = await seed_inquiry("夜市噪音", unit="rsj")
    assert (await stream.event())["number"] == number
    handler = Actor.of_staff(await Staff.get(username="rsj-handler"))
    desk = Actor.of_staff(await Staff.get(username="seed-desk"))
    await service.act(number, "return", handler, {"reason": "应由城管局办理"})
    await service.act(number, "redispatch", desk, {"unit": "cgj"})
    await service.act(number, "note", desk, {"text": "已改派城管局"})
    sentinel = await seed_inquiry("失业金审核", unit="rsj")
    later = await stream.events_until(sentinel, "dispatch")
    assert not [e for e in later if e["number"] == number and e["action"] in ("redispatch", "note")]


async def test_a_reconnecting_page_gets_what_it_missed(
    fast: Any, aiohttp_client: Any, make_staff: Any, seed_inquiry: Any
) -> None:
    desk = await signed_in(fast, aiohttp_client, make_staff, "desk1", "desk")
    stream = await open_stream(desk)
    first = await seed_inquiry("第一件")
    seen = await stream.event()
    assert seen["number"] == first
    stream.response.close()

    missed = [await seed_inquiry(f"第{n}件") for n in ("二", "三")]
    await asyncio.sleep(0.1)  # the hub reads them while no page is open
    again = await open_stream(desk, headers={"Last-Event-ID": seen["event_id"]})
    assert [e["number"] for e in [await again.event(), await again.event()]] == missed

    # the page's own starting point (?after=, from its HTML) works the same on a first connection
    from_page = await open_stream(desk, after=seen["event_id"])
    assert [(await from_page.event())["number"] for _ in missed] == missed


async def test_too_much_missed_is_a_reset(
    inbox_with: Any, aiohttp_client: Any, make_staff: Any, seed_inquiry: Any
) -> None:
    inbox = await inbox_with(**FAST, WENZHENG_INBOX__LIVE__REPLAY_LIMIT="2")
    desk = await signed_in(inbox, aiohttp_client, make_staff, "desk1", "desk")
    for n in range(3):
        await seed_inquiry(f"积压 {n}")
    await asyncio.sleep(0.1)
    stream = await open_stream(desk, headers={"Last-Event-ID": "0"})
    assert (await stream.block())["retry"] == "2000"
    reset = await stream.block()
    assert reset["event"] == "reset"
    assert reset["id"] == str(inbox.client.app[live_hub_key].cursor)


async def test_heartbeat_and_a_session_ended_meanwhile(
    inbox_with: Any, aiohttp_client: Any, make_staff: Any
) -> None:
    inbox = await inbox_with(**FAST, WENZHENG_INBOX__LIVE__HEARTBEAT_SECONDS="0.1")
    desk = await signed_in(inbox, aiohttp_client, make_staff, "desk1", "desk")
    stream = await open_stream(desk)
    assert (await stream.block())["retry"] == "2000"
    assert (await stream.block(wait=1)) == {"comment": "heartbeat"}
    await StaffToken.all().delete()  # signed out everywhere (a password change, say)
    assert (await stream.block(wait=1))["event"] == "signed-out"
    assert (await stream.response.content.read()) == b""


async def test_connections_are_limited_per_staff_member_and_in_all(
    inbox_with: Any, aiohttp_client: Any, make_staff: Any
) -> None:
    inbox = await inbox_with(
        **FAST, WENZHENG_INBOX__LIVE__MAX_PER_STAFF="2", WENZHENG_INBOX__LIVE__MAX_CONNECTIONS="3"
    )
    desk = await signed_in(inbox, aiohttp_client, make_staff, "desk1", "desk")
    other = await signed_in(inbox, aiohttp_client, make_staff, "desk2", "desk")
    first = await open_stream(desk)
    await open_stream(desk)
    refused = await desk.client.get("/inbox/events")
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "30"
    assert "2 个实时更新的页面" in await refused.text()

    await open_stream(other)
    assert (await other.client.get("/inbox/events")).status == 429  # 3 open in all

    first.response.close()  # a closed tab frees its place at the next poll
    for _ in range(50):
        await asyncio.sleep(0.02)
        if len(inbox.client.app[live_hub_key].subscribers) == 2:
            break
    await open_stream(other)


async def test_shutdown_ends_the_streams_and_leaves_no_task(
    fast: Any, aiohttp_client: Any, make_staff: Any
) -> None:
    desk = await signed_in(fast, aiohttp_client, make_staff, "desk1", "desk")
    stream = await open_stream(desk)
    hub = fast.client.app[live_hub_key]
    assert [t for t in asyncio.all_tasks() if t.get_name() == "inbox-live"]
    await asyncio.wait_for(fast.client.server.close(), 5)
    assert (await asyncio.wait_for(stream.response.content.read(), 2)).startswith(b"retry:")
    assert not hub.subscribers
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "inbox-live"]


async def test_inbox_pages_may_run_our_script_and_nothing_else(inbox: Any, make_staff: Any) -> None:
    await make_staff("desk1", "desk")
    await inbox.sign_in("desk1")
    response = await inbox.client.get("/inbox/password")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "default-src 'none'" in policy
    html = await response.text()
    assert '<script src="/static/inbox/live.js?v=' in html
    assert "defer></script>" in html
    assert (await inbox.client.get("/static/inbox/live.js")).status == 200
    signed_out = await inbox.client.get("/inbox/login")
    assert "<script" not in await signed_out.text()
    citizen = await inbox.client.get("/")
    assert "script-src" not in citizen.headers["Content-Security-Policy"]


async def test_a_page_streams_from_the_newest_event_it_shows_not_from_a_lagging_poll(
    inbox_with: Any, make_staff: Any, seed_inquiry: Any
) -> None:
    """Else a page rendered right after an action would be sent that action again as news."""
    inbox = await inbox_with(WENZHENG_INBOX__LIVE__POLL_MS="10000")  # the poll is far behind
    await make_staff("desk1", "desk")
    assert (await inbox.sign_in("desk1")).status == 303
    await seed_inquiry("小区路灯不亮", unit="rsj")
    latest = await InquiryEvent.all().order_by("-id").first()
    assert latest is not None
    page = await (await inbox.client.get("/inbox")).text()
    assert f'data-live-after="{latest.id}"' in page
