"""Shared fixtures: settings, a fresh migrated database per test, the app and staff accounts.

The database is SQLite (a copy of a migrated template per test) unless WENZHENG_TEST_DATABASE_URL
names a PostgreSQL database, in which case the suite runs there (tables truncated between tests).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from tortoise import Tortoise
from tortoise.connection import get_connection

from core.models import Staff, Unit
from core.service import InquiryService
from gateway.app import build_service, create_app
from gateway.auth import hash_password
from gateway.db import APP, apply_migrations, open_database, tortoise_config
from gateway.settings import Settings, load_settings
from gateway.units import sync_units

ROOT = Path(__file__).resolve().parents[1]
TEST_DATABASE_URL = os.environ.get("WENZHENG_TEST_DATABASE_URL", "")
POSTGRES_URL = os.environ.get("WENZHENG_TEST_POSTGRES_URL", "")
PASSWORD = "correct horse battery"


def pytest_report_header() -> str:
    where = TEST_DATABASE_URL or "SQLite (a fresh file per test)"
    return f"wenzheng: tests run on {where}"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database made once per session: a SQLite file, or the PostgreSQL URL itself."""
    if TEST_DATABASE_URL:
        asyncio.run(apply_migrations(TEST_DATABASE_URL))
        return TEST_DATABASE_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(apply_migrations(f"sqlite://{path}"))
    return str(path)


async def empty_tables(url: str) -> None:
    await Tortoise.init(config=tortoise_config(url))
    try:
        # every model's table, so a new model is emptied between tests without anyone listing it here
        tables = ", ".join(model._meta.db_table for model in Tortoise.apps[APP].values())
        await get_connection("default").execute_script(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await Tortoise.close_connections()


@pytest.fixture
async def postgres_url() -> str:
    """A migrated, empty PostgreSQL database for tests that need one whatever the suite runs on."""
    if not POSTGRES_URL:
        pytest.skip("needs PostgreSQL: set WENZHENG_TEST_POSTGRES_URL (CI does)")
    await apply_migrations(POSTGRES_URL)
    await empty_tables(POSTGRES_URL)
    return POSTGRES_URL


@pytest.fixture
async def database_url(migrated_template: str, tmp_path: Path) -> str:
    if TEST_DATABASE_URL:
        await empty_tables(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    path = tmp_path / "wenzheng.sqlite3"
    shutil.copyfile(migrated_template, path)
    return f"sqlite://{path}"


@pytest.fixture
def settings_with(database_url: str, tmp_path: Path) -> Callable[..., Settings]:
    """Settings from config.yaml on this test's database, with more WENZHENG_* variables on top."""

    def load(**environ: str) -> Settings:
        base = {
            "WENZHENG_DATA_DIR": str(tmp_path / "data"),
            "WENZHENG_DATABASE__URL": database_url,
            "WENZHENG_SECRET_KEY": "test-secret-key",
        }
        return load_settings(ROOT / "config.yaml", environ=base | environ)

    return load


@pytest.fixture
def settings(settings_with: Callable[..., Settings]) -> Settings:
    return settings_with(
        WENZHENG_CHANNELS__WEB__RATE_LIMIT__PER_MINUTE="1000",
        WENZHENG_CHANNELS__WEB__RATE_LIMIT__PER_DAY="100000",
    )


@pytest.fixture
def service(settings: Settings) -> InquiryService:
    return build_service(settings)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[None]:
    """An open database with the config's units, for tests of the core without HTTP."""
    async with open_database(settings.database_url):
        await sync_units(settings.units)
        yield


@pytest.fixture
async def client(settings: Settings, service: InquiryService, aiohttp_client: Any) -> Any:
    return await aiohttp_client(create_app(settings, service))


StaffFactory = Callable[..., Awaitable[Staff]]


@pytest.fixture
def make_staff() -> StaffFactory:
    """Create a staff account (needs the database open: use with ``db`` or ``client``)."""
    password_hash = hash_password(PASSWORD)

    async def make(username: str, role: str, unit: str | None = None) -> Staff:
        unit_row = await Unit.get(code=unit) if unit else None
        return await Staff.create(
            username=username, display_name=username, password_hash=password_hash, role=role, unit=unit_row
        )

    return make


@pytest.fixture
def login(client: Any) -> Callable[[str], Awaitable[dict[str, str]]]:
    """Sign in through the API; returns the Authorization header."""

    async def sign_in(username: str) -> dict[str, str]:
        response = await client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert response.status == 200, await response.text()
        return {"Authorization": f"Bearer {(await response.json())['token']}"}

    return sign_in
