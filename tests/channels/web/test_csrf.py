"""The signed double-submit token on its own."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from channels.web.csrf import MAX_AGE, REISSUE_AFTER, CsrfTokens


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def request_with(cookie: str | None, name: str = "wz_csrf") -> web.Request:
    headers = {"Cookie": f"{name}={cookie}"} if cookie else {}
    return make_mocked_request("POST", "/submit", headers=headers)


def test_a_token_is_valid_in_its_cookie_and_form_until_it_expires() -> None:
    clock = FakeClock()
    tokens = CsrfTokens("secret", secure=False, clock=clock)
    token = tokens.new_token()
    assert tokens.is_valid(request_with(token), token)
    assert not tokens.is_valid(request_with(token), None)
    assert not tokens.is_valid(request_with(None), token)
    assert not tokens.is_valid(request_with(token), token + "x")
    clock.now += MAX_AGE + 1
    assert not tokens.is_valid(request_with(token), token)


def test_a_token_signed_with_another_key_is_refused() -> None:
    other = CsrfTokens("another secret", secure=False).new_token()
    assert not CsrfTokens("secret", secure=False).is_valid(request_with(other), other)


def test_garbage_cookies_are_refused_without_errors() -> None:
    tokens = CsrfTokens("secret", secure=False)
    for junk in ["x", "1.2.3", "９" * 50, "a" * 5000, "1800000000." + "a" * 32 + "." + "é" * 43]:
        assert not tokens.is_valid(request_with(junk), junk)


def test_pages_reuse_a_fresh_token_and_replace_an_old_one() -> None:
    clock = FakeClock()
    tokens = CsrfTokens("secret", secure=False, clock=clock)
    token = tokens.new_token()
    assert tokens.token_for(request_with(token)) == (token, False)
    clock.now += REISSUE_AFTER
    renewed, fresh = tokens.token_for(request_with(token))
    assert fresh
    assert renewed != token
    assert tokens.is_valid(request_with(renewed), renewed)


def test_on_https_the_cookie_is_host_only_and_secure() -> None:
    tokens = CsrfTokens("secret", secure=True)
    response = web.Response()
    tokens.set_cookie(response, tokens.new_token())
    morsel = response.cookies["__Host-wz_csrf"]
    assert morsel["secure"] is True
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["path"] == "/"
    assert morsel["domain"] == ""
    assert "wz_csrf" not in response.cookies
