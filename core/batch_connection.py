"""The connection a batch of citizens' messages is written on (core.intake, InquiryService.receive).

A batch is a handful of hand-written statements in one transaction. On PostgreSQL they run on
Tortoise's own connection (asyncpg, on the event loop). On SQLite they run on a connection of their
own, on the event loop's thread, rather than through Tortoise's (aiosqlite), which hands every
statement to a thread of its own and back: under load each hand-over waits for the interpreter lock
while the event loop holds it serving requests (up to the 5 ms switch interval), so a batch of seven
statements took 10-20 ms, most of it waiting, and the chat channels' throughput was bounded by it.
On the loop's thread a batch's statements run back to back in about a millisecond. Only the COMMIT,
which spends its time writing the write-ahead log without the interpreter lock, runs in a worker
thread: the event loop goes on serving requests meanwhile (on a second core), and they make up the
next batch.

That connection never waits for SQLite's write lock, which would stall the whole event loop (and any
transaction of Tortoise's holding the lock that needs the loop to finish): it asks with
``BEGIN IMMEDIATE`` and, while another connection (Tortoise's, another process's) holds the lock,
sleeps on the loop and asks again. Once it holds the lock its statements never wait: no other writer
can start, and in WAL mode readers do not block writers.

Nor does it checkpoint (copy the write-ahead log back into the database file, some 10-50 ms at a time
under load, which SQLite otherwise does inside the COMMIT that crosses 1000 pages): that runs in a
worker thread on a connection of its own, at most every :data:`CHECKPOINT_SECONDS` while batches
are being written.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, closing, suppress
from typing import Any, Protocol

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from core.group_commit import BatchFailed

log = logging.getLogger(__name__)

Row = Sequence[Any]
LOCK_WAIT_SECONDS = 10.0
"""How long a batch waits for SQLite's write lock before it fails (Tortoise's connection waits 5 s)."""
CHECKPOINT_SECONDS = 0.5


class DatabaseBusy(BatchFailed):
    """Another connection held SQLite's write lock for longer than :data:`LOCK_WAIT_SECONDS`."""


class BatchConnection(Protocol):
    dialect: str
    """``sqlite`` or ``postgres``: the placeholder style and SQL dialect of the statements."""

    async def execute(self, sql: str, values: Sequence[Any]) -> int:
        """Run a statement that returns no rows; how many rows it changed."""
        ...

    async def fetch(self, sql: str, values: Sequence[Any]) -> Sequence[Row]:
        """Run a query (or a statement with ``RETURNING``): the rows it returns."""
        ...


def placeholders(connection: BatchConnection, count: int) -> tuple[str, ...]:
    """``count`` numbered parameter placeholders in the connection's dialect: ``?1, ?2, ...`` on
    SQLite, ``$1, $2, ...`` on PostgreSQL."""
    return _placeholders(connection.dialect, count)


def values_clause(connection: BatchConnection, width: int, rows: int) -> str:
    """``(?1, ?2), (?3, ?4), ...``: the VALUES of a multi-row INSERT of ``rows`` rows of ``width``
    values each. Made once per shape, so a batch does not build hundreds of placeholders each time."""
    return _values_clause(connection.dialect, width, rows)


@functools.lru_cache(maxsize=256)
def _placeholders(dialect: str, count: int) -> tuple[str, ...]:
    mark = "$" if dialect == "postgres" else "?"
    return tuple(f"{mark}{n}" for n in range(1, count + 1))


@functools.lru_cache(maxsize=256)
def _values_clause(dialect: str, width: int, rows: int) -> str:
    marks = _placeholders(dialect, width * rows)
    return ", ".join(f"({', '.join(marks[i : i + width])})" for i in range(0, len(marks), width))


class _TortoiseBatch:
    """A statement at a time on a transaction of Tortoise's."""

    def __init__(self, client: BaseDBAsyncClient) -> None:
        self._client = client
        self.dialect: str = client.capabilities.dialect

    async def execute(self, sql: str, values: Sequence[Any]) -> int:
        return (await self._client.execute_query(sql, list(values)))[0]

    async def fetch(self, sql: str, values: Sequence[Any]) -> Sequence[Row]:
        # execute_query() leaves out what an INSERT returns on PostgreSQL
        return [tuple(row.values()) for row in await self._client.execute_query_dict(sql, list(values))]


class _SqliteOnLoop:
    """A SQLite connection used on the event loop's thread, one transaction at a time."""

    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        # timeout=0: never wait for a lock inside SQLite (see the module's docstring)
        self._db = sqlite3.connect(path, isolation_level=None, timeout=0, check_same_thread=False)
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._lock = asyncio.Lock()
        self._path = path
        self._checkpointed_at = time.monotonic()
        self._checkpoint: asyncio.Future[None] | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SqliteOnLoop]:
        async with self._lock:
            await self._begin()
            try:
                yield self
                await _in_worker_thread(self._db.execute, "COMMIT")
            except BaseException:
                # a failed COMMIT may leave the transaction open (a deferred constraint, say): the next
                # batch's BEGIN would fail, and every one after it
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        self._checkpoint_soon()

    async def _begin(self) -> None:
        loop = asyncio.get_running_loop()
        give_up, pause = loop.time() + LOCK_WAIT_SECONDS, 0.0005
        while True:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:  # extended codes too (recovery)
                    raise
                if loop.time() > give_up:
                    raise DatabaseBusy(
                        f"SQLite's write lock not free after {LOCK_WAIT_SECONDS:g} s"
                    ) from error
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.02)

    async def execute(self, sql: str, values: Sequence[Any]) -> int:
        return self._db.execute(sql, values).rowcount

    async def fetch(self, sql: str, values: Sequence[Any]) -> Sequence[Row]:
        return self._db.execute(sql, values).fetchall()

    def _checkpoint_soon(self) -> None:
        """Start a checkpoint in a worker thread if none ran for a while and none is running."""
        running = self._checkpoint is not None and not self._checkpoint.done()
        if running or time.monotonic() - self._checkpointed_at < CHECKPOINT_SECONDS:
            return
        self._checkpointed_at = time.monotonic()
        self._checkpoint = asyncio.get_running_loop().run_in_executor(None, self._run_checkpoint)

    def _run_checkpoint(self) -> None:
        """A passive checkpoint: what it can copy without waiting for readers or writers."""
        try:
            with closing(sqlite3.connect(self._path, timeout=LOCK_WAIT_SECONDS)) as checkpointer:
                checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as error:
            log.warning("SQLite checkpoint failed: %s", error)

    def close(self) -> None:
        self._db.close()


async def _in_worker_thread(call: Callable[..., object], *args: Any) -> None:
    """``call(*args)`` in a worker thread, and return once it has returned, even when cancelled: the
    connection it uses must not be touched again (to roll back, say) while the thread still has it."""
    work = asyncio.get_running_loop().run_in_executor(None, call, *args)
    try:
        await asyncio.shield(work)
    except asyncio.CancelledError:
        while not work.done():
            with suppress(asyncio.CancelledError):
                await asyncio.wait([work])
        raise


_on_loop: weakref.WeakKeyDictionary[BaseDBAsyncClient, _SqliteOnLoop] = weakref.WeakKeyDictionary()
"""One loop-thread connection per Tortoise SQLite client (per database opened), closed with it."""


def _sqlite_on_loop(client: BaseDBAsyncClient) -> _SqliteOnLoop | None:
    path = getattr(client, "filename", "")
    if client.capabilities.dialect != "sqlite" or not path or path == ":memory:":
        return None  # an in-memory database is private to Tortoise's connection
    connection = _on_loop.get(client)
    if connection is None:
        connection = _on_loop[client] = _SqliteOnLoop(path)
        weakref.finalize(client, connection.close)
    return connection


@asynccontextmanager
async def batch_transaction() -> AsyncIterator[BatchConnection]:
    """A transaction for a batch: committed when the block ends, rolled back if it raises."""
    client = get_connection("default")
    on_loop = _sqlite_on_loop(client)
    if on_loop is not None:
        async with on_loop.transaction() as connection:
            yield connection
        return
    async with in_transaction() as transaction:
        yield _TortoiseBatch(transaction)
