"""The mentions poller against the fake: cursors, walking back, order, restarts, failures, degradation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from channels.weibo.api import COMMENTS_MENTIONS, STATUSES_MENTIONS, WeiboApi
from channels.weibo.inbound import TIME_FORMAT, MentionTarget
from channels.weibo.poller import MemoryCursorStore, MentionsPoller, PollStatus, Stream
from channels.weibo.simulator import FakeWeiboApi
from core.messages import InboundMessage

NOW = datetime(2026, 11, 27, 4, 0, tzinfo=UTC)
INTERVAL = 60.0
PERMISSION = "permission refused (authorise the account again or apply for the API)"


class Inbox:
    """The ingest callback: records what it is handed; ``fail_on`` makes it raise for that text once."""

    def __init__(self) -> None:
        self.received: list[tuple[InboundMessage, MentionTarget]] = []
        self.fail_on: str | None = None

    async def __call__(self, message: InboundMessage, target: MentionTarget) -> None:
        if self.fail_on is not None and self.fail_on in message.text:
            self.fail_on = None
            raise RuntimeError("the database is away")
        self.received.append((message, target))

    @property
    def texts(self) -> list[str]:
        return [message.text.split(" ", 1)[-1] for message, _ in self.received]


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def cursors() -> MemoryCursorStore:
    return MemoryCursorStore()


def poller(api: Any, cursors: MemoryCursorStore, inbox: Inbox, **options: Any) -> MentionsPoller:
    return MentionsPoller(api, cursors, inbox, interval_seconds=INTERVAL, clock=lambda: NOW, **options)


async def test_a_cycle_ingests_both_streams_and_stores_the_newest_ids(
    api: WeiboApi, fake: FakeWeiboApi, cursors: MemoryCursorStore, inbox: Inbox
) -> None:
    status = fake.post_mention("天山区居民", "路灯坏了")
    comment = fake.comment_mention("沙区居民", "井盖丢了")
    assert await poller(api, cursors, inbox).cycle() == INTERVAL
    assert [(message.unique_id, target) for message, target in inbox.received] == [
        (f"status:{status['idstr']}", MentionTarget(status["idstr"])),
        (f"comment:{comment['idstr']}", MentionTarget(comment["status"]["idstr"], comment["idstr"])),
    ]
    assert cursors.cursors == {"statuses": status["idstr"], "comments": comment["idstr"]}


async def test_the_first_cycle_leaves_mentions_older_than_the_first_poll_hours_alone(
    api: WeiboApi, fake: FakeWeiboApi, cursors: MemoryCursorStore, inbox: Inbox, caplog: Any
) -> None:
    now = datetime.now(UTC)
    old = fake.post_mention("居民", "两天前的问题")
    fake.statuses[int(old["idstr"])]["created_at"] = (now - timedelta(days=2)).strftime(TIME_FORMAT)
    recent = fake.post_mention("居民", "刚才的问题")
    mentions = MentionsPoller(api, cursors, inbox, interval_seconds=INTERVAL, clock=lambda: now)
    with caplog.at_level("INFO"):
        await mentions.cycle()
    assert inbox.texts == ["刚才的问题"]
    assert "first poll of Weibo statuses mentions: 1 before" in caplog.text
    assert cursors.cursors["statuses"] == recent["idstr"]
    fake.post_mention("居民", "之后的问题")
    await mentions.cycle()  # a stream with a cursor files everything above it
    assert inbox.texts == ["刚才的问题", "之后的问题"]


async def test_the_next_cycle_asks_from_the_cursor_and_ingests_only_new_mentions(
    api: WeiboApi, fake: FakeWeiboApi, cursors: MemoryCursorStore, inbox: Inbox
) -> None:
    first = fake.post_mention("天山区居民", "路灯坏了")
    mentions = poller(api, cursors, inbox)
    await mentions.cycle()
    await mentions.cycle()
    second = fake.post_mention("天山区居民", "还是没修")
    await mentions.cycle()
    assert inbox.texts == ["路灯坏了", "还是没修"]
    assert fake.calls_to(STATUSES_MENTIONS)[1].query["since_id"] == first["idstr"]
    assert cursors.cursors["statuses"] == second["idstr"]


async def test_full_pages_are_walked_back_and_ingested_oldest_first(
    api: WeiboApi, fake: FakeWeiboApi, cursors: MemoryCursorStore, inbox: Inbox
) -> None:
    mentions = poller(api, cursors, inbox, page_size=2)
    old = fake.post_mention("居民", "旧问题")
    await mentions.cycle()
    posted = [fake.post_mention(f"居民{n}", f"问题{n}") for n in range(5)]
    await mentions.cycle()
    assert inbox.texts == ["旧问题", *(f"问题{n}" for n in range(5))]
    walk = [
        (call.query.get("since_id"), call.query.get("max_id")) for call in fake.calls_to(STATUSES_MENTIONS)
    ]
    ids = [int(status["idstr"]) for status in posted]
    assert walk[1:] == [
        (old["idstr"], None),
        (old["idstr"], str(ids[3] - 1)),
        (old["idstr"], str(ids[1] - 1)),
    ]
    assert cursors.cursors["statuses"] == posted[-1]["idstr"]


async def test_the_walk_back_stops_at_max_pages(
    api: WeiboApi, fake: FakeWeiboApi, cursors: MemoryCursorStore, inbox: Inbox, caplog: Any
) -> None:
    for n in range(5):
        fake.post_mention(f"居民{n}", f"问题{n}")
    await poller(api, cursors, inbox, page_size=2, max_pages=2).cycle()
    assert inbox.texts == ["问题1", "问题2", "问题3", "问题4"]
    assert "more than 2 pages of Weibo statuses mentions" in caplog.text


async def test_a_restarted_poller_neither_repeats_nor_loses(
    api: WeiboApi, fake: FakeWeiboApi, cursors: MemoryCursorStore, inbox: Inbox
) -> None:
    fake.post_mention("居民", "重启前")
    await poller(api, cursors, inbox).cycle()
    fake.post_mention("居民", "停机时")
    fake.comment_mention("居民", "停机时的评论")
    restarted = poller(api, cursors, inbox)
    await restarted.cycle()
    await restarted.cycle()
    assert inbox.texts == ["重启前", "停机时", "停机时的评论"]


async def test_an_ingest_failure_mid_cycle_keeps_the_cursor_and_the_next_cycle_repeats(
    api: WeiboApi, fake: FakeWeiboApi, cursors: MemoryCursorStore, inbox: Inbox
) -> None:
    first = fake.post_mention("居民", "问题0")
    mentions = poller(api, cursors, inbox)
    await mentions.cycle()
    posted = [fake.post_mention("居民", f"问题{n}") for n in (1, 2, 3)]
    inbox.fail_on = "问题2"
    with pytest.raises(RuntimeError, match="database"):
        await mentions.cycle()
    assert cursors.cursors["statuses"] == first["idstr"]
    assert inbox.texts == ["问题0", "问题1"]
    assert await mentions.cycle() == INTERVAL
    assert inbox.texts == ["问题0", "问题1", "问题1", "问题2", "问题3"]
    assert {message.dedupe_key for message, _ in inbox.received} == {
        f"weibo:status:{status['idstr']}" for status in [first, *posted]
    }
    assert cursors.cursors["statuses"] == posted[-1]["idstr"]


@pytest.mark.parametrize(
    ("code", "reason", "other_stream_read"),
    [
        (10022, "rate limited: IP requests out of rate limit", False),
        (10014, f"{PERMISSION}: Insufficient app", True),
        (21327, f"{PERMISSION}: Expired token", True),
        (10009, "Weibo unavailable: Too many pending tasks", False),
    ],
)
async def test_weibo_errors_degrade_back_off_keep_the_cursor_and_recover(
    api: WeiboApi,
    fake: FakeWeiboApi,
    cursors: MemoryCursorStore,
    inbox: Inbox,
    code: int,
    reason: str,
    other_stream_read: bool,
) -> None:
    first = fake.post_mention("居民", "问题0")
    mentions = poller(api, cursors, inbox, max_backoff_seconds=300)
    await mentions.cycle()
    fake.post_mention("居民", "问题1")
    fake.comment_mention("居民", "评论1")
    fake.fail(STATUSES_MENTIONS, code, times=3)
    delays = [await mentions.cycle() for _ in range(3)]
    assert delays == [120, 240, 300]
    status = mentions.status
    assert (status.state, status.error_code, status.failures) == ("degraded", code, 3)
    assert status.reason.startswith(reason)
    assert status.retry_at == NOW + timedelta(seconds=300)
    assert cursors.cursors["statuses"] == first["idstr"]
    if other_stream_read:  # a permission refused for one stream leaves the other readable
        assert inbox.texts == ["问题0", "评论1"]
        assert len(fake.calls_to(COMMENTS_MENTIONS)) == 4
    else:
        assert inbox.texts == ["问题0"]
        assert len(fake.calls_to(COMMENTS_MENTIONS)) == 1
    assert await mentions.cycle() == INTERVAL
    assert mentions.status == PollStatus()
    assert sorted(inbox.texts) == sorted(["问题0", "问题1", "评论1"])


async def test_a_comments_failure_keeps_the_statuses_already_ingested(
    api: WeiboApi, fake: FakeWeiboApi, cursors: MemoryCursorStore, inbox: Inbox
) -> None:
    status = fake.post_mention("居民", "问题")
    fake.comment_mention("居民", "评论")
    fake.fail(COMMENTS_MENTIONS, 10023)
    mentions = poller(api, cursors, inbox)
    assert await mentions.cycle() == 2 * INTERVAL
    assert cursors.cursors == {"statuses": status["idstr"]}
    await mentions.cycle()
    assert inbox.texts == ["问题", "评论"]


class PagedApi:
    """A stand-in API serving fixed pages, for items the fake would never produce."""

    def __init__(self, statuses: list[dict[str, Any]]) -> None:
        self.statuses = statuses

    async def statuses_mentions(self, **_query: Any) -> list[dict[str, Any]]:
        return self.statuses

    async def comments_mentions(self, **_query: Any) -> list[dict[str, Any]]:
        return []


async def test_a_garbled_mention_is_skipped_not_stalling_its_stream(
    fake: FakeWeiboApi, cursors: MemoryCursorStore, inbox: Inbox, caplog: Any
) -> None:
    good = fake.post_mention("居民", "好的")
    garbled = {**fake.post_mention("居民", "坏的"), "user": None}
    nameless = {"text": "没有id"}
    await poller(PagedApi([garbled, nameless, good]), cursors, inbox).cycle()
    assert inbox.texts == ["好的"]
    assert cursors.cursors == {"statuses": garbled["idstr"]}
    assert "skipping a garbled Weibo statuses mention" in caplog.text
    assert "a Weibo mention without an id" in caplog.text


async def test_run_forever_sleeps_between_cycles_and_survives_errors(
    api: WeiboApi, fake: FakeWeiboApi, cursors: MemoryCursorStore, inbox: Inbox, caplog: Any
) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 4:
            raise asyncio.CancelledError

    fake.post_mention("居民", "问题")
    inbox.fail_on = "问题"
    fake.fail(COMMENTS_MENTIONS, 10022, times=2)
    mentions = poller(api, cursors, inbox, sleep=sleep)
    with pytest.raises(asyncio.CancelledError):
        await mentions.run_forever()
    # the failed ingest counts as the first failed cycle: the Weibo errors after it back off from there
    assert slept == [INTERVAL, 4 * INTERVAL, 8 * INTERVAL, INTERVAL]
    assert inbox.texts == ["问题"]
    assert "Weibo mentions cycle failed" in caplog.text
    assert mentions.status.state == "ok"


async def test_a_cycle_failing_for_a_reason_of_ours_shows_degraded_until_one_succeeds(
    api: WeiboApi, fake: FakeWeiboApi, cursors: MemoryCursorStore, inbox: Inbox
) -> None:
    seen: list[PollStatus] = []

    async def sleep(_: float) -> None:
        seen.append(mentions.status)
        if len(seen) == 2:
            raise asyncio.CancelledError

    mentions = poller(api, cursors, inbox, sleep=sleep)
    fake.post_mention("居民", "问题")
    inbox.fail_on = "问题"
    with pytest.raises(asyncio.CancelledError):
        await mentions.run_forever()
    assert seen[0].state == "degraded"
    assert seen[0].reason == "internal error: RuntimeError('the database is away')"
    assert (seen[0].retry_at, seen[0].failures) == (NOW + timedelta(seconds=INTERVAL), 1)
    assert seen[1] == PollStatus()


@pytest.mark.parametrize("options", [{"page_size": 0}, {"page_size": 201}, {"max_pages": 0}])
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        poller(object(), MemoryCursorStore(), Inbox(), **options)


def test_streams_are_named_like_their_answers() -> None:
    assert [stream.value for stream in Stream] == ["statuses", "comments"]
