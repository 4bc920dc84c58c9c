"""Throw-away PostgreSQL databases for the benchmarks, made through an admin connection
(``$WENZHENG_BENCH_POSTGRES_ADMIN``, default ``postgres://postgres@127.0.0.1:5432/postgres``)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

POSTGRES_ADMIN = os.environ.get(
    "WENZHENG_BENCH_POSTGRES_ADMIN", "postgres://postgres@127.0.0.1:5432/postgres"
)


async def admin(statement: str) -> None:
    """Run one statement (CREATE or DROP DATABASE) on the admin connection."""
    connection = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@asynccontextmanager
async def postgres_database(name: str, *, keep: bool = False) -> AsyncIterator[str]:
    """The URL of database ``name``, created if it does not exist, dropped afterwards unless ``keep``."""
    connection = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f"CREATE DATABASE {name}")
    finally:
        await connection.close()
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        if not keep:
            await admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
