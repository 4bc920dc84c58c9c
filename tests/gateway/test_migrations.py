"""The committed migrations describe the models exactly: a model change without its migration fails."""

from __future__ import annotations

from pathlib import Path

from tortoise import Tortoise
from tortoise.cli.cli import tortoise_cli_context
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate
from tortoise.migrations.autodetector import MigrationAutodetector

from core.models import Attachment, OutboxMessage
from gateway.db import apply_migrations, open_database, tortoise_config


async def test_no_model_change_lacks_a_migration() -> None:
    config = tortoise_config("sqlite://:memory:")
    async with tortoise_cli_context(config) as context:
        pending = await MigrationAutodetector(context.apps, config["apps"]).changes()
    assert [f"{w.app_label}.{w.name}" for w in pending] == [], "run: python -m tortoise makemigrations"


async def test_upgrading_a_database_that_holds_rows(tmp_path: Path) -> None:
    """Columns added later need database defaults, or the upgrade fails on existing rows."""
    url = f"sqlite://{tmp_path / 'old.sqlite3'}"
    await migrate(config=tortoise_config(url), target="models.0002_outbox")
    await Tortoise.close_connections()
    async with open_database(url, require_migrated=False):
        connection = get_connection("default")
        await connection.execute_script(
            "INSERT INTO unit (code, name, active) VALUES ('u', 'U', 1);"
            "INSERT INTO inquiry (number, query_code, kind, category, channel, state, content, location,"
            " contact_name, contact_phone, consent_to_publish, urgent, deadlines_provisional, close_reason,"
            " reply_text, reply_note, reply_basis, reply_signature, rating_comment, extension_pending_days,"
            " extension_pending_reason, extension_days, extension_count, return_count, reopen_count,"
            " urge_count, supervision_level, version, created_at, updated_at) VALUES ('WZ1', 'Q', 'help',"
            " 'qita', 'web', 'received', 'x', '', '', '', 0, 0, 0, '', '', '', '', '', '', 0, '', 0, 0, 0, 0,"
            " 0, 0, 0, '2026-11-27 00:00:00+00:00', '2026-11-27 00:00:00+00:00');"
            "INSERT INTO attachment (inquiry_id, filename, content_type, size, sha256, storage_path,"
            " created_at) VALUES (1, 'a.jpg', 'image/jpeg', 3, 'abc', '1/a.jpg',"
            " '2026-11-27 00:00:00+00:00');"
            "INSERT INTO outbox_message (inquiry_id, channel, recipient, kind, text, state, attempts,"
            " next_attempt_at, last_error, created_at) VALUES (1, 'wechat', 'o', 'reply', 't', 'sent', 1,"
            " '2026-11-27 00:00:00+00:00', '', '2026-11-27 00:00:00+00:00');"
        )
    await apply_migrations(url)
    async with open_database(url):
        attachment = await Attachment.get()
        assert (attachment.state, attachment.media_id, attachment.attempts) == ("stored", "", 0)
        assert (await OutboxMessage.get()).platform_status == ""
