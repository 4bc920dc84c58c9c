"""Polling the account's @-mentions (protocols.md §4.2): statuses and comments, each with its own cursor.

A stream's first cycle (no cursor yet) files only the mentions of the last ``first_poll_hours``. Each
cycle reads every mention above the stream's ``since_id`` cursor: a full page means there may be
more, so it walks back with ``max_id = <smallest id> - 1`` until a page comes back short (at most
``max_pages`` pages; beyond that the oldest are skipped, with a warning — Weibo itself serves only the
latest couple of thousand). The mentions are handed to ``ingest`` oldest first, and the cursor moves to
the newest id only once all of them were ingested: a crash or an ingest error mid-cycle makes the next
cycle fetch and ingest them again (the core's dedupe makes that harmless), never skip them. An item
that does not parse is logged and skipped, so one garbled mention cannot stall its stream.

A Weibo error keeps that stream's cursor, marks the poller degraded (with the reason, the code and the
time of the next try) and backs off exponentially from the base interval up to
``max_backoff_seconds``; the first good cycle makes it ok again. A permission refused for one stream
(10014, say) still lets the other be read in the same cycle; a rate limit or an outage ends the cycle.
Any other error escapes :meth:`MentionsPoller.cycle`; :meth:`MentionsPoller.run_forever` logs it, marks
the poller degraded and polls again after the base interval.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol

from channels.weibo.api import MAX_COUNT, WeiboApi, WeiboApiError
from channels.weibo.inbound import MentionTarget, comment_mention, item_id, status_mention
from channels.weibo.security import WeiboRejected
from core.messages import InboundMessage

log = logging.getLogger(__name__)

Ingest = Callable[[InboundMessage, MentionTarget], Awaitable[None]]


class Stream(StrEnum):
    """A mentions stream, named like the list in its answer; also the cursor's name."""

    STATUSES = "statuses"
    COMMENTS = "comments"


class CursorStore(Protocol):
    """Where each stream's ``since_id`` survives restarts."""

    async def get(self, stream: str) -> str | None:
        """The newest id ingested from ``stream``, or None before the first."""
        ...

    async def set(self, stream: str, value: str) -> None: ...


class MemoryCursorStore:
    """Cursors for one process (and tests)."""

    def __init__(self) -> None:
        self.cursors: dict[str, str] = {}

    async def get(self, stream: str) -> str | None:
        return self.cursors.get(stream)

    async def set(self, stream: str, value: str) -> None:
        self.cursors[stream] = value


@dataclass(frozen=True)
class PollStatus:
    """The poller's health, for operations: ``degraded`` carries Weibo's reason and code."""

    state: Literal["ok", "degraded"] = "ok"
    reason: str = ""
    error_code: int | None = None
    retry_at: datetime | None = None
    failures: int = 0
    """Failed cycles in a row; the backoff doubles with each."""


def _now() -> datetime:
    return datetime.now(UTC)


class MentionsPoller:
    """Polls both mention streams of one account and hands each new mention to ``ingest``."""

    def __init__(
        self,
        api: WeiboApi,
        cursors: CursorStore,
        ingest: Ingest,
        *,
        interval_seconds: float,
        page_size: int = 50,
        max_pages: int = 10,
        max_backoff_seconds: float = 1800,
        first_poll_hours: float = 24,
        clock: Callable[[], datetime] = _now,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        """``first_poll_hours``: how far back a stream's first cycle (no cursor yet) files mentions;
        older ones are left alone, so an account that goes live does not get years of mentions filed
        and answered by public comments on old posts."""
        if not 1 <= page_size <= MAX_COUNT:
            raise ValueError(f"page_size must be 1 to {MAX_COUNT}")
        if interval_seconds <= 0 or max_pages < 1:
            raise ValueError("the interval and max_pages must be positive")
        self._api = api
        self._cursors = cursors
        self._ingest = ingest
        self._interval = interval_seconds
        self._page_size = page_size
        self._max_pages = max_pages
        self._max_backoff = max(max_backoff_seconds, interval_seconds)
        self._first_poll = timedelta(hours=first_poll_hours)
        self._clock = clock
        self._sleep = sleep
        self._status = PollStatus()
        self.last_cycle_at: datetime | None = None
        """When a cycle last read both streams to the end."""

    @property
    def status(self) -> PollStatus:
        return self._status

    async def run_forever(self) -> None:
        """Cycle, wait, repeat, until cancelled. A cycle that fails for a reason of ours (the database
        unavailable to ingest, say) marks the poller degraded too, so readiness shows it."""
        while True:
            try:
                delay = await self.cycle()
            except Exception as error:
                log.exception("Weibo mentions cycle failed; polling again in %s s", self._interval)
                delay = self._interval
                self._status = PollStatus(
                    state="degraded",
                    reason=f"internal error: {error!r}"[:300],
                    retry_at=self._clock() + timedelta(seconds=delay),
                    failures=self._status.failures + 1,
                )
            await self._sleep(delay)

    async def cycle(self) -> float:
        """Poll both streams once; return the seconds to wait before the next cycle."""
        failure: WeiboApiError | None = None
        for stream in Stream:
            try:
                await self._poll(stream)
            except WeiboApiError as error:
                failure = error
                if not error.permission:
                    break  # a rate limit or an outage meets the other stream too: the cycle ends here
                # one stream the app may not read (10014, say) does not keep the other from being read
        if failure is not None:
            return self._back_off(failure)
        self._status = PollStatus()
        self.last_cycle_at = self._clock()
        return self._interval

    async def _poll(self, stream: Stream) -> None:
        since = await self._cursors.get(stream)
        items = await self._fetch(stream, since)
        if not items:
            return
        parse = status_mention if stream is Stream.STATUSES else comment_mention
        oldest = self._clock() - self._first_poll if since is None else None
        left_alone = 0
        for _, item in sorted(items.items()):
            try:
                message, target = parse(item)
            except WeiboRejected as error:
                log.warning("skipping a garbled Weibo %s mention %s: %s", stream, item.get("idstr"), error)
                continue
            if oldest is not None and message.sent_at < oldest:
                left_alone += 1
                continue
            await self._ingest(message, target)
        if left_alone:
            log.info("first poll of Weibo %s mentions: %d before %s left alone", stream, left_alone, oldest)
        await self._cursors.set(stream, str(max(items)))

    async def _fetch(self, stream: Stream, since: str | None) -> dict[int, dict[str, Any]]:
        """Every mention above ``since`` (up to ``max_pages`` pages), by id."""
        fetch = self._api.statuses_mentions if stream is Stream.STATUSES else self._api.comments_mentions
        floor = int(since) if since else 0
        found: dict[int, dict[str, Any]] = {}
        max_id: str | None = None
        for _ in range(self._max_pages):
            page = await fetch(since_id=since, max_id=max_id, count=self._page_size)
            numbered = [(number, item) for item in page if (number := _number(item)) is not None]
            found.update((number, item) for number, item in numbered if number > floor)
            if len(page) < self._page_size or not numbered:
                return found
            lowest = min(number for number, _ in numbered)
            if lowest - 1 <= floor:
                return found
            max_id = str(lowest - 1)
        log.warning("more than %d pages of Weibo %s mentions: older ones skipped", self._max_pages, stream)
        return found

    def _back_off(self, error: WeiboApiError) -> float:
        failures = self._status.failures + 1
        delay = min(self._interval * 2**failures, self._max_backoff)
        if error.permission:
            what = "permission refused (authorise the account again or apply for the API)"
        elif error.rate_limited:
            what = "rate limited"
        elif error.retryable:
            what = "Weibo unavailable"
        else:
            what = "Weibo refused the request"
        self._status = PollStatus(
            state="degraded",
            reason=f"{what}: {error.message}",
            error_code=error.code,
            retry_at=self._clock() + timedelta(seconds=delay),
            failures=failures,
        )
        log.warning("Weibo mentions degraded, %s; next try in %s s", self._status.reason, delay)
        return delay


def _number(item: dict[str, Any]) -> int | None:
    """The item's id as an int for ordering and walking back; None (with a warning) when it has none."""
    try:
        return int(item_id(item))
    except WeiboRejected:
        log.warning("a Weibo mention without an id: %.200s", item)
        return None
