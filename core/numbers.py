"""Readable case numbers (``WZ20261127-00042``) and random query codes (``7K3M9Q``).

The number's sequence comes from one atomic upsert on a per-day counter row, so two processes sharing
the database never issue the same number, and a number is never reused (the counter only grows).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from core.batch_connection import BatchConnection, placeholders

BEIJING = ZoneInfo("Asia/Shanghai")
PREFIX = "WZ"
# no 0/O, 1/I/L: a citizen reads the code off a phone and types it into a form
QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
QUERY_CODE_LENGTH = 6


def new_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


def case_day(now: datetime) -> str:
    """The Beijing-time day a case number issued at ``now`` carries, as YYYYMMDD."""
    return now.astimezone(BEIJING).strftime("%Y%m%d")


async def next_case_numbers(connection: BatchConnection, day: str, count: int) -> list[str]:
    """Issue ``count`` consecutive numbers of ``day``; call inside the transaction that uses them."""
    day_mark, count_mark = placeholders(connection, 2)
    sql = (
        f"INSERT INTO case_counter (day, issued) VALUES ({day_mark}, {count_mark}) "
        f"ON CONFLICT (day) DO UPDATE SET issued = case_counter.issued + {count_mark} RETURNING issued"
    )
    rows = await connection.fetch(sql, [day, count])
    last = int(rows[0][0])
    return [f"{PREFIX}{day}-{n:05d}" for n in range(last - count + 1, last + 1)]


def normalise_number(text: str) -> str:
    """Accept what people type: lower case, spaces, full-width characters."""
    return "".join(ch for ch in text.strip().upper() if not ch.isspace()).replace("－", "-")
