"""The `wenzheng` command: each subcommand, and one clear line (exit 1) for every failure."""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from asyncio.subprocess import PIPE, STDOUT
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from channels.wechat.simulator import MENU_CREATE, FakeWeChatApi
from gateway.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A config pointing at a fresh SQLite file that nothing has migrated yet."""
    values = {
        "WENZHENG_CONFIG": str(ROOT / "config.yaml"),
        "WENZHENG_DATA_DIR": str(tmp_path / "data"),
        "WENZHENG_DATABASE__URL": f"sqlite://{tmp_path / 'cli.sqlite3'}",
        "WENZHENG_SECRET_KEY": "cli-test-secret",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def run(argv: list[str], capsys: pytest.CaptureFixture[str], stdin: str = "") -> tuple[int, str, str]:
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(argv)
    finally:
        sys.stdin = sys.__stdin__
    out, err = capsys.readouterr()
    return code, out, err


def test_migrate_then_create_users(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["migrate"], capsys)[:2] == (
        0,
        f"wenzheng: database is up to date ({env['WENZHENG_DATABASE__URL']})\n",
    )
    assert run(["migrate"], capsys)[0] == 0  # idempotent
    code, out, _ = run(
        ["create-user", "zhang", "--role", "handler", "--unit", "rsj"], capsys, "a long password\n"
    )
    assert (code, out) == (0, "wenzheng: created handler zhang\n")
    assert run(["create-user", "zhang", "--role", "desk"], capsys, "a long password\n")[2] == (
        "wenzheng: user zhang already exists\n"
    )


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (
            ["create-user", "li", "--role", "handler"],
            "a long password\n",
            "a handler belongs to a unit: give --unit CODE",
        ),
        (
            ["create-user", "li", "--role", "desk", "--unit", "rsj"],
            "a long password\n",
            "a desk sees all units",
        ),
        (
            ["create-user", "li", "--role", "handler", "--unit", "nope"],
            "a long password\n",
            "no unit with code nope",
        ),
        (["create-user", "li", "--role", "desk"], "short\n", "the password must have at least 10 characters"),
    ],
)
def test_create_user_refusals(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], argv: list[str], stdin: str, message: str
) -> None:
    run(["migrate"], capsys)
    code, _, err = run(argv, capsys, stdin)
    assert code == 1
    assert err.startswith(f"wenzheng: {message}")
    assert err.count("\n") == 1


def test_an_unmigrated_database_gets_a_clear_message(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["create-user", "li", "--role", "desk"], capsys, "a long password\n")
    assert code == 1
    count = len(list((ROOT / "core" / "migrations").glob("0*.py")))
    assert err.startswith(
        f"wenzheng: the database has {count} migration(s) not applied (models.0001_initial...)"
    )
    assert err.endswith("run `wenzheng migrate` first\n")
    assert run(["serve", "--port", "0"], capsys)[2] == err


def test_bad_config_is_one_line(env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("WENZHENG_SERVER__PORT", "eighty")
    code, _, err = run(["migrate"], capsys)
    assert (code, err) == (
        1,
        "wenzheng: server.port: Input should be a valid integer, unable to parse string as an integer\n",
    )
    code, _, err = run(["--config", "/nonexistent/config.yaml", "migrate"], capsys)
    assert (code, err) == (
        1,
        "wenzheng: cannot read config file /nonexistent/config.yaml: No such file or directory\n",
    )


def test_an_unreachable_database_is_one_line(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("WENZHENG_DATABASE__URL", "postgres://nobody@127.0.0.1:1/none")
    code, _, err = run(["migrate"], capsys)
    assert code == 1
    assert err.startswith("wenzheng: ")
    assert err.count("\n") == 1


def test_import_units_from_csv_and_yaml(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(["migrate"], capsys)
    csv_file = tmp_path / "units.csv"
    csv_file.write_text("code,name\nlyj,市林业和草原局\nrsj,市人力资源和社会保障局\n", encoding="utf-8")
    assert run(["import-units", str(csv_file)], capsys)[1] == "wenzheng: 2 units read, 1 added or renamed\n"
    yaml_file = tmp_path / "units.yaml"
    yaml_file.write_text("units:\n  - {code: lyj, name: 市林业和草原局（更名）}\n", encoding="utf-8")
    assert run(["import-units", str(yaml_file)], capsys)[1] == "wenzheng: 1 units read, 1 added or renamed\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("u.csv", "code,name\nlyj,\n", "entry 2 needs both code and name"),
        ("u.csv", "code,name\nbad code!,名称\n", "code 'bad code!' must be 1-32 letters, digits or _"),
        ("u.csv", "code,name\na,甲\na,乙\n", "entry 3: duplicate code a"),
        ("u.yaml", "units: 3\n", "expected a list of units"),
        ("u.yaml", "[1, 2", "not valid YAML"),
        ("u.csv", "code,name\n", "no units"),
    ],
)
def test_import_units_refusals(
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    name: str,
    content: str,
    message: str,
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    code, _, err = run(["import-units", str(path)], capsys)
    assert code == 1
    assert message in err
    assert err.count("\n") == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def spawned() -> Iterator[list[subprocess.Popen[str]]]:
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        process.terminate()
        process.communicate(timeout=10)


def wait_ready(port: int, process: subprocess.Popen[str]) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"exited with {process.returncode}: {process.stderr.read() if process.stderr else ''}"
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as response:
                return json.load(response)
        except OSError:
            time.sleep(0.2)
    raise AssertionError("not ready within 30 s")


def test_python_m_gateway_serves_after_migrate(env: dict[str, str], spawned: list) -> None:
    subprocess.run(
        [sys.executable, "-m", "gateway", "migrate"], check=True, capture_output=True, env=os.environ
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port)],
        env=os.environ,
        stderr=subprocess.PIPE,
        text=True,
    )
    spawned.append(process)
    assert wait_ready(port, process) == {
        "status": "ready",
        "checks": {"database": "ok", "scheduler": "ok", "migrations": "ok"},
        "channels": {},
    }


def test_demo_prints_accounts_and_serves_sample_inquiries(spawned: list) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    spawned.append(process)
    wait_ready(port, process)
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(12)]
    password = next(line for line in lines if "password for all" in line).split(": ")[1].strip(" ):\n")
    assert (
        f"  staff inbox:       http://127.0.0.1:{port}/inbox   (sign in with a demo account below)\n" in lines
    )
    login = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/login",
        data=json.dumps({"username": "desk", "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(login, timeout=5) as response:
        token = json.load(response)["token"]
    listing = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/inquiries", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(listing, timeout=5) as response:
        body = json.load(response)
    assert body["total"] == 5
    assert {item["state"] for item in body["items"]} == {"received", "dispatched", "replied"}


def test_wechat_menu_prints_the_configured_menu(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["wechat-menu", "--print"], capsys)
    assert (code, err) == (0, "")
    buttons = json.loads(out)["button"]
    assert buttons[0] == {
        "type": "view",
        "name": "我要问政",
        "url": "http://127.0.0.1:8080/channels/wechat/web?next=/submit",
    }
    assert [sub["name"] for sub in buttons[2]["sub_button"]] == ["办事指南", "使用帮助"]


def test_wechat_menu_needs_the_app_secret(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["wechat-menu"], capsys)
    assert code == 1
    assert err == (
        "wenzheng: pushing the menu needs channels.wechat.app_id and WENZHENG_CHANNELS__WECHAT__APP_SECRET\n"
    )


async def test_wechat_menu_pushes_through_the_menu_api(env: dict[str, str], aiohttp_server: Any) -> None:
    fake = FakeWeChatApi(app_id="wxmenutest", app_secret="menu-secret")
    server = await aiohttp_server(fake.app)
    environ = {
        **os.environ,
        "WENZHENG_CHANNELS__WECHAT__APP_ID": "wxmenutest",
        "WENZHENG_CHANNELS__WECHAT__APP_SECRET": "menu-secret",
        "WENZHENG_CHANNELS__WECHAT__API_BASE": str(server.make_url("")).rstrip("/"),
    }

    async def wenzheng(*argv: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway", *argv, env=environ, stdout=PIPE, stderr=STDOUT, cwd=ROOT
        )
        output, _ = await process.communicate()
        return process.returncode or 0, output.decode()

    assert await wenzheng("wechat-menu") == (0, "wenzheng: menu pushed to wxmenutest (3 buttons)\n")
    assert [button["name"] for button in fake.menu] == ["我要问政", "我的诉求", "服务"]
    assert len(fake.calls_to(MENU_CREATE)) == 1

    fake.fail(MENU_CREATE, 40016)
    code, output = await wenzheng("wechat-menu")
    assert (code, output) == (
        1,
        "wenzheng: WeChat refused the menu: WeChat API error 40016: invalid button size\n",
    )
