"""The database connection the gateway configures."""

from __future__ import annotations

import asyncpg

from gateway.db import POSTGRES_SETTINGS, tortoise_config


def test_sqlite_urls_are_passed_as_they_are() -> None:
    assert tortoise_config("sqlite://data/wz.sqlite3")["connections"]["default"] == "sqlite://data/wz.sqlite3"


def test_postgresql_sessions_plan_each_statement_with_its_values() -> None:
    config = tortoise_config("postgres://wz:secret@db.example:5433/wenzheng?minsize=2")["connections"][
        "default"
    ]
    assert config["engine"] == "tortoise.backends.asyncpg"
    credentials = config["credentials"]
    assert (credentials["host"], credentials["port"], credentials["database"]) == (
        "db.example",
        5433,
        "wenzheng",
    )
    assert (credentials["user"], credentials["password"], credentials["minsize"]) == ("wz", "secret", "2")
    assert credentials["server_settings"] == {"plan_cache_mode": "force_custom_plan"}


async def test_postgresql_takes_the_settings(postgres_url: str) -> None:
    credentials = tortoise_config(postgres_url)["connections"]["default"]["credentials"]
    connection = await asyncpg.connect(
        host=credentials["host"],
        port=credentials["port"],
        user=credentials["user"],
        database=credentials["database"],
        server_settings=credentials["server_settings"],
    )
    try:
        for name, value in POSTGRES_SETTINGS.items():
            assert await connection.fetchval(f"SHOW {name}") == value
    finally:
        await connection.close()
