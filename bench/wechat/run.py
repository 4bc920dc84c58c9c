"""The WeChat callback under load: our full path against a bare aiohttp handler and WeRoBot, in one run.

Servers, each in its own process, one at a time, driven by the same wrk script (pushes.lua):
  (a) bare      bench/wechat/bare.py: aiohttp answering ``success``, nothing else;
  (b) werobot   bench/wechat/werobot_app.py: WeRoBot 1.13.1 on waitress, a text reply to a text message;
  (a') wechatpy, wechatpy-safe
                bench/wechat/wechatpy_alone.py: aiohttp and wechatpy, signature, parse and reply (in safe
                mode decrypt and encrypt too), nothing stored: the reference the issue's targets were
                set against;
  (c) plain     ``python -m gateway serve`` (SQLite file, WeChat channel on): signature, parse, dedupe,
                store durably, passive receipt;
  (c) safe      the same in safe mode (``encrypt_type=aes``): the push and the receipt encrypted.
Every request is a different text message (its own MsgId) from one of --citizens citizens. After each
gateway run the SQLite database must hold exactly the messages sent: none lost, none twice.

    python bench/wechat/run.py [--seconds 15] [--warmup 3] [--connections 64] [--threads 2]
                               [--citizens 3000] [--workdir DIR]
                               [--servers bare,werobot,wechatpy,wechatpy-safe,plain,safe]
                               [--database sqlite|postgres]

With --database postgres each gateway run gets a fresh database, created (and dropped afterwards) through
$WENZHENG_BENCH_POSTGRES_ADMIN (default postgres://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from pushes import APP_ID, ENCODING_AES_KEY, TOKEN, Push, PushWriter, citizens

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))
from databases import POSTGRES_ADMIN, admin  # noqa: E402

HERE = Path(__file__).resolve().parent
WARMUP_PUSHES = 20_000
MIN_PUSHES = 100_000
MAX_PUSHES = 250_000
"""Largest file of pushes written for one run. Only (a) is fast enough to go through it and start over;
it does not read the pushes, so repeating them changes nothing for it (the run reports the repeats)."""
GATEWAYS = ("plain", "safe")
SAFE_MODE = ("safe", "wechatpy-safe")
REFERENCES = {"plain": "wechatpy", "safe": "wechatpy-safe"}
"""The no-storage reference (a') of each gateway run, in the same mode."""
LABELS = {
    "bare": "(a) bare aiohttp `success`",
    "werobot": "(b) WeRoBot 1.13.1 on waitress",
    "wechatpy": "(a') wechatpy alone, plaintext, nothing stored",
    "wechatpy-safe": "(a') wechatpy alone, safe mode, nothing stored",
    "plain": "(c) Wenzheng, plaintext",
    "safe": "(c) Wenzheng, safe mode (AES)",
}


@dataclass
class Load:
    """What one wrk run reports (pushes.lua's RESULT line)."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    non2xx: int
    socket_errors: int
    repeats: int
    sent: list[int]
    """Pushes sent by each wrk thread: the first ``sent[i]`` of its share of the file."""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass
class Outcome:
    server: str
    load: Load
    rss_mb: float
    """The largest resident set sampled under load."""
    hwm_mb: float
    """The peak resident set since the process started (VmHWM)."""
    checks: list[str] = field(default_factory=list)
    ok: bool = True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"server exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def memory_mb(pid: int, field: str) -> float:
    """``VmRSS`` (resident now) or ``VmHWM`` (the peak since start) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field}")


class RssSampler(threading.Thread):
    """The largest resident set seen while serving, sampled every 100 ms.

    ``VmHWM`` is reported too, but for the gateway it is set at start-up (imports, the check for
    pending migrations), not by the load.
    """

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            self.peak = max(self.peak, memory_mb(self.pid, "VmRSS"))


def wrk(port: int, pushes: Path, args: argparse.Namespace, seconds: int) -> Load:
    script = str(HERE / "pushes.lua")
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", script, f"http://127.0.0.1:{port}/", "--", str(pushes), str(args.threads)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    result = next(line for line in out.splitlines() if line.startswith("RESULT "))
    return Load(**json.loads(result.removeprefix("RESULT ")))


def sent_pushes(pushes: list[Push], load: Load) -> list[Push]:
    """The pushes a wrk run sent (pushes.lua gives thread i every n-th line from line i)."""
    threads = len(load.sent)
    return [p for i, count in enumerate(load.sent) for p in pushes[i::threads][:count]]


def probe(port: int, push: Push) -> str:
    """Send one push outside wrk and return the answer, to show what each server replies."""
    target, body = push.line.split("\t")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{target}", data=body.encode(), headers={"Content-Type": "text/xml"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def server_command(server: str, port: int, args: argparse.Namespace) -> list[str]:
    if server == "bare":
        return [sys.executable, str(HERE / "bare.py"), str(port)]
    if server == "werobot":
        return [sys.executable, str(HERE / "werobot_app.py"), str(port), str(args.werobot_threads)]
    if server in ("wechatpy", "wechatpy-safe"):
        return [
            sys.executable,
            str(HERE / "wechatpy_alone.py"),
            str(port),
            "safe" if server in SAFE_MODE else "plain",
        ]
    return [sys.executable, "-m", "gateway", "serve", "--port", str(port)]


def gateway_env(data_dir: Path, database_url: str) -> dict[str, str]:
    """The real configuration (config.yaml) with the WeChat channel on; the database is ``database_url``,
    or with "" a SQLite file in data_dir."""
    return os.environ | {
        "WENZHENG_DATA_DIR": str(data_dir),
        "WENZHENG_DATABASE__URL": database_url,
        "WENZHENG_SECRET_KEY": "bench",
        "WENZHENG_SCHEDULER__ENABLED": "false",
        "WENZHENG_CHANNELS__WECHAT__ENABLED": "true",
        "WENZHENG_CHANNELS__WECHAT__TOKEN": TOKEN,
        "WENZHENG_CHANNELS__WECHAT__APP_ID": APP_ID,
        "WENZHENG_CHANNELS__WECHAT__ENCODING_AES_KEY": ENCODING_AES_KEY,
    }


@contextmanager
def gateway_database(kind: str, server: str) -> Iterator[str]:
    """The database URL for one gateway run: "" (SQLite in its data_dir) or a fresh PostgreSQL one."""
    if kind == "sqlite":
        yield ""
        return
    name = f"wenzheng_bench_wechat_{server}_{os.getpid()}"
    asyncio.run(admin(f"CREATE DATABASE {name}"))
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def stored_messages(data_dir: Path, database_url: str) -> tuple[list[str], int]:
    """The dedupe keys of the inbound messages stored, and how many inquiries there are."""
    query = "SELECT dedupe_key FROM inquiry_message WHERE direction = 'in'"
    if not database_url:
        with sqlite3.connect(data_dir / "wenzheng.sqlite3") as connection:
            stored = [key for (key,) in connection.execute(query)]
            return stored, connection.execute("SELECT COUNT(*) FROM inquiry").fetchone()[0]

    async def read() -> tuple[list[str], int]:
        connection = await asyncpg.connect(database_url)
        try:
            stored = [row[0] for row in await connection.fetch(query)]
            return stored, await connection.fetchval("SELECT COUNT(*) FROM inquiry")
        finally:
            await connection.close()

    return asyncio.run(read())


def check_database(data_dir: Path, database_url: str, sent: list[Push]) -> tuple[bool, list[str]]:
    """Stored inbound messages against the distinct messages sent."""
    stored, inquiries = stored_messages(data_dir, database_url)
    expected = {p.dedupe_key for p in sent}
    missing, extra = expected - set(stored), set(stored) - expected
    ok = not missing and not extra and len(stored) == len(set(stored))
    lines = [
        f"sent {len(sent)} pushes ({len(expected)} distinct), stored {len(stored)} inbound messages "
        f"({len(set(stored))} distinct): {len(missing)} missing, {len(extra)} unexpected",
        f"{inquiries} inquiries opened, {len(stored) - inquiries} messages joined an open inquiry",
    ]
    if not ok:
        lines.append(f"FAILED: missing e.g. {sorted(missing)[:3]}, unexpected e.g. {sorted(extra)[:3]}")
    return ok, lines


def run_server(server: str, args: argparse.Namespace, senders: list[str], workdir: Path) -> Outcome:
    if server not in GATEWAYS:
        return run_on(server, args, senders, workdir, None)
    with gateway_database(args.database, server) as database_url:
        return run_on(server, args, senders, workdir, database_url)


def run_on(
    server: str, args: argparse.Namespace, senders: list[str], workdir: Path, database_url: str | None
) -> Outcome:
    """Run ``server``; ``database_url`` is the gateway's database (see gateway_env), None for (a), (b)."""
    print(f"== {LABELS[server]}", flush=True)
    gateway = database_url is not None
    data_dir = workdir / server
    data_dir.mkdir()
    env = gateway_env(data_dir, database_url) if database_url is not None else dict(os.environ)
    writer = PushWriter(senders, safe=server in SAFE_MODE)
    port = free_port()
    with (data_dir / "server.log").open("wb") as log:
        if gateway:
            migrate = [sys.executable, "-m", "gateway", "migrate"]
            subprocess.run(migrate, env=env, cwd=ROOT, check=True, stdout=log, stderr=subprocess.STDOUT)
        process = subprocess.Popen(
            server_command(server, port, args), env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port(port, process)
            sampler = RssSampler(process.pid)
            sampler.start()
            first = writer.write(data_dir / "probe.txt", 1)
            print(f"  probe answered: {probe(port, first[0])[:70]!r}...", flush=True)
            warm = writer.write(data_dir / "warmup.txt", WARMUP_PUSHES)
            warm_load = wrk(port, data_dir / "warmup.txt", args, args.warmup)
            # enough that no thread runs out, with room for a measured run faster than the warm-up
            count = min(max(int(warm_load.rate * args.seconds * 2), MIN_PUSHES), MAX_PUSHES)
            pushes = writer.write(data_dir / "pushes.txt", count)
            load = wrk(port, data_dir / "pushes.txt", args, args.seconds)
            time.sleep(1)  # requests in flight when wrk stopped are still answered
            sampler.stop.set()
            outcome = Outcome(server, load, sampler.peak, memory_mb(process.pid, "VmHWM"))
        finally:
            process.terminate()
            process.wait(30)
    print(
        f"  {load.rate:.0f}/s, p50 {load.p50_ms:.1f} ms, p99 {load.p99_ms:.1f} ms, max {load.max_ms:.0f} ms, "
        f"non-2xx {load.non2xx}, socket errors {load.socket_errors}, pushes repeated {load.repeats}, "
        f"RSS under load {outcome.rss_mb:.0f} MB (VmHWM {outcome.hwm_mb:.0f} MB)",
        flush=True,
    )
    if database_url is not None:
        sent = first + sent_pushes(warm, warm_load) + sent_pushes(pushes, load)
        outcome.ok, outcome.checks = check_database(data_dir, database_url, sent)
        if load.repeats or warm_load.repeats:
            outcome.ok = False
            outcome.checks.append("FAILED: some pushes were sent twice (the file of pushes was too short)")
    for line in outcome.checks:
        print("  " + line, flush=True)
    return outcome


def table(outcomes: list[Outcome]) -> str:
    rates = {o.server: o.load.rate for o in outcomes}
    rows = [
        "| server | requests/s | vs (a) | vs (b) | vs (a') | p50 ms | p99 ms | non-2xx | RSS MB (VmHWM) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        vs_a = f"{o.load.rate / rates['bare']:.0%}" if "bare" in rates else "–"
        vs_b = f"×{o.load.rate / rates['werobot']:.2f}" if "werobot" in rates else "–"
        reference = REFERENCES.get(o.server, "")
        vs_ref = f"{o.load.rate / rates[reference]:.0%}" if reference in rates else "–"
        rows.append(
            f"| {LABELS[o.server]} | {o.load.rate:.0f} | {vs_a} | {vs_b} | {vs_ref} | {o.load.p50_ms:.1f} | "
            f"{o.load.p99_ms:.1f} | {o.load.non2xx} | {o.rss_mb:.0f} ({o.hwm_mb:.0f}) |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=15, help="measured run per server")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured run before it")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--citizens", type=int, default=3000, help="distinct senders (FromUserName)")
    parser.add_argument("--werobot-threads", type=int, default=4, help="waitress worker threads")
    parser.add_argument("--servers", default="bare,werobot,wechatpy,wechatpy-safe,plain,safe")
    parser.add_argument("--workdir", help="an empty folder to keep databases, pushes and server logs in")
    parser.add_argument(
        "--database", choices=["sqlite", "postgres"], default="sqlite", help="the gateway's database"
    )
    args = parser.parse_args()
    senders = citizens(args.citizens)
    with tempfile.TemporaryDirectory() as temporary:
        workdir = Path(args.workdir or temporary)
        outcomes = [run_server(s, args, senders, workdir) for s in args.servers.split(",")]
    print(
        f"\n{args.connections} connections, {args.seconds} s after {args.warmup} s of warm-up, "
        f"{args.citizens} citizens, gateway on {args.database}"
        f"{' (synchronous=FULL)' if args.database == 'sqlite' else ''}\n"
    )
    print(table(outcomes))
    if not all(o.ok for o in outcomes):
        sys.exit("a database check failed")


if __name__ == "__main__":
    main()
