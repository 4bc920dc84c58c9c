"""The batch connection: on SQLite a connection of its own on the event loop's thread that never waits
inside SQLite for the write lock, and checkpoints in a worker thread; on PostgreSQL Tortoise's own."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from typing import Any

import pytest
from tortoise.connection import get_connection

import core.batch_connection as batch_connection
from core.batch_connection import DatabaseBusy, batch_transaction
from core.models import CaseCounter

pytestmark = pytest.mark.usefixtures("db")


def sqlite_path() -> str:
    client: Any = get_connection("default")
    if client.capabilities.dialect != "sqlite":
        pytest.skip("the loop-thread connection is SQLite's")
    return str(client.filename)


def mark(dialect: str) -> str:
    return "$1" if dialect == "postgres" else "?1"


async def count(connection: Any, day: str) -> None:
    sql = f"INSERT INTO case_counter (day, issued) VALUES ({mark(connection.dialect)}, 1)"
    await connection.execute(sql, [day])


async def test_a_batch_is_committed_and_seen_through_the_orm() -> None:
    async with batch_transaction() as connection:
        await count(connection, "20261127")
    assert await CaseCounter.filter(day="20261127").count() == 1


async def test_a_batch_that_raises_leaves_nothing() -> None:
    async def half_way() -> None:
        async with batch_transaction() as connection:
            await count(connection, "20261128")
            raise RuntimeError("half-way")

    with pytest.raises(RuntimeError):
        await half_way()
    assert not await CaseCounter.filter(day="20261128").exists()


async def test_on_sqlite_a_batch_whose_commit_fails_leaves_the_connection_usable() -> None:
    sqlite_path()

    async def orphan() -> None:
        async with batch_transaction() as connection:
            await connection.execute("PRAGMA defer_foreign_keys = ON", [])  # checked at COMMIT
            await connection.execute(
                "INSERT INTO citizen_identity (citizen_id, channel, external_id) VALUES (?1, 'wechat', 'o1')",
                [999],
            )

    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await orphan()
    async with batch_transaction() as connection:
        await count(connection, "20261201")
    assert await CaseCounter.filter(day="20261201").exists()


async def test_on_sqlite_a_batch_waits_on_the_loop_for_a_lock_another_connection_holds() -> None:
    holder = sqlite3.connect(sqlite_path(), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    ticking = asyncio.create_task(tick())
    asyncio.get_running_loop().call_later(0.2, holder.execute, "COMMIT")
    try:
        async with batch_transaction() as connection:
            await count(connection, "20261129")
    finally:
        ticking.cancel()
        holder.close()
    assert await CaseCounter.filter(day="20261129").exists()
    assert ticks >= 10  # the event loop kept serving while the batch waited for the lock


async def test_on_sqlite_a_batch_gives_up_on_a_lock_held_too_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_connection, "LOCK_WAIT_SECONDS", 0.1)
    holder = sqlite3.connect(sqlite_path(), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseBusy, match=r"not free after 0\.1 s"):
            async with batch_transaction() as connection:
                await count(connection, "20261130")
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_on_sqlite_the_log_is_checkpointed_in_a_worker_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    path = sqlite_path()
    monkeypatch.setattr(batch_connection, "CHECKPOINT_SECONDS", 0.0)
    on_loop = batch_connection._sqlite_on_loop(get_connection("default"))
    assert on_loop is not None
    for day in range(20261101, 20261111):
        async with batch_transaction() as connection:
            await count(connection, str(day))
        # a commit starts a checkpoint unless one is still running
        assert on_loop._checkpoint is not None
        await on_loop._checkpoint
    # a connection that reads the database file alone, not the log, finds every row there
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as file_only:
        assert file_only.execute("SELECT COUNT(*) FROM case_counter").fetchone()[0] == 10
    file_only.close()


async def test_a_cancelled_call_in_the_worker_thread_is_waited_for_before_the_cancellation_goes_on() -> None:
    # the COMMIT runs in a worker thread: a batch cancelled meanwhile must not touch the connection
    # (to roll back) until the thread has let go of it
    release, returned = threading.Event(), []

    def commit() -> None:
        release.wait(5)
        returned.append("committed")

    call = asyncio.create_task(batch_connection._in_worker_thread(commit))
    await asyncio.sleep(0.02)
    call.cancel()
    await asyncio.sleep(0.02)
    assert not call.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert returned == ["committed"]
