"""Several gateway processes on one PostgreSQL database: no duplicate case numbers, one winner per race,
a chat message delivered to every process at once stored once and answered alike.

SQLite serves a single process, so these need WENZHENG_TEST_POSTGRES_URL (CI sets it) and skip without.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

WORKER = Path(__file__).with_name("worker.py")


def environment(url: str, tmp_path: Path) -> dict[str, str]:
    return os.environ | {"WENZHENG_DATABASE__URL": url, "WENZHENG_DATA_DIR": str(tmp_path)}


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> object:
    out, _ = process.communicate("go\n", timeout=120)
    assert process.returncode == 0
    return json.loads(out)


async def test_two_processes_never_issue_the_same_case_number(postgres_url: str, tmp_path: Path) -> None:
    env = environment(postgres_url, tmp_path)
    finish(start(["setup"], env))
    workers = [start(["intake", "40"], env) for _ in range(3)]
    numbers = [n for worker in workers for n in finish(worker)]  # type: ignore[union-attr]
    assert len(numbers) == len(set(numbers)) == 120
    assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, 121))


async def test_two_processes_racing_to_dispatch_each_inquiry_one_wins(
    postgres_url: str, tmp_path: Path
) -> None:
    env = environment(postgres_url, tmp_path)
    finish(start(["setup"], env))
    numbers = finish(start(["intake", "30"], env))
    batch = tmp_path / "numbers.json"
    batch.write_text(json.dumps(numbers))
    racers = [start(["dispatch", str(batch), unit], env) for unit in ("rsj", "cgj")]
    await asyncio.sleep(1)  # both connected and waiting
    for racer in racers:
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.flush()
    results = [finish(racer) for racer in racers]
    for number in numbers:  # type: ignore[union-attr]
        assert sorted(r[number] for r in results) == ["lost", "won"]  # type: ignore[index]
    dispatches = finish(start(["dispatches"], env))
    assert len(dispatches) == 30  # type: ignore[arg-type]
    assert set(dispatches.values()) == {1}  # type: ignore[union-attr]


async def test_a_message_delivered_to_three_processes_at_once_is_stored_once_and_answered_alike(
    postgres_url: str, tmp_path: Path
) -> None:
    # WeChat retries a push it got no answer to; behind a load balancer each delivery may reach another
    # process. Six citizens write ten messages each, every message reaching all three processes at once.
    env = environment(postgres_url, tmp_path)
    finish(start(["setup"], env))
    messages = [(f"oCitizen{c}", str(1000 * c + m)) for c in range(6) for m in range(10)]
    keys = [f"wechat:{sender}:{msg_id}" for sender, msg_id in messages]
    batch = tmp_path / "messages.json"
    batch.write_text(json.dumps(messages))
    receivers = [start(["receive", str(batch)], env) for _ in range(3)]
    await asyncio.sleep(1)  # all connected and waiting
    for receiver in receivers:
        assert receiver.stdin is not None
        receiver.stdin.write("go\n")
        receiver.stdin.flush()
    answers: list[Any] = [finish(receiver) for receiver in receivers]
    assert answers[0] == answers[1] == answers[2]  # the same case number, and joined or not, everywhere
    stored: Any = finish(start(["messages"], env))
    assert sorted(key for key, _ in stored) == sorted(keys)  # each message once
    assert {key: number for key, (number, _) in answers[0].items()} == dict(stored)
    for citizen in range(6):  # each citizen's messages in one inquiry, which the first opened
        mine = [answers[0][key] for key in keys[10 * citizen : 10 * citizen + 10]]
        assert len({number for number, _ in mine}) == 1
        assert [joined for _, joined in mine] == [False] + [True] * 9
