"""The baseline: a bare aiohttp server doing the least possible work for the same two jobs.

POST /intake  parses a form and inserts one inquiry row with one SQL statement, answers 303.
GET  /list    runs the staff list's two queries (count + newest page, optional unit filter) as raw SQL.
No validation, no CSRF, no audit events, no ORM: the floor our gateway is measured against.

    python bench/baseline.py DATABASE_URL PORT
"""

from __future__ import annotations

import secrets
import sys
from datetime import UTC, datetime

import aiosqlite
import asyncpg
from aiohttp import web

LIST_SQL = (
    "SELECT number, kind, category, channel, state, unit_id, content, urgent, created_at, ack_due_at, "
    "reply_due_at, deadlines_provisional FROM inquiry {where} ORDER BY created_at DESC, id DESC LIMIT 20"
)
INSERT_COLUMNS = (
    "number, query_code, kind, category, channel, state, content, location, contact_name, contact_phone, "
    "consent_to_publish, published_at, urgent, deadlines_provisional, close_reason, reply_text, reply_note, "
    "reply_basis, reply_signature, rating_comment, extension_pending_days, extension_pending_reason, "
    "extension_days, extension_count, return_count, reopen_count, urge_count, supervision_level, version, "
    "created_at, updated_at"
)


class Database:
    """Just enough of a driver wrapper to run the same SQL on SQLite and PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith("postgres")

    async def open(self) -> None:
        if self.postgres:
            self.pool = await asyncpg.create_pool(self.url, min_size=5, max_size=10)
        else:
            self.sqlite = await aiosqlite.connect(self.url.removeprefix("sqlite://"))
            await self.sqlite.execute("PRAGMA journal_mode=WAL")

    def sql(self, text: str) -> str:
        if not self.postgres:
            return text
        count = 0
        out = []
        for ch in text:
            if ch == "?":
                count += 1
                out.append(f"${count}")
            else:
                out.append(ch)
        return "".join(out)

    async def execute(self, text: str, args: list) -> None:
        if self.postgres:
            await self.pool.execute(self.sql(text), *args)
        else:
            await self.sqlite.execute(text, args)
            await self.sqlite.commit()

    async def close(self) -> None:
        if self.postgres:
            await self.pool.close()
        else:
            await self.sqlite.close()

    async def fetch(self, text: str, args: list) -> list:
        if self.postgres:
            return await self.pool.fetch(self.sql(text), *args)
        async with self.sqlite.execute(text, args) as cursor:
            return list(await cursor.fetchall())


db_key = web.AppKey("db", Database)


async def intake(request: web.Request) -> web.Response:
    form = await request.post()
    now = datetime.now(UTC)
    values = [
        "BL" + secrets.token_hex(8),
        "BASE01",
        form.get("kind", "complaint"),
        form.get("category", "qita"),
        "web",
        "received",
        form.get("content", ""),
        "", "", "", False, None, False, False, "", "", "", "", "", "", 0, "", 0, 0, 0, 0, 0, 0, 0,
        now, now,
    ]  # fmt: skip
    placeholders = ", ".join("?" for _ in values)
    await request.app[db_key].execute(
        f"INSERT INTO inquiry ({INSERT_COLUMNS}) VALUES ({placeholders})", values
    )
    raise web.HTTPSeeOther("/cases/x")


async def listing(request: web.Request) -> web.Response:
    db = request.app[db_key]
    unit = request.query.get("unit")
    where, args = ("WHERE unit_id = (SELECT id FROM unit WHERE code = ?)", [unit]) if unit else ("", [])
    total = (await db.fetch(f"SELECT COUNT(*) FROM inquiry {where}", args))[0][0]
    rows = await db.fetch(LIST_SQL.format(where=where), args)
    items = [{"number": r[0], "state": r[4], "created_at": str(r[8])} for r in rows]
    return web.json_response({"items": items, "total": total})


async def main(url: str) -> web.Application:
    app = web.Application()
    app[db_key] = Database(url)
    await app[db_key].open()
    app.on_cleanup.append(lambda app: app[db_key].close())
    app.router.add_post("/intake", intake)
    app.router.add_get("/list", listing)
    return app


if __name__ == "__main__":
    web.run_app(main(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), print=None, access_log=None)
