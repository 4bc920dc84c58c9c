"""`wenzheng demo`: the default city on a throw-away SQLite database, with demo staff and inquiries.

Nothing needs an account anywhere: the data lives in a temporary directory removed at exit. WeChat is on
in plaintext mode with fresh credentials; its API is a fake mounted on the demo itself, and the citizen
phone page (gateway.demo_phone) chats with the real callback.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from channels.links import case_link
from channels.wechat.simulator import FakeWeChatApi
from channels.weibo.simulator import FakeWeiboApi
from core.actors import Actor
from core.models import Inquiry, ReplyTemplate, Staff, Unit
from core.service import InquiryService, IntakeRequest
from core.vocab import Channel, Kind, Role
from gateway.app import build_service, create_app
from gateway.auth import hash_password
from gateway.db import apply_migrations, open_database
from gateway.demo_phone import API_PREFIX, PHONE_PATH, setup_demo_phone
from gateway.demo_weibo import PAGE_PATH as WEIBO_PATH
from gateway.demo_weibo import demo_weibo_environ, setup_demo_weibo
from gateway.settings import Settings, load_settings
from gateway.units import sync_units
from gateway.wechat_web import menu_json

DEMO_STAFF: list[tuple[str, Role, str | None, str]] = [
    ("admin", Role.ADMIN, None, "系统管理员"),
    ("desk", Role.DESK, None, "李明"),
    ("supervisor", Role.SUPERVISOR, None, "王芳"),
    ("rsj-handler", Role.HANDLER, "rsj", "张伟"),
    ("rsj-spokesperson", Role.SPOKESPERSON, "rsj", "刘洋"),
    ("rsj-leader", Role.LEADER, "rsj", "陈静"),
    ("cgj-handler", Role.HANDLER, "cgj", "赵磊"),
    ("jwjw-handler", Role.HANDLER, "jwjw", "孙强"),
    ("mzj-handler", Role.HANDLER, "mzj", "马丽"),
]
"""Display names are people's names: a reply is signed "<unit> 网络发言人 <name>"."""

SAMPLES: list[tuple[Channel, Kind, str, str, str]] = [
    (
        Channel.WEB,
        Kind.CONSULTATION,
        "shebao",
        "我10月份办理了退休手续，养老金到现在还没有发放，请问什么时候可以领取？",
        "天山区",
    ),
    (
        Channel.WEB,
        Kind.COMPLAINT,
        "chengguan",
        "南湖路某小区门口夜市占道经营，油烟和噪音一直持续到凌晨，严重影响休息。",
        "水磨沟区南湖路",
    ),
    (
        Channel.DESK,
        Kind.CONDUCT,
        "zhengfeng",
        "某政务服务中心窗口工作人员上班时间玩手机，群众排队半小时无人办理。",
        "",
    ),
    (
        Channel.WEB,
        Kind.HELP,
        "shebao",
        "失业保险金申领后一直显示审核中，已经过去一个月了，请帮忙查一下。",
        "新市区",
    ),
    (
        Channel.WEB,
        Kind.SUGGESTION,
        "jiaotong",
        "建议在北京路与苏州路交叉口增设过街天桥，早晚高峰行人过马路很危险。",
        "新市区北京路",
    ),
]

REPLY_TEMPLATES: list[tuple[str | None, str, str]] = [
    (
        None,
        "制度性答复",
        "您好！您反映的问题已收悉，我们进行了认真核查。根据{basis}，现答复如下：\n"
        "（请在此填写核查情况和处理结果）\n"
        "如对答复有疑问，请联系{contact}。感谢您对我们工作的关注和支持。\n{signature}",
    ),
    (
        "rsj",
        "养老金发放答复",
        "您好！经核查，您的基本养老金已核定，将于每月 15 日前发放到您的社会保障卡。"
        "如有疑问，请拨打 12333 或联系{contact}。\n{signature}",
    ),
]
"""(unit code or None for every unit, name, body): the answers a new user can reply with in the inbox."""


def run_demo(host: str, port: int, config: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="wenzheng-demo-") as data_dir:
        base_url = f"http://{host}:{port}"
        settings = load_settings(
            config,
            environ={
                "WENZHENG_DATA_DIR": data_dir,
                "WENZHENG_DATABASE__URL": f"sqlite://{Path(data_dir) / 'demo.sqlite3'}",
                "WENZHENG_PUBLIC_BASE_URL": base_url,
                **demo_wechat_environ(base_url),
                **demo_weibo_environ(base_url),
            },
        )
        password = secrets.token_urlsafe(9)
        answered, waiting = asyncio.run(_seed(settings, password))
        _print_welcome(settings, password, answered, waiting)
        # The WeChat jobs run every 2 seconds: keep their "Running job" lines out of the demo's log.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        web.run_app(demo_app(settings), host=host, port=port, print=None, access_log=None)


def demo_wechat_environ(base_url: str) -> dict[str, str]:
    """WeChat on in plaintext mode with fresh credentials, its API being the fake mounted at ``base_url``."""
    return {
        "WENZHENG_CHANNELS__WECHAT__ENABLED": "true",
        # Prefixed so that YAML never reads them as numbers.
        "WENZHENG_CHANNELS__WECHAT__TOKEN": "demo" + secrets.token_hex(14),
        "WENZHENG_CHANNELS__WECHAT__APP_ID": "wx" + secrets.token_hex(8),
        "WENZHENG_CHANNELS__WECHAT__APP_SECRET": "demo" + secrets.token_hex(14),
        "WENZHENG_CHANNELS__WECHAT__API_BASE": base_url + API_PREFIX,
        "WENZHENG_CHANNELS__WECHAT__OAUTH_BASE": base_url + API_PREFIX,
        "WENZHENG_CHANNELS__WECHAT__DELIVERY_SECONDS": "2",
    }


def demo_app(settings: Settings) -> web.Application:
    """The gateway with the fake WeChat API and the citizen phone page mounted (settings from
    :func:`demo_wechat_environ`)."""
    wechat = settings.channels.wechat
    app = create_app(settings)
    setup_demo_phone(app, FakeWeChatApi(wechat.app_id, wechat.app_secret), wechat.token, menu_json(settings))
    weibo = settings.channels.weibo
    if weibo.enabled:
        setup_demo_weibo(app, FakeWeiboApi(weibo.access_token, weibo.account_uid))
    return app


async def _seed(settings: Settings, password: str) -> tuple[str, str]:
    """Create the demo staff, reply templates and sample inquiries; returns the citizen's links to the
    answered one and to the first one still waiting for the desk (a 社保 inquiry, 人社局's)."""
    await apply_migrations(settings.database_url)
    service = build_service(settings)
    async with open_database(settings.database_url):
        await sync_units(settings.units)
        password_hash = hash_password(password)
        staff = {}
        for username, role, unit_code, name in DEMO_STAFF:
            unit = await Unit.get(code=unit_code) if unit_code else None
            staff[username] = Actor.of_staff(
                await Staff.create(
                    username=username, display_name=name, password_hash=password_hash, role=role, unit=unit
                )
            )
        for unit_code, name, body in REPLY_TEMPLATES:
            unit = await Unit.get(code=unit_code) if unit_code else None
            await ReplyTemplate.create(unit=unit, name=name, body=body, updated_at=datetime.now(UTC))
        inquiries = [await _sample(service, *sample) for sample in SAMPLES]
        desk, handler = staff["desk"], staff["rsj-handler"]
        await service.act(inquiries[1].number, "dispatch", desk, {})
        await service.act(inquiries[4].number, "dispatch", desk, {})
        answered = inquiries[3]
        await service.act(answered.number, "dispatch", desk, {})
        await service.act(answered.number, "acknowledge", handler, {})
        await service.act(
            answered.number,
            "reply",
            staff["rsj-spokesperson"],
            {
                "text": "经核查，您的失业保险金申领材料已审核通过，首笔待遇将于本月底前发放到您的社会保障卡。"
                "如有疑问请致电 12333。",
                "resolved": True,
                "basis": "《失业保险条例》第十六条",
            },
        )
        return _case_link(settings, answered), _case_link(settings, inquiries[0])


def _case_link(settings: Settings, inquiry: Inquiry) -> str:
    return case_link(settings.public_base_url, inquiry)


async def _sample(
    service: InquiryService, channel: Channel, kind: Kind, category: str, text: str, place: str
) -> Inquiry:
    request = IntakeRequest(
        channel=channel,
        kind=kind,
        category=category,
        content=text,
        location=place,
        consent_to_publish=kind != Kind.CONDUCT,
    )
    return await service.intake(request, Actor.citizen())


def _print_welcome(settings: Settings, password: str, answered: str, waiting: str) -> None:
    base = settings.public_base_url
    lines = [
        "",
        "问政通 Wenzheng demo",
        f"  staff inbox:       {base}/inbox   (sign in with a demo account below)",
        f"  admin pages:       {base}/inbox/admin   (as admin: staff, units, categories, reply templates)",
        f"  new case:          {waiting}   (take it through the inbox, then rate it as the citizen)",
        f"  answered case:     {answered}   (rate it as the citizen)",
        f"  citizen form:      {base}/submit",
        f"  citizen phone:     {base}{PHONE_PATH}   (chat with the WeChat channel)",
        f"  citizen weibo:     {base}{WEIBO_PATH}   (@-mention the account as a Weibo user)",
        f"  staff API:         {base}/api/v1/openapi.json",
        f"  demo accounts (password for all: {password}):",
        *(f"    {u:<18} {r.value:<13} {c or 'all units':<10} {n}" for u, r, c, n in DEMO_STAFF),
        "  WeChat and Weibo inquiries are filed under 其他 (unit mzj) until the desk screens them.",
        "  data is temporary and removed when the demo stops (Ctrl+C).",
        "",
    ]
    print("\n".join(lines), file=sys.stdout, flush=True)
