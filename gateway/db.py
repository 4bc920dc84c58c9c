"""The Tortoise configuration shared by the app, the CLI, the tests and `python -m tortoise`.

Schema changes are Tortoise 1.x migrations in ``core/migrations`` (made with
``python -m tortoise makemigrations``, applied by ``wenzheng migrate``). ``serve`` does not migrate by
itself: it refuses to start on a database with pending migrations and says which command to run.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate as run_migrations
from tortoise.migrations.executor import MigrationExecutor

APP = "models"
MODULES = ["core.models"]


POSTGRES_SETTINGS = {"plan_cache_mode": "force_custom_plan"}
"""Server settings of our PostgreSQL sessions. asyncpg prepares every statement, and after five runs
PostgreSQL may switch a statement to a generic plan made without its parameters' values: for the
inbox's filtered counts (a rare kind and channel in one queue, say) that plan reads thousands of rows
where the custom one reads a few, 100 ms a page instead of 15 at a million inquiries. Planning each run
costs about a millisecond."""


def _connection(url: str) -> str | dict[str, Any]:
    """``url`` as Tortoise takes it; for PostgreSQL with :data:`POSTGRES_SETTINGS` added."""
    if not url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        return url
    config = expand_db_url(url)
    config["credentials"]["server_settings"] = {
        **config["credentials"].get("server_settings", {}),
        **POSTGRES_SETTINGS,
    }
    return config


def tortoise_config(url: str) -> dict[str, Any]:
    return {
        "connections": {"default": _connection(url)},
        "apps": {APP: {"models": MODULES, "migrations": "core.migrations", "default_connection": "default"}},
        "use_tz": True,
        "timezone": "UTC",
    }


# For `python -m tortoise makemigrations` ([tool.tortoise] in pyproject.toml).
MIGRATION_CONFIG = tortoise_config(os.environ.get("WENZHENG_DATABASE__URL") or "sqlite://:memory:")


class DatabaseNotReady(Exception):
    """The database cannot be used yet; ``str(error)`` tells the operator what to do."""


async def apply_migrations(url: str) -> None:
    """Bring the schema up to date (``wenzheng migrate``), then, on SQLite, refresh the planner's
    statistics: SQLite keeps them (``sqlite_stat1``) only when asked, and without them it may read a
    million inquiries by date where an index of the queue would read twenty. A full ``ANALYZE`` (a few
    seconds at a million inquiries): a sampled one (``analysis_limit``) guesses each column's spread
    from the first rows it reads and misleads the planner worse than no statistics."""
    try:
        await run_migrations(config=tortoise_config(url))
        connection = get_connection("default")
        if connection.capabilities.dialect == "sqlite":
            await connection.execute_script("ANALYZE")
    finally:
        await Tortoise.close_connections()


async def pending_migrations() -> list[str]:
    """Names of migrations not applied yet on the open default connection."""
    executor = MigrationExecutor(get_connection("default"), tortoise_config("")["apps"])
    steps = await executor.plan()
    return [f"{step.migration.app_label}.{step.migration.name}" for step in steps if not step.backward]


@asynccontextmanager
async def open_database(url: str, *, require_migrated: bool = True) -> AsyncIterator[None]:
    """Connect for the lifetime of the block; with ``require_migrated``, refuse a stale schema."""
    try:
        await Tortoise.init(config=tortoise_config(url))
        # Tortoise keeps connections per task context: a block entered in one task and left in another
        # (aiohttp runs start-up and clean-up in different tasks under test servers) must close this
        # very connection, not whatever the leaving task's context holds.
        connection = get_connection("default")
        if require_migrated:
            pending = await pending_migrations()
            if pending:
                raise DatabaseNotReady(
                    f"the database has {len(pending)} migration(s) not applied ({pending[0]}...): "
                    "run `wenzheng migrate` first"
                )
    except DatabaseNotReady:
        await Tortoise.close_connections()
        raise
    except (OSError, ConnectionError) as error:
        await Tortoise.close_connections()
        raise DatabaseNotReady(f"cannot connect to the database: {error}") from None
    try:
        yield
    finally:
        await connection.close()
        await Tortoise.close_connections()
