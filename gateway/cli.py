"""The `wenzheng` command: serve, demo, migrate, create-user, import-units, wechat-menu.

Every failure ends with exit status 1 and one line ``wenzheng: <reason>`` on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from tortoise.exceptions import BaseORMException

from channels.wechat.api import WeChatApiError
from core.models import Staff, Unit
from core.vocab import UNIT_ROLES, Role
from gateway.app import build_service, create_app
from gateway.auth import MIN_PASSWORD_LENGTH, hash_password
from gateway.db import DatabaseNotReady, apply_migrations, open_database
from gateway.heap import settle_heap
from gateway.observability import configure_logging
from gateway.settings import ConfigError, Settings, load_settings
from gateway.units import UnitFileError, read_units_file, sync_units
from gateway.wechat_web import menu_json, push_menu


class CommandError(Exception):
    """A clear, one-line reason for the operator."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wenzheng", description="问政通 Wenzheng inquiry gateway")
    parser.add_argument(
        "--config", type=Path, help="config file (default: $WENZHENG_CONFIG or ./config.yaml)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--host", help="address to listen on (default: server.host)")
    serve.add_argument("--port", type=int, help="port to listen on (default: server.port)")

    demo = commands.add_parser("demo", help="run with the default city, demo accounts and sample inquiries")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--host", default="127.0.0.1")

    commands.add_parser("migrate", help="create or upgrade the database schema")

    user = commands.add_parser("create-user", help="create a staff account (password from stdin if piped)")
    user.add_argument("name")
    user.add_argument("--role", required=True, choices=[r.value for r in Role])
    user.add_argument("--unit", help="unit code (required for handler, spokesperson and leader)")
    user.add_argument("--display-name", help="name shown in the inbox (default: NAME)")

    units = commands.add_parser(
        "import-units", help="add or rename units from a CSV (code,name) or YAML file"
    )
    units.add_argument("file", type=Path)

    menu = commands.add_parser("wechat-menu", help="push channels.wechat.menu to the Official Account")
    menu.add_argument("--print", action="store_true", help="print the menu as JSON instead of pushing it")

    # the global option is accepted after the command too: `wenzheng serve --config x.yaml`
    for sub in (serve, demo, user, units, menu, commands.choices["migrate"]):
        sub.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging()
    try:
        if args.command == "demo":
            from gateway.demo import run_demo

            run_demo(args.host, args.port, args.config)
            return 0
        settings = load_settings(args.config)
        COMMANDS[args.command](settings, args)
    except (ConfigError, CommandError, DatabaseNotReady, UnitFileError) as error:
        print(f"wenzheng: {error}", file=sys.stderr)
        return 1
    except (BaseORMException, OSError) as error:
        print(f"wenzheng: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coroutine)


def serve(settings: Settings, args: argparse.Namespace) -> None:
    host = args.host or settings.server.host
    port = settings.server.port if args.port is None else args.port
    build_service(settings)  # bad calendar or office hours: fail before binding the port
    _check_migrated(settings)
    app = create_app(settings)
    app.on_startup.append(settle_heap)  # last: after everything start-up makes
    web.run_app(app, host=host, port=port, print=None, access_log=None, loop=_serving_loop())


def _serving_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop when it is installed (a dependency: it takes some of what the event loop and
    the sockets cost a request off the one thread that serves them all), else asyncio's own."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def _check_migrated(settings: Settings) -> None:
    async def check() -> None:
        async with open_database(settings.database_url):
            pass

    _run(check())


def migrate(settings: Settings, args: argparse.Namespace) -> None:
    if not settings.database.url:
        settings.data_path.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        await apply_migrations(settings.database_url)
        async with open_database(settings.database_url):
            await sync_units(settings.units)

    _run(run())
    print(f"wenzheng: database is up to date ({_redacted(settings.database_url)})")


def _redacted(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    return f"{scheme}{sep}{credentials.split(':')[0]}:***@{host}" if at else url


def read_password(prompt: Callable[[str], str] = getpass.getpass) -> str:
    if sys.stdin.isatty():
        password = prompt("Password: ")
        if password != prompt("Password again: "):
            raise CommandError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CommandError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return password


def create_user(settings: Settings, args: argparse.Namespace) -> None:
    role = Role(args.role)
    if role in UNIT_ROLES and not args.unit:
        raise CommandError(f"a {role.value} belongs to a unit: give --unit CODE")
    if role not in UNIT_ROLES and args.unit:
        raise CommandError(f"a {role.value} sees all units: leave out --unit")
    if not 1 <= len(args.name) <= 64 or not args.name.isprintable():
        raise CommandError("the user name must be 1-64 printable characters")
    password = read_password()

    async def run() -> None:
        async with open_database(settings.database_url):
            unit = await Unit.get_or_none(code=args.unit) if args.unit else None
            if args.unit and unit is None:
                raise CommandError(f"no unit with code {args.unit}")
            if await Staff.exists(username=args.name):
                raise CommandError(f"user {args.name} already exists")
            await Staff.create(
                username=args.name,
                display_name=args.display_name or args.name,
                password_hash=hash_password(password),
                role=role,
                unit=unit,
            )

    _run(run())
    print(f"wenzheng: created {role.value} {args.name}")


def import_units(settings: Settings, args: argparse.Namespace) -> None:
    units = read_units_file(args.file)

    async def run() -> int:
        async with open_database(settings.database_url):
            return await sync_units(units)

    changed = asyncio.run(run())
    print(f"wenzheng: {len(units)} units read, {changed} added or renamed")


def wechat_menu(settings: Settings, args: argparse.Namespace) -> None:
    wechat = settings.channels.wechat
    if not wechat.menu:
        raise CommandError("channels.wechat.menu is empty: there is no menu to push")
    if args.print:
        print(json.dumps(menu_json(settings), ensure_ascii=False, indent=2))
        return
    if not wechat.app_id or not wechat.app_secret:
        raise CommandError(
            "pushing the menu needs channels.wechat.app_id and WENZHENG_CHANNELS__WECHAT__APP_SECRET"
        )
    try:
        menu = asyncio.run(push_menu(settings))
    except WeChatApiError as error:
        raise CommandError(f"WeChat refused the menu: {error}") from None
    print(f"wenzheng: menu pushed to {wechat.app_id} ({len(menu['button'])} buttons)")


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], None]] = {
    "serve": serve,
    "migrate": migrate,
    "create-user": create_user,
    "import-units": import_units,
    "wechat-menu": wechat_menu,
}
