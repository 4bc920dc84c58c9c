"""The per-address sliding-window limiter, on its own and on the submit and rate POSTs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from channels.web.ratelimit import DAY, MINUTE, SlidingWindowLimiter, Verdict, address_key
from channels.web.routes import FAILED_LOOKUPS_PER_MINUTE
from core.models import Inquiry
from gateway.app import build_service, create_app

ROOT = Path(__file__).resolve().parents[3]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_minute_window_slides() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 100, clock=clock)
    assert limiter.hit("a").allowed
    clock.now += 20
    assert limiter.hit("a").allowed
    clock.now += 10
    assert limiter.hit("a") == Verdict(False, 30)  # the first event leaves the window at +60
    assert limiter.hit("b").allowed  # addresses are counted apart
    clock.now += 29
    assert limiter.check("a") == Verdict(False, 1)
    clock.now += 1
    assert limiter.hit("a").allowed
    assert limiter.hit("a") == Verdict(False, 20)


def test_refused_attempts_are_not_counted_and_check_records_nothing() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 100, clock=clock)
    for _ in range(5):
        assert limiter.check("a").allowed
    assert limiter.hit("a").allowed
    for _ in range(10):
        clock.now += 5
        assert not limiter.hit("a").allowed
    clock.now = 1000 + MINUTE
    assert limiter.hit("a").allowed


def test_day_window_slides() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(5, 3, clock=clock)
    for _ in range(3):
        assert limiter.hit("a").allowed
        clock.now += 3600
    verdict = limiter.hit("a")
    assert verdict == Verdict(False, int(DAY - 3 * 3600))
    clock.now = 1000 + DAY
    assert limiter.hit("a").allowed  # the first of the day's events has left the window
    assert not limiter.hit("a").allowed


def test_idle_addresses_are_forgotten_and_the_number_of_addresses_is_bounded() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 1, clock=clock, max_keys=3)
    for key in "abcde":
        limiter.hit(key)
    assert len(limiter) == 3
    assert limiter.check("a").allowed  # the least recently seen were dropped
    assert not limiter.check("e").allowed
    clock.now += DAY + MINUTE
    limiter.hit("f")
    assert len(limiter) == 1


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        SlidingWindowLimiter(0, 10)


@pytest.fixture
async def limited_client(settings_with: Any, aiohttp_client: Any) -> Any:
    """The real app with the web channel limited to 2 submissions a minute per address."""
    settings = settings_with(
        WENZHENG_CHANNELS__WEB__RATE_LIMIT__PER_MINUTE="2", WENZHENG_CHANNELS__WEB__RATE_LIMIT__PER_DAY="100"
    )
    return await aiohttp_client(create_app(settings, build_service(settings)))


async def test_submissions_over_the_limit_get_429(limited_client: Any, valid_form: dict[str, str]) -> None:
    client = limited_client
    statuses = []
    for _ in range(3):
        page = await (await client.get("/submit")).text()
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        response = await client.post(
            "/submit", data={**valid_form, "csrf_token": token}, allow_redirects=False
        )
        statuses.append(response.status)
    assert statuses == [303, 303, 429]
    assert 55 <= int(response.headers["Retry-After"]) <= 60
    html = await response.text()
    assert "操作过于频繁" in html
    assert "为防止恶意提交，同一网络在一段时间内的提交次数有限。请约 " in html
    assert await Inquiry.all().count() == 2

    # the rating POST shares the limit: refused before anything is looked at
    number = (await Inquiry.first()).number  # type: ignore[union-attr]
    response = await client.post(f"/cases/{number}/rate", data={"rating": "satisfied"})
    assert response.status == 429
    assert "Retry-After" in response.headers


async def test_invalid_forms_do_not_use_up_the_limit(limited_client: Any, valid_form: dict[str, str]) -> None:
    client = limited_client
    page = await (await client.get("/submit")).text()
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    for _ in range(3):
        response = await client.post("/submit", data={**valid_form, "csrf_token": token, "content": ""})
        assert response.status == 400
    response = await client.post("/submit", data={**valid_form, "csrf_token": token}, allow_redirects=False)
    assert response.status == 303


async def test_guessing_query_codes_is_limited(client: Any, submitted: Any) -> None:
    number, code = await submitted()
    wrong = "".join("2" if c != "2" else "3" for c in code)
    statuses = [(await client.get(f"/cases/{number}", params={"code": wrong})).status for _ in range(31)]
    assert statuses == [404] * 30 + [429]
    response = await client.get(f"/cases/{number}", params={"code": code})
    assert response.status == 429  # until the window slides, even the right code waits
    assert int(response.headers["Retry-After"]) > 0


def test_a_refund_takes_back_exactly_the_event_it_recorded() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 100, clock=clock)
    first = limiter.hit("a")
    clock.now += 10
    second = limiter.hit("a")
    assert not limiter.check("a").allowed
    limiter.refund("a", first)
    assert limiter.check("a").allowed
    clock.now += 5
    assert limiter.hit("a").allowed
    assert limiter.check("a") == Verdict(False, 55)  # the second event, not the first, still counts
    limiter.refund("a", first)  # already given back: nothing more is taken
    assert limiter.check("a") == Verdict(False, 55)
    limiter.refund("a", limiter.hit("a"))  # a refused hit recorded nothing to give back
    assert limiter.check("a") == Verdict(False, 55)
    limiter.refund("b", second)  # another key's events are untouched
    assert not limiter.check("a").allowed


def test_ipv6_clients_are_keyed_by_their_64_prefix() -> None:
    one, other = "2001:db8:1:2:aaaa:bbbb:cccc:1", "2001:db8:1:2::ffff"
    assert address_key(one) == address_key(other) == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key(one)
    assert address_key("2001:DB8:1:2::1%eth0") == address_key(one)
    assert address_key("203.0.113.7") == "203.0.113.7"
    assert address_key("203.0.113.8") != address_key("203.0.113.7")  # IPv4 stays per address
    assert address_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert address_key("unknown") == "unknown"

    limiter = SlidingWindowLimiter(1, 100, clock=FakeClock())
    assert limiter.hit(address_key(one)).allowed
    assert not limiter.hit(address_key(other)).allowed  # rotating within the /64 does not help


def wrong_code(code: str) -> str:
    return "".join("2" if c != "2" else "3" for c in code)


async def test_a_burst_of_parallel_guesses_gets_no_more_than_the_limit_through(
    client: Any, submitted: Any
) -> None:
    number, code = await submitted()
    guesses = [client.get(f"/cases/{number}", params={"code": wrong_code(code)}) for _ in range(60)]
    statuses = sorted(response.status for response in await asyncio.gather(*guesses))
    assert statuses == [404] * FAILED_LOOKUPS_PER_MINUTE + [429] * (60 - FAILED_LOOKUPS_PER_MINUTE)


async def test_right_codes_do_not_use_up_the_lookup_limit(client: Any, submitted: Any) -> None:
    number, code = await submitted()
    right = [client.get(f"/cases/{number}", params={"code": code}) for _ in range(FAILED_LOOKUPS_PER_MINUTE)]
    assert {response.status for response in await asyncio.gather(*right)} == {200}
    for _ in range(FAILED_LOOKUPS_PER_MINUTE):
        assert (await client.get(f"/cases/{number}", params={"code": wrong_code(code)})).status == 404
    assert (await client.get(f"/cases/{number}", params={"code": code})).status == 429


async def test_wrong_codes_on_the_rating_post_share_the_lookup_limit(
    client: Any, submitted: Any, form_tokens: Any
) -> None:
    number, code = await submitted()
    csrf = (await form_tokens())["csrf_token"]
    form = {"csrf_token": csrf, "code": wrong_code(code), "rating": "satisfied"}
    rate = f"/cases/{number}/rate"
    statuses = [(await client.post(rate, data=form)).status for _ in range(FAILED_LOOKUPS_PER_MINUTE)]
    assert statuses == [404] * FAILED_LOOKUPS_PER_MINUTE
    response = await client.post(rate, data=form)
    assert response.status == 429  # the rating form is no way around the limit
    assert int(response.headers["Retry-After"]) > 0
    assert (await client.get(f"/cases/{number}", params={"code": code})).status == 429
    assert (await Inquiry.get(number=number)).rating is None
