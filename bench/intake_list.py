"""Web intake throughput and staff list latency, our gateway against a bare baseline, in one run.

For each database (SQLite file, and a fresh PostgreSQL database when reachable):
  1. migrate and seed N inquiries (default 100,000) in bulk;
  2. start `python -m gateway serve` and `bench/baseline.py` on the same database, one process each;
  3. list: sequential GET of the staff list (as the desk; as the desk filtering one state; as a unit
     handler), and the baseline's two raw queries, giving p50/p95/p99;
  4. intake: C concurrent clients POST the citizen form for D seconds (the gateway: CSRF, validation,
     case number, inquiry + message + audit event in one transaction; the baseline: one INSERT).
Results go to stdout as a Markdown table; bench/README.md records a run.

    python bench/intake_list.py [--inquiries 100000] [--seconds 10] [--concurrency 32]
                                [--databases sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from databases import postgres_database  # bench/ is on the path when this file runs as a script
from seed import PASSWORD

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@asynccontextmanager
async def database(kind: str, workdir: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        yield f"sqlite://{workdir / 'bench.sqlite3'}"
        return
    async with postgres_database(f"wenzheng_bench_{os.getpid()}") as url:
        yield url


@asynccontextmanager
async def server(command: list[str], port: int, env: dict[str, str]) -> AsyncIterator[str]:
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(300):
                try:
                    async with session.get(base + "/healthz") as response:
                        if response.status in (200, 404):
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"{command} did not start")
        yield base
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94], cuts[98]


async def latency(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], n: int
) -> tuple[float, ...]:
    samples = []
    for _ in range(n + 20):
        started = time.perf_counter()
        async with session.get(url, headers=headers) as response:
            assert response.status == 200, await response.text()
            await response.read()
        samples.append((time.perf_counter() - started) * 1000)
    return percentiles(samples[20:])  # the first requests warm caches


async def throughput(
    session: aiohttp.ClientSession, url: str, form: dict[str, str], seconds: float, workers: int
) -> float:
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            data = form | {"form_id": secrets.token_urlsafe(16)}
            async with session.post(url, data=data, allow_redirects=False) as response:
                if response.status != 303:
                    raise RuntimeError(f"{url}: {response.status} {await response.text()}")
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return done / (time.perf_counter() - started)


async def token(session: aiohttp.ClientSession, base: str, username: str) -> dict[str, str]:
    async with session.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    ) as r:
        return {"Authorization": f"Bearer {(await r.json())['token']}"}


async def citizen_form(session: aiohttp.ClientSession, base: str) -> dict[str, str]:
    async with session.get(f"{base}/submit") as response:
        page = await response.text()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf is not None, "no CSRF token on the form"
    return {
        "csrf_token": csrf[1],
        "content": "小区门口的路灯坏了一个多月，晚上出行很不安全，请尽快维修。",
        "kind": "complaint",
        "category": "chengguan",
        "contact_name": "张三",
        "contact_phone": "13912345678",
    }


async def run_one(kind: str, args: argparse.Namespace) -> list[tuple[str, str, str, str]]:
    print(f"== {kind}", flush=True)
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as workdir:
        async with database(kind, Path(workdir)) as url:
            seed = [sys.executable, str(ROOT / "bench" / "seed.py"), url, str(args.inquiries)]
            if await (await asyncio.create_subprocess_exec(*seed, cwd=ROOT)).wait():
                raise RuntimeError("seeding failed")
            env = os.environ | {
                "WENZHENG_DATABASE__URL": url,
                "WENZHENG_DATA_DIR": workdir,
                "WENZHENG_SECRET_KEY": "bench",
                "WENZHENG_CHANNELS__WEB__RATE_LIMIT__PER_MINUTE": "100000000",
                "WENZHENG_CHANNELS__WEB__RATE_LIMIT__PER_DAY": "100000000",
                "WENZHENG_SCHEDULER__ENABLED": "false",
            }
            gateway_port, baseline_port = free_port(), free_port()
            gateway_cmd = [sys.executable, "-m", "gateway", "serve", "--port", str(gateway_port)]
            baseline_cmd = [sys.executable, str(ROOT / "bench" / "baseline.py"), url, str(baseline_port)]
            connector = aiohttp.TCPConnector(limit=args.concurrency)
            async with (
                server(gateway_cmd, gateway_port, env) as ours,
                server(baseline_cmd, baseline_port, env) as base,
                aiohttp.ClientSession(
                    connector=connector, cookie_jar=aiohttp.CookieJar(unsafe=True)
                ) as session,
            ):
                desk, unit = await token(session, ours, "desk"), await token(session, ours, "rsj")
                cases = [
                    ("list, desk, all", f"{ours}/api/v1/inquiries", desk, f"{base}/list"),
                    (
                        "list, desk, state=acknowledged",
                        f"{ours}/api/v1/inquiries?state=acknowledged",
                        desk,
                        f"{base}/list",
                    ),
                    ("list, unit handler (rsj)", f"{ours}/api/v1/inquiries", unit, f"{base}/list?unit=rsj"),
                ]
                for label, url_ours, headers, url_base in cases:
                    p_ours = await latency(session, url_ours, headers, args.requests)
                    p_base = await latency(session, url_base, {}, args.requests)
                    rows.append(
                        (
                            kind,
                            f"{label}: p50 / p95 / p99 ms",
                            " / ".join(f"{v:.1f}" for v in p_ours),
                            " / ".join(f"{v:.1f}" for v in p_base) + f" (p95 ×{p_ours[1] / p_base[1]:.1f})",
                        )
                    )
                    print("  " + " | ".join(rows[-1]), flush=True)
                form = await citizen_form(session, ours)
                ours_rate = await throughput(session, f"{ours}/submit", form, args.seconds, args.concurrency)
                base_rate = await throughput(session, f"{base}/intake", form, args.seconds, args.concurrency)
                rows.append(
                    (
                        kind,
                        "web intake, per second",
                        f"{ours_rate:.0f}",
                        f"{base_rate:.0f} (ours {ours_rate / base_rate:.0%})",
                    )
                )
                print("  " + " | ".join(rows[-1]), flush=True)
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--inquiries", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=300, help="list requests per case")
    parser.add_argument("--databases", default="sqlite,postgres")
    args = parser.parse_args()
    rows = []
    for kind in args.databases.split(","):
        rows += await run_one(kind, args)
    print(f"\n{args.inquiries} inquiries in the database, {args.concurrency} concurrent intake clients\n")
    print("| database | measure | Wenzheng | baseline |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    asyncio.run(main())
