"""One Weibo mentions poll cycle ingesting a full page of mentions, against a bare fetch-and-insert.

For each database (a SQLite file; a fresh PostgreSQL database when reachable) and each run, on a freshly
migrated database:
  1. FakeWeiboApi serves on a local port holding N @-mentions, half statuses and half comments, from
     N/10 users (so a user's later mentions join their earlier, unscreened inquiry, as the window says);
  2. ours: one ``MentionsPoller.cycle()`` with the gateway's MentionIntake (InquiryService from
     ``build_service``) and DatabaseCursorStore, page size 200 (the API's maximum: one page per stream);
     then one ``drain`` of the Weibo outbox through WeiboDelivery (the receipts, as comments);
  3. baseline: the same two mention pages fetched, json-parsed, and inserted into a bare table with one
     executemany, nothing else — the minimum any ingestion has to do.
API calls are counted from the fake's record. Results go to stdout as a Markdown table (median, min and
max over the runs); bench/README.md records a run.

    python bench/weibo/poll_cycle.py [--mentions 200] [--runs 5] [--databases sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg
from aiohttp import web

from channels.weibo.api import (
    COMMENTS_CREATE,
    COMMENTS_MENTIONS,
    COMMENTS_REPLY,
    MAX_COUNT,
    STATUSES_MENTIONS,
    WeiboApi,
)
from channels.weibo.cursors import DatabaseCursorStore
from channels.weibo.delivery import WeiboDelivery, WeiboDeliveryOptions, drain
from channels.weibo.mentions import MentionIntake
from channels.weibo.poller import MentionsPoller
from channels.weibo.simulator import FakeWeiboApi
from core.models import Inquiry
from gateway.app import build_service
from gateway.db import apply_migrations, open_database
from gateway.settings import Settings, load_settings
from gateway.units import sync_units

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from databases import POSTGRES_ADMIN, postgres_database  # noqa: E402

TOKEN = "bench-weibo-token"
TEXTS = [
    "小区门口的路灯坏了一个多月，晚上出行很不安全，请尽快维修。",
    "南湖路夜市占道经营，油烟噪音扰民到凌晨，请城管部门处理。",
    "冬季供暖温度不达标，室内只有十四度，多次联系物业无果。",
    "北京路与苏州路交叉口早晚高峰非常危险，建议增设过街天桥。",
]
BASELINE_TABLE = (
    "CREATE TABLE bench_mention (id TEXT PRIMARY KEY, uid TEXT, text TEXT, created_at TEXT, raw TEXT)"
)
BASELINE_INSERT = "INSERT INTO bench_mention (id, uid, text, created_at, raw) VALUES ({})"


@dataclass(frozen=True)
class Run:
    poll_ms: float
    drain_ms: float
    baseline_ms: float
    poll_calls: int
    comment_calls: int
    inquiries: int
    receipts: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def database(kind: str, workdir: Path, run: int) -> AsyncIterator[str]:
    """A fresh, empty database for one run."""
    if kind == "sqlite":
        yield f"sqlite://{workdir / f'bench-{run}.sqlite3'}"
        return
    async with postgres_database(f"wenzheng_bench_weibo_{os.getpid()}_{run}") as url:
        yield url


@asynccontextmanager
async def fake_weibo(mentions: int) -> AsyncIterator[tuple[FakeWeiboApi, str]]:
    """The fake API on a local port, holding ``mentions`` mentions (statuses first, then comments)."""
    fake = FakeWeiboApi(access_token=TOKEN)
    users = max(mentions // 10, 1)
    for number in range(mentions):
        user, text = f"bench_user_{number % users}", f"{TEXTS[number % len(TEXTS)]}（第 {number} 条）"
        if number < mentions // 2:
            fake.post_mention(user, text)
        else:
            fake.comment_mention(user, text)
    runner = web.AppRunner(fake.app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def bench_settings(url: str, workdir: Path, api_base: str) -> Settings:
    return load_settings(
        ROOT / "config.yaml",
        environ={
            "WENZHENG_DATA_DIR": str(workdir),
            "WENZHENG_DATABASE__URL": url,
            "WENZHENG_PUBLIC_BASE_URL": "https://wenzheng.example.gov.cn",
            "WENZHENG_CHANNELS__WEIBO__ENABLED": "true",
            "WENZHENG_CHANNELS__WEIBO__ACCESS_TOKEN": TOKEN,
            "WENZHENG_CHANNELS__WEIBO__ACCOUNT_UID": "'7000000001'",  # YAML: keep it a string
            "WENZHENG_CHANNELS__WEIBO__API_BASE": api_base,
            "WENZHENG_CHANNELS__WEIBO__MESSAGES_BASE": api_base,
            "WENZHENG_CHANNELS__WEIBO__PAGE_SIZE": str(MAX_COUNT),
        },
    )


async def ours(settings: Settings, session: aiohttp.ClientSession) -> tuple[float, float]:
    """One poll cycle and one outbox drain, as the gateway would run them; their times in ms."""
    weibo = settings.channels.weibo
    api = WeiboApi(session, weibo.access_token, weibo.api_base, weibo.messages_base)
    intake = MentionIntake(build_service(settings), settings.chat_options(weibo))
    poller = MentionsPoller(
        api, DatabaseCursorStore(), intake, interval_seconds=weibo.poll_seconds, page_size=weibo.page_size
    )
    delivery = WeiboDelivery(api, WeiboDeliveryOptions(settings.public_base_url, settings.templates))
    started = time.perf_counter()
    await poller.cycle()
    polled = time.perf_counter()
    if poller.status.state != "ok":
        raise SystemExit(f"the poll cycle failed: {poller.status.reason}")
    await drain(delivery, datetime.now(UTC), limit=10_000)
    return (polled - started) * 1000, (time.perf_counter() - polled) * 1000


async def baseline(kind: str, url: str, session: aiohttp.ClientSession, api_base: str) -> tuple[float, int]:
    """Fetch both mention pages, parse them, insert one row per item with one executemany; ms, rows."""
    path = url.removeprefix("sqlite://")
    if kind == "sqlite":
        connection = sqlite3.connect(path)
        connection.execute(BASELINE_TABLE)
    else:
        pg = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        await pg.execute(BASELINE_TABLE)
    started = time.perf_counter()
    rows = []
    for endpoint, key in ((STATUSES_MENTIONS, "statuses"), (COMMENTS_MENTIONS, "comments")):
        query = {"access_token": TOKEN, "count": str(MAX_COUNT)}
        async with session.get(api_base + endpoint, params=query) as response:
            body = await response.read()
        items = json.loads(body)[key]
        rows += [(i["idstr"], i["user"]["idstr"], i["text"], i["created_at"], json.dumps(i)) for i in items]
    if kind == "sqlite":
        with connection:
            connection.executemany(BASELINE_INSERT.format("?, ?, ?, ?, ?"), rows)
        connection.close()
    else:
        await pg.executemany(BASELINE_INSERT.format("$1, $2, $3, $4, $5"), rows)
        await pg.close()
    return (time.perf_counter() - started) * 1000, len(rows)


async def one_run(kind: str, mentions: int, workdir: Path, run: int) -> Run:
    async with database(kind, workdir, run) as url, fake_weibo(mentions) as (fake, api_base):
        await apply_migrations(url)
        settings = bench_settings(url, workdir, api_base)
        async with aiohttp.ClientSession() as session:
            async with open_database(url):
                await sync_units(settings.units)
                poll_ms, drain_ms = await ours(settings, session)
                inquiries = await Inquiry.all().count()
            polls = len(fake.calls_to(STATUSES_MENTIONS)) + len(fake.calls_to(COMMENTS_MENTIONS))
            comments = len(fake.calls_to(COMMENTS_CREATE)) + len(fake.calls_to(COMMENTS_REPLY))
            receipts = sum(1 for c in fake.comments.values() if c["user"]["screen_name"] == fake.account_name)
            baseline_ms, rows = await baseline(kind, url, session, api_base)
        if rows != mentions:
            raise SystemExit(f"the baseline fetched {rows} mentions, not {mentions}")
        return Run(poll_ms, drain_ms, baseline_ms, polls, comments, inquiries, receipts)


async def postgres_reachable() -> bool:
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        print(f"skipping PostgreSQL ({POSTGRES_ADMIN}): {error}", file=sys.stderr)
        return False
    await connection.close()
    return True


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ({min(values):.0f}–{max(values):.0f})"


async def measure(kind: str, mentions: int, runs: int) -> None:
    """Print the table row for one database, then a note on what was made."""
    if kind == "postgres" and not await postgres_reachable():
        return
    with tempfile.TemporaryDirectory(prefix="wenzheng-bench-weibo-") as workdir:
        done = [await one_run(kind, mentions, Path(workdir), run) for run in range(runs)]
    polls, comments = done[0].poll_calls, done[0].comment_calls
    ratio = statistics.median(r.poll_ms for r in done) / statistics.median(r.baseline_ms for r in done)
    name = "SQLite" if kind == "sqlite" else "PostgreSQL"
    print(
        f"| {name} | {spread([r.poll_ms for r in done])} | {spread([r.drain_ms for r in done])} "
        f"| {spread([r.baseline_ms for r in done])} | ×{ratio:.1f} "
        f"| {(polls + comments) / mentions:.3f} ({polls} poll + {comments} comment) |"
    )
    print(f"NOTE {name}: {done[0].inquiries} inquiries and {done[0].receipts} receipt comments per run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentions", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--only", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.only:
        asyncio.run(measure(args.only, args.mentions, args.runs))
        return
    print(f"{args.mentions} mentions, {args.runs} runs on fresh databases; ms as median (min–max)\n")
    print("| database | poll cycle ms | drain ms | baseline ms | cycle ÷ baseline | API calls / mention |")
    print("|---|---|---|---|---|---|")
    notes = []
    for kind in args.databases.split(","):
        # One process per database: Tortoise keeps per-process state that does not survive a switch
        # from SQLite to PostgreSQL.
        sizes = [f"--mentions={args.mentions}", f"--runs={args.runs}"]
        command = [sys.executable, __file__, "--only", kind, *sizes]
        lines = subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()
        for line in lines:
            if line.startswith("NOTE "):
                notes.append(line.removeprefix("NOTE "))
            else:
                print(line, flush=True)
    print("\n" + "\n".join(notes))


if __name__ == "__main__":
    main()
