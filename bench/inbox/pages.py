"""The staff inbox at a million inquiries: queue pages, search, deep paging, case pages and live updates.

For each database (a SQLite file; a PostgreSQL database made through ``$WENZHENG_BENCH_POSTGRES_ADMIN``):
  1. ``bench/seed.py --varied`` migrates and bulk-loads N inquiries (default 1,000,000) over the past
     year, with varied Chinese content and, for a fifth of them, messages and audit events;
  2. ``python -m gateway serve`` starts on it, and beside it a bare aiohttp server that serves a saved
     copy of each page as a static file (the baseline: what the HTTP round trip alone costs);
  3. it signs in through the inbox's form as the desk and as an rsj handler and times sequential GETs
     of every queue of both roles, filters, searches, deep keyset paging and random case pages
     (p50/p95/p99 after a warm-up);
  4. live updates: with the desk's ``/inbox/events`` stream open, the desk registers an inquiry through
     the staff API; the time from sending that request to the event arriving on the stream.

    python bench/inbox/pages.py [--inquiries 1000000] [--requests 100] [--databases sqlite,postgres]
                                [--keep DIR]

``--keep DIR`` keeps the SQLite file in DIR and the PostgreSQL database ``wenzheng_inbox_bench`` after
the run and reuses them (migrated, not seeded again) when they hold enough inquiries.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import aiohttp
import aiosqlite
import asyncpg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from databases import postgres_database  # noqa: E402
from intake_list import free_port, percentiles, server  # noqa: E402
from seed import PASSWORD  # noqa: E402

KEPT_POSTGRES = "wenzheng_inbox_bench"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CASE_LINK = re.compile(r'href="/inbox/cases/(WZ\d{8}-\d{5})"')
STATIC_SERVER = """
import sys
from aiohttp import web
app = web.Application()
app.router.add_get("/healthz", lambda request: web.Response(text="ok"))
app.router.add_static("/static", sys.argv[1])
web.run_app(app, host="127.0.0.1", port=int(sys.argv[2]), print=None, access_log=None)
"""

HANDLER_VIEWS: list[tuple[str, dict[str, str]]] = [
    ("待签收 (home)", {}),
    ("办理中", {"queue": "doing"}),
    ("即将到期", {"queue": "due"}),
    ("已超期", {"queue": "overdue"}),
    ("待评价", {"queue": "rating"}),
    ("办理中, q=社保 (common, 2 chars)", {"queue": "doing", "q": "社保"}),
    ("办理中, q=路灯 (common elsewhere)", {"queue": "doing", "q": "路灯"}),
    (
        "办理中, kind+channel, q=社保卡",
        {"queue": "doing", "kind": "complaint", "channel": "wechat", "q": "社保卡"},
    ),
]
DESK_VIEWS: list[tuple[str, dict[str, str]]] = [
    ("待甄别 (home)", {}),
    ("退回", {"queue": "returned"}),
    ("延期申请", {"queue": "extensions"}),
    ("已超期", {"queue": "overdue"}),
    ("全部", {"queue": "all"}),
    (
        "全部, kind+channel+category+dates",
        {
            "queue": "all",
            "kind": "report",
            "channel": "weibo",
            "category": "gongnuan",
            "received_from": "{from}",
            "received_to": "{to}",
        },
    ),
    ("全部, kind+channel", {"queue": "all", "kind": "report", "channel": "weibo"}),
    (
        "待甄别, kind+channel+dates",
        {
            "kind": "report",
            "channel": "weibo",
            "received_from": "{from}",
            "received_to": "{to}",
        },
    ),
    ("全部, unit+state", {"queue": "all", "unit": "gr", "state": "replied"}),
    ("全部, overdue+kind", {"queue": "all", "overdue": "true", "kind": "help"}),
    ("全部, q=路灯 (common, 2 chars)", {"queue": "all", "q": "路灯"}),
    ("全部, q=供暖温度不达标 (common)", {"queue": "all", "q": "供暖温度不达标"}),
    ("全部, q=锅炉房编号 (rare)", {"queue": "all", "q": "锅炉房编号"}),
    ("全部, q=不存在的词 (no match)", {"queue": "all", "q": "不存在的词"}),
    ("全部, q=路灯 + category+kind", {"queue": "all", "q": "路灯", "category": "jiaoyu", "kind": "help"}),
    ("全部, q=a case number", {"queue": "all", "q": "{number}"}),
]


@asynccontextmanager
async def database(kind: str, workdir: Path, keep: Path | None) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite://{(keep or workdir) / 'inbox.sqlite3'}"
        return
    name = KEPT_POSTGRES if keep else f"wenzheng_inbox_bench_{os.getpid()}"
    async with postgres_database(name, keep=keep is not None) as url:
        yield url


async def query(url: str, sql: str) -> list[tuple]:
    """Rows of ``sql`` run straight on the database (the bench's own look-ups and set-up)."""
    if url.startswith("sqlite"):
        async with aiosqlite.connect(url.removeprefix("sqlite://")) as db:
            try:
                rows = list(await db.execute_fetchall(sql))
            except aiosqlite.OperationalError:  # no such table: not migrated yet
                return []
            await db.commit()
            return rows
    connection = await asyncpg.connect(url)
    try:
        return [tuple(row) for row in await connection.fetch(sql)]
    except asyncpg.UndefinedTableError:
        return []
    finally:
        await connection.close()


async def prepare(url: str, count: int) -> None:
    """Seed ``count`` inquiries unless the database already holds them; migrate either way."""
    held = await query(url, "SELECT count(*) FROM inquiry")
    if held and held[0][0] >= count:
        print(f"  reusing {held[0][0]} inquiries", flush=True)
        env = os.environ | {"WENZHENG_DATABASE__URL": url, "WENZHENG_SECRET_KEY": "bench"}
        command = [sys.executable, "-m", "gateway", "migrate"]
        process = await asyncio.create_subprocess_exec(
            *command, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL
        )
    else:
        command = [sys.executable, str(ROOT / "bench" / "seed.py"), url, str(count), "--varied"]
        process = await asyncio.create_subprocess_exec(*command, cwd=ROOT)
    if await process.wait():
        raise RuntimeError(f"{command} failed")
    # the bench's staff have read their notifications, as people at work do: with a million audit
    # events unread the bell's count (gateway/inbox/notifications.py) costs 100-250 ms of every page
    await query(url, "UPDATE staff SET seen_event_id = (SELECT max(id) FROM inquiry_event)")


async def sign_in(base: str, username: str) -> aiohttp.ClientSession:
    """A client signed in through the inbox's form (session cookie)."""
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with session.get(f"{base}/inbox/login") as response:
        token = CSRF.search(await response.text())
    assert token, "no CSRF token on the sign-in form"
    form = {"csrf_token": token[1], "username": username, "password": PASSWORD}
    async with session.post(f"{base}/inbox/login", data=form, allow_redirects=False) as response:
        assert response.status == 303, await response.text()
    return session


async def timed(session: aiohttp.ClientSession, urls: list[str], n: int) -> tuple[tuple[float, ...], str]:
    """p50/p95/p99 ms of ``n`` sequential GETs (after 10 to warm up) cycling through ``urls``, and the
    last body."""
    samples, body = [], ""
    for i in range(n + 10):
        started = time.perf_counter()
        async with session.get(urls[i % len(urls)]) as response:
            body = await response.text()
            assert response.status == 200, (response.url, response.status, body[:500])
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples[10:]), body


async def live_latency(base: str, desk: aiohttp.ClientSession, token: str, n: int) -> tuple[float, ...]:
    """ms from sending an intake through the staff API to its event arriving on an open SSE stream."""
    samples = []
    async with desk.get(f"{base}/inbox/events", timeout=aiohttp.ClientTimeout(total=None)) as stream:
        assert stream.status == 200
        headers = {"Authorization": f"Bearer {token}"}
        body = {"kind": "complaint", "category": "chengguan", "content": "路灯不亮，请维修（基准测试）"}
        for _ in range(n + 3):
            started = time.perf_counter()
            async with desk.post(f"{base}/api/v1/inquiries", json=body, headers=headers) as response:
                assert response.status == 201, await response.text()
                number = (await response.json())["number"]
            while True:
                line = (await stream.content.readline()).decode()
                if line.startswith("data:") and json.loads(line[5:]).get("number") == number:
                    break
            samples.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(random.uniform(0.05, 0.3))  # not in step with the hub's polls
    return percentiles(samples[3:])


async def run_one(kind: str, args: argparse.Namespace) -> list[tuple[str, ...]]:
    print(f"== {kind}", flush=True)
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory() as workdir:
        async with database(kind, Path(workdir), args.keep) as url:
            await prepare(url, args.inquiries)
            numbers = [
                r[0] for r in await query(url, "SELECT number FROM inquiry ORDER BY random() LIMIT 200")
            ]
            deep = await query(
                url,
                "SELECT created_at, id FROM inquiry ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET 500000",
            )
            env = os.environ | {
                "WENZHENG_DATABASE__URL": url,
                "WENZHENG_DATA_DIR": workdir,
                "WENZHENG_SECRET_KEY": "bench",
                "WENZHENG_SCHEDULER__ENABLED": "false",
            }
            port, static_port = free_port(), free_port()
            static_dir = Path(workdir) / "static"
            static_dir.mkdir()
            gateway = [sys.executable, "-m", "gateway", "serve", "--port", str(port)]
            static = [sys.executable, "-c", STATIC_SERVER, str(static_dir), str(static_port)]
            async with server(gateway, port, env) as ours, server(static, static_port, env) as bare:
                desk, handler = await sign_in(ours, "desk"), await sign_in(ours, "rsj")
                baseline = aiohttp.ClientSession()
                try:
                    rows += await measure_pages(
                        args, ours, bare, static_dir, desk, handler, baseline, numbers, deep
                    )
                    async with desk.post(
                        f"{ours}/api/v1/auth/login", json={"username": "desk", "password": PASSWORD}
                    ) as r:
                        token = (await r.json())["token"]
                    p50, p95, p99 = await live_latency(ours, desk, token, args.live)
                    rows.append(
                        ("live update: intake → SSE event", f"{p50:.0f} / {p95:.0f} / {p99:.0f}", "", "")
                    )
                finally:
                    for session in (desk, handler, baseline):
                        await session.close()
    return rows


async def measure_pages(
    args: argparse.Namespace,
    ours: str,
    bare: str,
    static_dir: Path,
    desk: aiohttp.ClientSession,
    handler: aiohttp.ClientSession,
    baseline: aiohttp.ClientSession,
    numbers: list[str],
    deep: list[tuple],
) -> list[tuple[str, ...]]:
    rows = []
    today = time.strftime("%Y-%m-%d")
    year_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 300 * 86400))
    fill = {"from": year_ago[:8] + "01", "to": today[:8] + "01", "number": numbers[0]}
    created_at, last_id = deep[0]
    if isinstance(created_at, str):  # SQLite's text
        created_at = datetime.fromisoformat(created_at)
    micros = int(created_at.timestamp()) * 1_000_000 + created_at.microsecond
    views = [("handler", handler, label, params) for label, params in HANDLER_VIEWS]
    views += [("desk", desk, label, params) for label, params in DESK_VIEWS]
    views.append(
        ("desk", desk, "全部, older= the 500,000th row", {"queue": "all", "older": f"{micros}_{last_id}"})
    )
    for index, (role, session, label, params) in enumerate(views):
        params = {name: value.format(**fill) for name, value in params.items()}
        url = f"{ours}/inbox?" + "&".join(f"{k}={v}" for k, v in params.items())
        (p50, p95, p99), body = await timed(session, [url], args.requests)
        shown = len(CASE_LINK.findall(body))
        rows.append(
            await with_baseline(
                f"{role}: {label} ({shown} rows)",
                (p50, p95, p99),
                body,
                index,
                bare,
                static_dir,
                baseline,
                args,
            )
        )
    cases = [f"{ours}/inbox/cases/{number}" for number in numbers]
    (p50, p95, p99), body = await timed(desk, cases, args.requests)
    rows.append(
        await with_baseline(
            "desk: case page, random inquiries",
            (p50, p95, p99),
            body,
            "case",
            bare,
            static_dir,
            baseline,
            args,
        )
    )
    return rows


async def with_baseline(
    label: str,
    ours: tuple[float, ...],
    body: str,
    key: object,
    bare: str,
    static_dir: Path,
    session: aiohttp.ClientSession,
    args: argparse.Namespace,
) -> tuple[str, ...]:
    """The row of one view: ours, the same page served as a static file, and the ratio of the p95s."""
    (static_dir / f"{key}.html").write_text(body)
    (b50, b95, b99), _ = await timed(session, [f"{bare}/static/{key}.html"], args.requests)
    print(f"  {label}: {ours[1]:.1f} ms p95", flush=True)
    return (
        label,
        " / ".join(f"{v:.1f}" for v in ours),
        " / ".join(f"{v:.1f}" for v in (b50, b95, b99)),
        f"×{ours[1] / b95:.0f}",
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inquiries", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per view")
    parser.add_argument("--live", type=int, default=30, help="live updates timed")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the databases; the SQLite file here")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    for kind in args.databases.split(","):
        rows = await run_one(kind, args)
        print(f"\n### {kind}, {args.inquiries:,} inquiries\n")
        print("| view | Wenzheng p50 / p95 / p99 ms | static page p50 / p95 / p99 ms | p95 ratio |")
        print("|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
        print(flush=True)


if __name__ == "__main__":
    asyncio.run(main())
