"""GroupCommit: batching while a write is in flight, order of results, isolation of failures."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from core.group_commit import BatchFailed, GroupCommit


class Store:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    async def write(self, items: Sequence[int]) -> list[str]:
        self.batches.append(list(items))
        await asyncio.sleep(0.01)  # the commit takes a while: later requests queue up meanwhile
        if 13 in items:
            raise ValueError("unlucky")
        return [f"#{i}" for i in items]


async def test_a_lone_request_is_written_at_once_alone() -> None:
    store = Store()
    assert await GroupCommit(store.write).submit(1) == "#1"
    assert store.batches == [[1]]


async def test_requests_arriving_together_share_one_commit() -> None:
    store = Store()
    group = GroupCommit(store.write)
    results = await asyncio.gather(*(group.submit(i) for i in range(10)))
    assert results == [f"#{i}" for i in range(10)]
    assert store.batches == [list(range(10))]


async def test_requests_arriving_during_a_commit_share_the_next_one() -> None:
    store = Store()
    group = GroupCommit(store.write)
    first = asyncio.ensure_future(group.submit(0))
    await asyncio.sleep(0.001)  # the first commit is under way
    rest = await asyncio.gather(*(group.submit(i) for i in range(1, 10)))
    assert [await first, *rest] == [f"#{i}" for i in range(10)]
    assert store.batches == [[0], list(range(1, 10))]


async def test_batches_are_capped() -> None:
    store = Store()
    group = GroupCommit(store.write, max_batch=4)
    await asyncio.gather(*(group.submit(i) for i in range(10)))
    assert store.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


async def test_one_bad_item_fails_alone() -> None:
    store = Store()
    group = GroupCommit(store.write)
    results = await asyncio.gather(*(group.submit(i) for i in (1, 12, 13, 14)), return_exceptions=True)
    assert results[:2] == ["#1", "#12"]  # retried alone after the batch failed
    assert isinstance(results[2], ValueError)
    assert results[3] == "#14"
    assert store.batches == [[1, 12, 13, 14], [1], [12], [13], [14]]


async def test_a_cancelled_caller_does_not_stop_the_write() -> None:
    store = Store()
    group = GroupCommit(store.write)
    first = asyncio.ensure_future(group.submit(1))
    second = asyncio.ensure_future(group.submit(2))
    await asyncio.sleep(0)
    second.cancel()
    assert await first == "#1"
    with pytest.raises(asyncio.CancelledError):
        await second
    assert store.batches == [[1, 2]]


async def test_a_failure_no_item_could_get_past_fails_every_caller_at_once() -> None:
    attempts: list[list[int]] = []

    async def unavailable(items: Sequence[int]) -> list[str]:
        attempts.append(list(items))
        await asyncio.sleep(0.01)
        raise BatchFailed("the database is unavailable")

    group = GroupCommit(unavailable)
    outcomes = await asyncio.gather(*(group.submit(i) for i in range(5)), return_exceptions=True)
    assert all(isinstance(outcome, BatchFailed) for outcome in outcomes)
    assert attempts == [[0, 1, 2, 3, 4]]  # not retried one by one
