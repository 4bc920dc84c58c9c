"""The asyncio Weibo client against the local fake: mentions pages, comments, private replies, errors."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import unquote

import aiohttp
import pytest
from aiohttp import web

from channels.weibo.api import (
    COMMENTS_CREATE,
    COMMENTS_MENTIONS,
    COMMENTS_REPLY,
    MESSAGES_REPLY,
    STATUSES_MENTIONS,
    TRANSPORT_ERROR,
    WeiboApi,
    WeiboApiError,
)
from channels.weibo.simulator import FIRST_ID, FakeWeiboApi


def free_port() -> int:
    """A local port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_status_mentions_come_newest_first_with_exact_big_ids(
    api: WeiboApi, fake: FakeWeiboApi
) -> None:
    first = fake.post_mention("天山区居民", "路灯坏了")
    fake.post_status("路人", "今天天气不错")
    second = fake.post_mention("沙区居民", "井盖丢了", geo=(43.8, 87.6))
    items = await api.statuses_mentions()
    assert [item["idstr"] for item in items] == [second["idstr"], first["idstr"]]
    assert items[1]["id"] == FIRST_ID == 9007199254740993
    assert items[1]["text"] == "@乌鲁木齐网络问政 路灯坏了"
    assert items[0]["geo"] == {"type": "Point", "coordinates": [43.8, 87.6]}
    assert fake.calls_to(STATUSES_MENTIONS)[0].query == {"access_token": "test-weibo-token", "count": "50"}


async def test_since_id_max_id_and_count_select_the_page(api: WeiboApi, fake: FakeWeiboApi) -> None:
    ids = [fake.post_mention(f"居民{n}", f"问题{n}")["idstr"] for n in range(6)]
    assert [item["idstr"] for item in await api.statuses_mentions(since_id=ids[1])] == ids[:1:-1]
    page = await api.statuses_mentions(since_id=ids[0], max_id=ids[4], count=2)
    assert [item["idstr"] for item in page] == [ids[4], ids[3]]
    assert fake.calls_to(STATUSES_MENTIONS)[-1].query == {
        "access_token": "test-weibo-token",
        "count": "2",
        "since_id": ids[0],
        "max_id": ids[4],
    }


async def test_comment_mentions_carry_their_status(api: WeiboApi, fake: FakeWeiboApi) -> None:
    comment = fake.comment_mention("天山区居民", "这个问题还没解决")
    fake.post_mention("沙区居民", "不是评论")
    [item] = await api.comments_mentions()
    assert (item["idstr"], item["text"]) == (comment["idstr"], "@乌鲁木齐网络问政 这个问题还没解决")
    assert item["status"]["idstr"] == comment["status"]["idstr"]


@pytest.mark.parametrize("count", [0, 201])
async def test_a_count_outside_1_to_200_is_refused_before_asking(api: WeiboApi, count: int) -> None:
    with pytest.raises(ValueError, match="count"):
        await api.statuses_mentions(count=count)


async def test_create_comment_posts_on_the_status(api: WeiboApi, fake: FakeWeiboApi) -> None:
    status = fake.post_mention("天山区居民", "路灯坏了")
    answer = await api.create_comment(status["idstr"], "您反映的问题已受理")
    assert answer["text"] == "您反映的问题已受理"
    assert fake.comments_on(status["idstr"]) == ["您反映的问题已受理"]
    assert fake.calls_to(COMMENTS_CREATE)[0].form == {
        "id": status["idstr"],
        "comment": "您反映的问题已受理",
        "access_token": "test-weibo-token",
    }
    assert fake.calls_to(COMMENTS_CREATE)[0].query == {}


async def test_rip_is_sent_when_configured(
    session: aiohttp.ClientSession, base_url: str, fake: FakeWeiboApi
) -> None:
    status = fake.post_mention("天山区居民", "路灯坏了")
    api = WeiboApi(session, fake.access_token, api_base=base_url, rip="203.0.113.7")
    await api.create_comment(status["idstr"], "已受理")
    assert fake.calls_to(COMMENTS_CREATE)[0].form["rip"] == "203.0.113.7"


async def test_reply_comment_mentions_the_commenter(api: WeiboApi, fake: FakeWeiboApi) -> None:
    comment = fake.comment_mention("天山区居民", "这个问题还没解决")
    status_id = comment["status"]["idstr"]
    answer = await api.reply_comment(comment["idstr"], status_id, "已转交市政部门")
    assert answer["reply_comment"]["idstr"] == comment["idstr"]
    assert fake.comments_on(status_id) == ["回复@天山区居民:已转交市政部门"]
    assert fake.calls_to(COMMENTS_REPLY)[0].form["without_mention"] == "0"


async def test_an_identical_consecutive_comment_is_refused_as_a_duplicate(
    api: WeiboApi, fake: FakeWeiboApi
) -> None:
    comment = fake.comment_mention("天山区居民", "这个问题还没解决")
    status_id = comment["status"]["idstr"]
    await api.reply_comment(comment["idstr"], status_id, "已受理")
    with pytest.raises(WeiboApiError) as caught:
        await api.reply_comment(comment["idstr"], status_id, "已受理")
    error = caught.value
    assert (error.code, error.duplicate, error.retryable, error.http_status) == (20019, True, False, 400)
    assert fake.comments_on(status_id) == ["回复@天山区居民:已受理"]


async def test_reply_message_sends_url_encoded_json_data(api: WeiboApi, fake: FakeWeiboApi) -> None:
    await api.reply_message("2489518277", "您的诉求已受理")
    assert fake.messages_to("2489518277") == ["您的诉求已受理"]
    form = fake.calls_to(MESSAGES_REPLY)[0].form
    assert (form["type"], form["receiver_id"]) == ("text", "2489518277")
    assert json.loads(unquote(form["data"])) == {"text": "您的诉求已受理"}
    assert form["data"].startswith("%7B%22text%22")


async def test_the_messages_base_is_separate(session: aiohttp.ClientSession, base_url: str) -> None:
    api = WeiboApi(session, "t", api_base=base_url, messages_base=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(WeiboApiError) as caught:
        await api.reply_message("2489518277", "x")
    assert caught.value.code == TRANSPORT_ERROR


@pytest.mark.parametrize(
    ("code", "rate_limited", "permission", "retryable", "http_status"),
    [
        (10022, True, False, True, 403),
        (10023, True, False, True, 403),
        (10024, True, False, True, 403),
        (10014, False, True, False, 403),
        (21327, False, True, False, 401),
        (21332, False, True, False, 401),
        (21315, False, True, False, 400),
        (10001, False, False, True, 500),
        (10009, False, False, True, 503),
        (20101, False, False, False, 400),
    ],
)
@pytest.mark.parametrize("numeric", [False, True])
async def test_weibo_errors_are_classified(
    api: WeiboApi,
    fake: FakeWeiboApi,
    code: int,
    rate_limited: bool,
    permission: bool,
    retryable: bool,
    http_status: int,
    numeric: bool,
) -> None:
    fake.fail(STATUSES_MENTIONS, code, numeric=numeric)
    with pytest.raises(WeiboApiError) as caught:
        await api.statuses_mentions()
    error = caught.value
    assert error.code == code
    assert (error.rate_limited, error.permission, error.retryable) == (rate_limited, permission, retryable)
    assert (error.duplicate, error.http_status) == (False, http_status)
    assert error.message
    assert await api.statuses_mentions() == []


async def test_a_wrong_token_is_a_permission_error(
    session: aiohttp.ClientSession, base_url: str, fake: FakeWeiboApi
) -> None:
    api = WeiboApi(session, "not-the-token", api_base=base_url, messages_base=base_url)
    with pytest.raises(WeiboApiError) as caught:
        await api.comments_mentions()
    assert (caught.value.code, caught.value.permission) == (21332, True)


async def test_an_http_429_without_weibo_body_is_rate_limited(api: WeiboApi, fake: FakeWeiboApi) -> None:
    fake.fail_http(COMMENTS_MENTIONS, 429)
    with pytest.raises(WeiboApiError) as caught:
        await api.comments_mentions()
    error = caught.value
    assert (error.code, error.http_status, error.rate_limited, error.retryable) == (
        TRANSPORT_ERROR,
        429,
        True,
        True,
    )


async def test_a_bare_http_502_is_a_retryable_transport_error(api: WeiboApi, fake: FakeWeiboApi) -> None:
    fake.fail_http(COMMENTS_CREATE, 502)
    with pytest.raises(WeiboApiError) as caught:
        await api.create_comment("1", "x")
    error = caught.value
    assert (error.code, error.http_status, error.rate_limited, error.retryable) == (
        TRANSPORT_ERROR,
        502,
        False,
        True,
    )


async def test_a_refused_connection_is_a_retryable_transport_error(session: aiohttp.ClientSession) -> None:
    api = WeiboApi(session, "secret-token", api_base=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(WeiboApiError) as caught:
        await api.statuses_mentions()
    error = caught.value
    assert (error.code, error.retryable, error.http_status) == (TRANSPORT_ERROR, True, None)
    assert "secret-token" not in str(error)
    assert STATUSES_MENTIONS in str(error)


async def test_an_answer_without_the_list_is_a_transport_error(aiohttp_server: Any, session: Any) -> None:
    async def odd(request: web.Request) -> web.Response:
        return web.json_response({"statuses": {"not": "a list"}})

    app = web.Application()
    app.router.add_get(STATUSES_MENTIONS, odd)
    server = await aiohttp_server(app)
    api = WeiboApi(session, "t", api_base=str(server.make_url("")).rstrip("/"))
    with pytest.raises(WeiboApiError) as caught:
        await api.statuses_mentions()
    assert (caught.value.code, caught.value.http_status) == (TRANSPORT_ERROR, None)
