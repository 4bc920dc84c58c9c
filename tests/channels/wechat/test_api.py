"""The asyncio WeChat API client against the local fake: tokens, one refresh, errors, messages, media."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis

from channels.wechat.api import MemoryTokenStore, RedisTokenStore, TokenStore, WeChatApi, WeChatApiError
from channels.wechat.simulator import (
    CUSTOM_SEND,
    MEDIA_GET,
    STABLE_TOKEN,
    FakeWeChatApi,
)

APP_ID = "wx-test-app"
SECRET = "test-secret"
REDIS_URL = os.environ.get("WENZHENG_TEST_REDIS_URL", "")


@pytest.fixture
def fake() -> FakeWeChatApi:
    return FakeWeChatApi(app_id=APP_ID, app_secret=SECRET)


@pytest.fixture
async def base_url(fake: FakeWeChatApi, aiohttp_server: Any) -> str:
    server = await aiohttp_server(fake.app)
    return str(server.make_url(""))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def make_api(session: aiohttp.ClientSession, base_url: str) -> Callable[..., WeChatApi]:
    def make(store: TokenStore | None = None, secret: str = SECRET) -> WeChatApi:
        return WeChatApi(session, APP_ID, secret, api_base=base_url, store=store)

    return make


@pytest.fixture
def api(make_api: Callable[..., WeChatApi]) -> WeChatApi:
    return make_api()


def free_port() -> int:
    """A local port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_the_token_is_fetched_once_and_reused(api: WeChatApi, fake: FakeWeChatApi) -> None:
    await api.send_text("o1", "a")
    await api.send_text("o1", "b")
    assert len(fake.calls_to(STABLE_TOKEN)) == 1
    assert fake.calls_to(STABLE_TOKEN)[0].json == {
        "grant_type": "client_credential",
        "appid": APP_ID,
        "secret": SECRET,
        "force_refresh": False,
    }
    tokens = {call.query["access_token"] for call in fake.calls_to(CUSTOM_SEND)}
    assert tokens == {await api.access_token()}


async def test_concurrent_first_calls_fetch_one_token(api: WeChatApi, fake: FakeWeChatApi) -> None:
    await asyncio.gather(*(api.send_text("o1", str(n)) for n in range(5)))
    assert len(fake.calls_to(STABLE_TOKEN)) == 1


async def test_two_clients_share_a_token_through_one_store(
    make_api: Callable[..., WeChatApi], fake: FakeWeChatApi
) -> None:
    store = MemoryTokenStore()
    first, second = make_api(store), make_api(store)
    await first.send_text("o1", "a")
    await second.send_text("o2", "b")
    assert len(fake.calls_to(STABLE_TOKEN)) == 1


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
async def test_a_rejected_token_is_refreshed_once_and_the_call_repeated(
    api: WeChatApi, fake: FakeWeChatApi, errcode: int
) -> None:
    await api.send_text("o1", "warm-up")
    fake.fail(CUSTOM_SEND, errcode)
    await api.send_text("o1", "again")
    assert len(fake.calls_to(STABLE_TOKEN)) == 2
    assert [body["text"]["content"] for body in fake.sent["o1"]] == ["warm-up", "again"]


async def test_an_expired_token_is_replaced(api: WeChatApi, fake: FakeWeChatApi) -> None:
    await api.send_text("o1", "a")
    old = await api.access_token()
    fake.expire_tokens()
    await api.send_text("o1", "b")
    assert await api.access_token() != old
    assert len(fake.sent["o1"]) == 2


async def test_an_unknown_cached_token_is_replaced(make_api: Callable[..., WeChatApi]) -> None:
    store = MemoryTokenStore()
    await store.put("stale-from-elsewhere", 3600)
    await make_api(store).send_text("o1", "a")
    assert await store.get() != "stale-from-elsewhere"


async def test_a_persistent_token_error_fails_after_exactly_one_refresh(
    api: WeChatApi, fake: FakeWeChatApi
) -> None:
    fake.fail(CUSTOM_SEND, 40001, times=10)
    with pytest.raises(WeChatApiError) as caught:
        await api.send_text("o1", "a")
    assert caught.value.errcode == 40001
    assert len(fake.calls_to(STABLE_TOKEN)) == 2
    assert len(fake.calls_to(CUSTOM_SEND)) == 2


@pytest.mark.parametrize(
    ("errcode", "retryable"),
    [
        *((errcode, False) for errcode in (45015, 45047, 43004, 40003, 48001)),
        *((errcode, True) for errcode in (-1, 45009, 45011)),
    ],
)
async def test_errcodes_raise_with_their_retryability(
    api: WeChatApi, fake: FakeWeChatApi, errcode: int, retryable: bool
) -> None:
    fake.fail(CUSTOM_SEND, errcode)
    with pytest.raises(WeChatApiError) as caught:
        await api.send_text("o1", "a")
    assert (caught.value.errcode, caught.value.retryable) == (errcode, retryable)
    assert caught.value.errmsg
    assert len(fake.calls_to(CUSTOM_SEND)) == 1


async def test_a_closed_port_is_a_retryable_error(session: aiohttp.ClientSession) -> None:
    api = WeChatApi(session, APP_ID, SECRET, api_base=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(WeChatApiError) as caught:
        await api.send_text("o1", "a")
    assert (caught.value.errcode, caught.value.retryable) == (-2, True)


async def test_a_timeout_is_a_retryable_error(session: aiohttp.ClientSession, aiohttp_server: Any) -> None:
    async def stall(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({})

    app = web.Application()
    app.router.add_post(STABLE_TOKEN, stall)
    server = await aiohttp_server(app)
    api = WeChatApi(
        session, APP_ID, SECRET, api_base=str(server.make_url("")), timeout=aiohttp.ClientTimeout(total=0.1)
    )
    with pytest.raises(WeChatApiError) as caught:
        await api.access_token()
    assert (caught.value.errcode, caught.value.retryable) == (-2, True)


@pytest.mark.parametrize(
    "answer",
    [web.Response(status=502, text="bad gateway"), web.Response(text="<html>", content_type="text/html")],
)
async def test_an_unusable_answer_is_a_retryable_error(
    session: aiohttp.ClientSession, aiohttp_server: Any, answer: web.Response
) -> None:
    async def broken(request: web.Request) -> web.Response:
        return answer

    app = web.Application()
    app.router.add_post(STABLE_TOKEN, broken)
    server = await aiohttp_server(app)
    api = WeChatApi(session, APP_ID, SECRET, api_base=str(server.make_url("")))
    with pytest.raises(WeChatApiError) as caught:
        await api.access_token()
    assert (caught.value.errcode, caught.value.retryable) == (-2, True)


async def test_a_failed_token_fetch_is_not_repeated(api: WeChatApi, fake: FakeWeChatApi) -> None:
    fake.fail(STABLE_TOKEN, -1)
    with pytest.raises(WeChatApiError) as caught:
        await api.send_text("o1", "a")
    assert (caught.value.errcode, caught.value.retryable) == (-1, True)
    assert len(fake.calls_to(STABLE_TOKEN)) == 1
    assert fake.calls_to(CUSTOM_SEND) == []


async def test_a_wrong_secret_is_40125(make_api: Callable[..., WeChatApi]) -> None:
    with pytest.raises(WeChatApiError) as caught:
        await make_api(secret="wrong").send_text("o1", "a")
    assert (caught.value.errcode, caught.value.retryable) == (40125, False)


async def test_chinese_text_goes_out_unescaped(api: WeChatApi, fake: FakeWeChatApi) -> None:
    await api.send_text("o1", "您好，诉求已受理")
    assert fake.sent["o1"] == [{"touser": "o1", "msgtype": "text", "text": {"content": "您好，诉求已受理"}}]
    raw = fake.calls_to(CUSTOM_SEND)[0].body
    assert "您好，诉求已受理".encode() in raw
    assert b"\\u" not in raw


async def test_a_template_carries_its_idempotency_key_and_link(api: WeChatApi, fake: FakeWeChatApi) -> None:
    msgid = await api.send_template(
        "o1",
        "tpl-reply",
        {"keyword1": "WZ-2026-000123", "keyword2": "已办结"},
        url="https://wz.example.gov.cn/case/WZ-2026-000123",
        client_msg_id="WZ-2026-000123-closed",
    )
    [body] = fake.sent["o1"]
    assert body == {
        "touser": "o1",
        "template_id": "tpl-reply",
        "url": "https://wz.example.gov.cn/case/WZ-2026-000123",
        "client_msg_id": "WZ-2026-000123-closed",
        "data": {"keyword1": {"value": "WZ-2026-000123"}, "keyword2": {"value": "已办结"}},
    }
    assert isinstance(msgid, int)
    assert msgid > 0


async def test_media_comes_back_with_its_type_and_name(api: WeChatApi, fake: FakeWeChatApi) -> None:
    fake.add_media("m1", b"\xff\xd8jpeg", "image/jpeg")
    assert await api.download_media("m1") == (b"\xff\xd8jpeg", "image/jpeg", "m1.jpg")
    assert fake.calls_to(MEDIA_GET)[0].query["media_id"] == "m1"


async def test_a_video_link_comes_back_as_json(api: WeChatApi, fake: FakeWeChatApi) -> None:
    link = b'{"video_url":"http://127.0.0.1/v1.mp4"}'
    fake.add_media("v1", link, "application/json")
    assert await api.download_media("v1") == (link, "application/json", "v1.json")


async def test_an_unknown_media_id_is_40007(api: WeChatApi) -> None:
    with pytest.raises(WeChatApiError) as caught:
        await api.download_media("nope")
    assert (caught.value.errcode, caught.value.retryable) == (40007, False)


async def test_media_download_refreshes_a_rejected_token(api: WeChatApi, fake: FakeWeChatApi) -> None:
    fake.add_media("m1", b"voice", "audio/amr")
    fake.fail(MEDIA_GET, 42001)
    assert (await api.download_media("m1"))[0] == b"voice"
    assert len(fake.calls_to(STABLE_TOKEN)) == 2


async def test_the_memory_store_expires_and_drops_only_its_own_token() -> None:
    now = [1000.0]
    store = MemoryTokenStore(clock=lambda: now[0])
    await store.put("t1", 60)
    await store.drop("t0")
    assert await store.get() == "t1"
    now[0] += 60
    assert await store.get() is None
    await store.put("t2", 60)
    await store.drop("t2")
    assert await store.get() is None


@pytest.fixture
async def redis_store() -> AsyncIterator[tuple[Redis, RedisTokenStore, str]]:
    if not REDIS_URL:
        pytest.skip("needs Redis: set WENZHENG_TEST_REDIS_URL (CI does)")
    redis = Redis.from_url(REDIS_URL)
    key = f"wenzheng-test:wechat-token:{uuid.uuid4().hex}"
    try:
        yield redis, RedisTokenStore(redis, key), key
    finally:
        await redis.delete(key)
        await redis.aclose()


async def test_the_redis_store_puts_gets_expires_and_drops_only_its_own_token(
    redis_store: tuple[Redis, RedisTokenStore, str],
) -> None:
    redis, store, key = redis_store
    assert await store.get() is None
    await store.put("t1", 60)
    assert await store.get() == "t1"
    assert 0 < await redis.ttl(key) <= 60
    await store.drop("t0")
    assert await store.get() == "t1"
    await store.drop("t1")
    assert await store.get() is None
    await store.put("t2", 1)
    await asyncio.sleep(1.2)
    assert await store.get() is None


async def test_two_clients_share_a_token_through_redis(
    redis_store: tuple[Redis, RedisTokenStore, str], make_api: Callable[..., WeChatApi], fake: FakeWeChatApi
) -> None:
    redis, store, key = redis_store
    await make_api(store).send_text("o1", "a")
    await make_api(RedisTokenStore(redis, key)).send_text("o2", "b")
    assert len(fake.calls_to(STABLE_TOKEN)) == 1
    assert 0 < await redis.ttl(key) <= 7200 - 300
