"""Group commit: writes that arrive while a commit is in flight share the next transaction.

A lone request is written at once, alone (no added latency when the system is quiet); under load the
requests that queued up during one commit go together in the next, so the commit's fixed cost (the
disk flush, the round trips) is paid once per batch instead of once per request. Every caller is
answered only after the transaction holding its write has committed.

If a batch fails, each of its items is retried in a transaction of its own, so one bad item cannot
fail the others, and each caller gets its own result or its own exception; unless the failure is a
:class:`BatchFailed`, which no item could get past (the database is unavailable): every caller gets it
at once, rather than after one more wait each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class BatchFailed(Exception):
    """A write failed for a reason that is no item's fault and that retrying them one by one would meet
    again."""


class GroupCommit(Generic[Item, Result]):
    def __init__(
        self, write: Callable[[Sequence[Item]], Awaitable[Sequence[Result]]], max_batch: int = 200
    ) -> None:
        """``write`` stores a batch in one transaction and returns one result per item, in order."""
        self._write = write
        self._max_batch = max_batch
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                await self._write_batch(batch)
        finally:
            self._writer = None

    async def _write_batch(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        try:
            results = await self._write([item for item, _ in batch])
        except Exception as error:
            if len(batch) == 1 or isinstance(error, BatchFailed):
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                return
            for single in batch:
                await self._write_batch([single])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
