"""The fans-service push signature against Weibo's official vector, the replay window and body checks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from channels.weibo.security import MAX_BODY, PushSecurity, WeiboRejected, signature

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures/weibo/official_vectors.json").read_text()
)
VECTOR = VECTORS["url_verification"]
SECRET = "push-secret"
NOW_MS = 1795752817123
"""The clock of the replay-window tests, in milliseconds (2026-11-27 04:13:37.123 UTC)."""


def signed(timestamp: int = NOW_MS, nonce: str = "8127", secret: str = SECRET) -> dict[str, str]:
    return {
        "timestamp": str(timestamp),
        "nonce": nonce,
        "signature": signature(secret, str(timestamp), nonce),
    }


def security(window: int = 300) -> PushSecurity:
    return PushSecurity(SECRET, replay_window_seconds=window, clock=lambda: NOW_MS / 1000)


def test_the_official_vector_signs_as_documented() -> None:
    query = VECTOR["query"]
    assert signature(VECTOR["app_secret"], query["timestamp"], query["nonce"]) == query["signature"]


def test_the_official_url_verification_echoes_echostr() -> None:
    vector_security = PushSecurity(VECTOR["app_secret"], replay_window_seconds=0)
    assert vector_security.verify_url(VECTOR["query"]) == VECTOR["expected_body"] == "dnPdpTZz85"


async def test_a_get_handler_answers_the_official_verification_request(aiohttp_client: Any) -> None:
    vector_security = PushSecurity(VECTOR["app_secret"], replay_window_seconds=0)

    async def verify(request: web.Request) -> web.Response:
        try:
            return web.Response(text=vector_security.verify_url(request.query))
        except WeiboRejected as rejected:
            return web.Response(status=rejected.status, text=rejected.reason)

    app = web.Application()
    app.router.add_get("/weibo", verify)
    client = await aiohttp_client(app)
    answer = await client.get("/weibo", params=VECTOR["query"])
    assert (answer.status, await answer.text()) == (200, "dnPdpTZz85")
    forged = await client.get("/weibo", params={**VECTOR["query"], "nonce": "57155158"})
    assert (forged.status, await forged.text()) == (403, "bad signature")


def test_the_2014_vector_is_stale_under_a_replay_window() -> None:
    with pytest.raises(WeiboRejected) as caught:
        PushSecurity(VECTOR["app_secret"], replay_window_seconds=300).verify_url(VECTOR["query"])
    assert (caught.value.status, caught.value.reason) == (403, "timestamp outside the replay window")


def test_a_signed_push_opens_to_its_body_and_object() -> None:
    body = '{"type":"text","sender_id":2489518277,"text":"你好"}'
    push = security().open(signed(), body.encode())
    assert push.raw == body
    assert push.payload == {"type": "text", "sender_id": 2489518277, "text": "你好"}


@pytest.mark.parametrize("drift_ms", [-300_000, 300_000])
def test_the_replay_window_is_in_seconds_of_a_millisecond_timestamp(drift_ms: int) -> None:
    assert security().open(signed(NOW_MS + drift_ms), b"{}").payload == {}
    with pytest.raises(WeiboRejected, match="replay window"):
        security().open(signed(NOW_MS + drift_ms + (1 if drift_ms > 0 else -1) * 1000), b"{}")


def test_window_zero_turns_the_replay_check_off() -> None:
    assert security(window=0).open(signed(1), b"{}").payload == {}


def test_a_negative_window_or_an_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        PushSecurity(SECRET, replay_window_seconds=-1)
    with pytest.raises(ValueError, match="AppSecret"):
        PushSecurity("")


@pytest.mark.parametrize(
    ("query", "status", "reason"),
    [
        ({}, 400, "query parameter signature missing"),
        ({**signed(), "nonce": ""}, 400, "query parameter nonce missing"),
        ({k: v for k, v in signed().items() if k != "timestamp"}, 400, "query parameter timestamp missing"),
        ({**signed(), "timestamp": "1.5e12"}, 400, "timestamp is not a Unix time in milliseconds"),
        ({**signed(), "nonce": "8128"}, 403, "bad signature"),
        (signed(secret="another-secret"), 403, "bad signature"),
        ({**signed(), "signature": signed()["signature"].upper()}, 403, "bad signature"),
    ],
)
def test_bad_queries_are_refused_with_a_reason(query: dict[str, str], status: int, reason: str) -> None:
    with pytest.raises(WeiboRejected) as caught:
        security().open(query, b"{}")
    assert (caught.value.status, caught.value.reason) == (status, reason)


def test_verification_without_echostr_is_refused() -> None:
    with pytest.raises(WeiboRejected) as caught:
        security().verify_url(signed())
    assert (caught.value.status, caught.value.reason) == (400, "query parameter echostr missing")


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{" + b" " * MAX_BODY + b"}", 413, f"body of {MAX_BODY + 2} bytes exceeds {MAX_BODY}"),
        (b'{"type": "text"', 400, "malformed JSON"),
        (b"", 400, "malformed JSON"),
        (b'{"latitude": NaN}', 400, "malformed JSON"),
        (b'["text"]', 400, "JSON body is not an object"),
        ('{"text": "你好"}'.encode("gbk"), 400, "body is not UTF-8"),
    ],
)
def test_bad_bodies_are_refused_with_a_reason(body: bytes, status: int, reason: str) -> None:
    with pytest.raises(WeiboRejected) as caught:
        security().open(signed(), body)
    assert (caught.value.status, caught.value.reason) == (status, reason)


def test_an_oversized_body_is_refused_before_the_signature_is_looked_at() -> None:
    with pytest.raises(WeiboRejected) as caught:
        security().open({}, b"x" * (MAX_BODY + 1))
    assert caught.value.status == 413
