"""Readable case numbers (``WZ20261127-00042``) and random query codes (``7K3M9Q``).

The number's sequence comes from one atomic upsert on a per-day counter row, so two processes sharing
the database never issue the same number, and a number is never reused (the counter only grows).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from tortoise.backends.base.client import BaseDBAsyncClient

BEIJING = ZoneInfo("Asia/Shanghai")
PREFIX = "WZ"
# no 0/O, 1/I/L: a citizen reads the code off a phone and types it into a form
QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
QUERY_CODE_LENGTH = 6


def new_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


async def next_case_number(connection: BaseDBAsyncClient, now: datetime) -> str:
    """Issue the next number of ``now``'s Beijing day; call inside the intake transaction."""
    day = now.astimezone(BEIJING).strftime("%Y%m%d")
    placeholder = "$1" if connection.capabilities.dialect == "postgres" else "?"
    sql = (
        f"INSERT INTO case_counter (day, issued) VALUES ({placeholder}, 1) "
        "ON CONFLICT (day) DO UPDATE SET issued = case_counter.issued + 1 RETURNING issued"
    )
    rows = await connection.execute_query_dict(sql, [day])
    return f"{PREFIX}{day}-{rows[0]['issued']:05d}"


def normalise_number(text: str) -> str:
    """Accept what people type: lower case, spaces, full-width characters."""
    return "".join(ch for ch in text.strip().upper() if not ch.isspace()).replace("－", "-")
