"""The committed migrations describe the models exactly: a model change without its migration fails."""

from __future__ import annotations

from tortoise.cli.cli import tortoise_cli_context
from tortoise.migrations.autodetector import MigrationAutodetector

from gateway.db import tortoise_config


async def test_no_model_change_lacks_a_migration() -> None:
    config = tortoise_config("sqlite://:memory:")
    async with tortoise_cli_context(config) as context:
        pending = await MigrationAutodetector(context.apps, config["apps"]).changes()
    assert [f"{w.app_label}.{w.name}" for w in pending] == [], "run: python -m tortoise makemigrations"
