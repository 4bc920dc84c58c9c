"""Fill a migrated database with a realistic spread of inquiries, fast (bulk inserts, not the service).

The inquiries span the past year (never today, so new intakes cannot collide with their case numbers),
every unit, kind, category, channel and state, with deadlines where the state has them.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from core.models import Inquiry, Staff, Unit
from core.states import State
from core.vocab import Channel, Kind
from gateway.auth import hash_password
from gateway.db import apply_migrations, open_database
from gateway.settings import load_settings
from gateway.units import sync_units

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password"

TEXTS = [
    "小区门口的路灯坏了一个多月，晚上出行很不安全，请尽快维修。",
    "养老金调整后什么时候发放到账？社保卡查询显示未到账。",
    "南湖路夜市占道经营，油烟噪音扰民到凌晨，请城管部门处理。",
    "孩子入学需要哪些材料？户籍不在本区能否就近入学？",
    "冬季供暖温度不达标，室内只有十四度，多次联系物业无果。",
    "建议在北京路与苏州路交叉口增设过街天桥，早晚高峰非常危险。",
]
STATES = [
    (State.RECEIVED, 5),
    (State.DISPATCHED, 10),
    (State.RETURNED, 2),
    (State.ACKNOWLEDGED, 20),
    (State.REPLIED, 13),
    (State.CLOSED, 50),
]


async def seed_inquiries(count: int, categories: dict[str, str], batch: int = 500) -> None:
    """Insert ``count`` inquiries; ``categories`` maps a category code to its unit code."""
    units = {u.code: u.id for u in await Unit.all()}
    codes = list(categories)
    states = [s for s, weight in STATES for _ in range(weight)]
    rng = random.Random(20261127)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    per_day: dict[str, int] = {}
    rows: list[Inquiry] = []
    for _ in range(count):
        created = today - timedelta(days=rng.randint(1, 365), seconds=rng.randint(0, 86399))
        day = created.strftime("%Y%m%d")
        per_day[day] = per_day.get(day, 0) + 1
        category = rng.choice(codes)
        state = rng.choice(states)
        dispatched = state != State.RECEIVED
        rows.append(
            Inquiry(
                number=f"WZ{day}-{per_day[day]:05d}",
                query_code="BENCH2",
                kind=rng.choice(list(Kind)),
                category=category,
                channel=rng.choice(list(Channel)),
                state=state,
                unit_id=units[categories[category]] if dispatched else None,
                content=rng.choice(TEXTS),
                created_at=created,
                updated_at=created,
                promised_reply_at=created + timedelta(days=9),
                ack_due_at=created + timedelta(hours=20) if dispatched else None,
                reply_due_at=created + timedelta(days=9)
                if state not in (State.RECEIVED, State.DISPATCHED)
                else None,
                rating_due_at=created + timedelta(days=16) if state == State.REPLIED else None,
            )
        )
        if len(rows) == batch:
            await Inquiry.bulk_create(rows)
            rows = []
    if rows:
        await Inquiry.bulk_create(rows)


async def prepare(url: str, count: int) -> None:
    """Migrate, add the city's units, ``count`` inquiries, and a desk and an rsj handler account."""
    settings = load_settings(ROOT / "config.yaml", environ={"WENZHENG_DATABASE__URL": url})
    await apply_migrations(url)
    async with open_database(url):
        await sync_units(settings.units)
        started = time.perf_counter()
        await seed_inquiries(count, {c.code: c.unit for c in settings.categories})
        print(f"  seeded {count} inquiries in {time.perf_counter() - started:.1f} s", flush=True)
        password_hash = hash_password(PASSWORD)
        await Staff.create(username="desk", display_name="desk", password_hash=password_hash, role="desk")
        rsj = await Unit.get(code="rsj")
        await Staff.create(
            username="rsj", display_name="rsj", password_hash=password_hash, role="handler", unit=rsj
        )
    if url.startswith("postgres"):
        connection = await asyncpg.connect(url)
        await connection.execute("VACUUM ANALYZE")
        await connection.close()


if __name__ == "__main__":
    # python bench/seed.py DATABASE_URL COUNT -- its own process: Tortoise keeps one dialect per process
    asyncio.run(prepare(sys.argv[1], int(sys.argv[2])))
