"""Fill a migrated database with a realistic spread of inquiries, fast (bulk inserts, not the service).

The inquiries span the past year (never today, so new intakes cannot collide with their case numbers),
every unit, kind, category, channel and state, with deadlines where the state has them. They are
inserted oldest first, as the service would have stored them, so ids follow the time of receipt.

``python bench/seed.py URL COUNT`` writes the six short texts of ``TEXTS`` (the staff list benchmark);
``--varied`` writes content built from each category's topics, places and house numbers, common terms
(路灯, 社保) and rare ones, and gives a share of the inquiries their intake message and audit events,
so that case pages have timelines (the inbox benchmark, ``bench/inbox/``).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from core.models import Inquiry, InquiryEvent, InquiryMessage, Staff, Unit
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


TOPICS = {
    "shebao": ["养老金没有按时发放", "社保卡补办", "社保缴费基数调整", "医保关系转移", "退休手续办理"],
    "jiuye": ["工资拖欠", "农民工讨薪", "失业保险金审核", "就业补贴申领", "劳动合同纠纷"],
    "yiliao": ["医保报销比例", "医院挂号难", "药品价格过高", "社区诊所服务差", "疫苗接种预约"],
    "zhufang": ["物业费上涨", "电梯故障", "不动产登记", "公租房申请", "楼顶漏水"],
    "jiaotong": ["公交线路调整", "出租车拒载", "共享单车乱停", "红绿灯时长不合理", "路面坑洼"],
    "chengguan": ["路灯坏了", "占道经营", "违章建筑", "井盖缺失", "绿化带被占"],
    "jiaoyu": ["孩子入学材料", "学校周边交通拥堵", "校外培训收费", "学区划分", "校车安全"],
    "huanbao": ["油烟污染", "噪音扰民", "垃圾清运不及时", "河道污染", "工地扬尘"],
    "gongnuan": ["供暖温度不达标", "暖气不热", "供暖费收取", "管道漏水", "停暖没有通知"],
    "gongshui": ["自来水水压低", "停水没有通知", "水质浑浊", "下水道堵塞", "水表异常"],
    "shichang": ["食品安全", "商家虚假宣传", "预付卡退费", "缺斤少两", "营业执照办理"],
    "zhengfeng": ["窗口工作人员态度差", "办事推诿", "吃拿卡要", "办事效率低", "公职人员违规"],
    "qita": ["路灯坏了", "社保卡补办", "流浪动物", "广场舞噪音", "户籍迁移"],
}
"""Each category's topics; 路灯 and 社保 also turn up under 其他 and in second sentences (common terms)."""
PLACES = [
    "南湖路",
    "北京路",
    "友好路",
    "红山",
    "河滩路",
    "新民路",
    "西虹路",
    "长江路",
    "苏州路",
    "昆明路",
    "钱塘江路",
    "克拉玛依路",
    "阿勒泰路",
    "喀什路",
    "光明路",
    "人民路",
    "解放路",
    "中山路",
    "幸福路",
]
ASKS = [
    "请尽快处理。",
    "多次反映无果。",
    "希望相关部门核实。",
    "请问什么时候能解决？",
    "严重影响生活。",
    "已经持续一个多月了。",
    "请给个答复。",
    "建议加强管理。",
    "希望尽快维修。",
]
RARE = ["锅炉房编号GL-{n}", "快递柜{n}号", "老旧小区改造第{n}批"]
"""Rare terms: about one inquiry in 10,000 each, numbered so that most are unique."""
EVENT_SHARE = 0.2
"""The share of inquiries given their intake message and audit events (the rest have none)."""


def varied_text(rng: random.Random, category: str) -> str:
    """A citizen's text: a place, the category's topic, sometimes a second topic, a request."""
    parts = [f"{rng.choice(PLACES)}{rng.randint(1, 999)}号附近{rng.choice(TOPICS[category])}，"]
    if rng.random() < 0.3:
        other = rng.choice(list(TOPICS))
        parts.append(f"还有{rng.choice(TOPICS[other])}的问题，")
    if rng.random() < 0.0003:
        parts.append(rng.choice(RARE).format(n=rng.randint(1, 9999)) + "，")
    parts.append(rng.choice(ASKS))
    return "".join(parts)


def short_text(rng: random.Random, category: str) -> str:
    return rng.choice(TEXTS)


async def seed_inquiries(
    count: int,
    categories: dict[str, str],
    batch: int = 2000,
    text: Callable[[random.Random, str], str] = short_text,
    event_share: float = 0.0,
) -> None:
    """Insert ``count`` inquiries, oldest first; ``categories`` maps a category code to its unit code.
    A share ``event_share`` of them gets an intake message and the audit events of its state."""
    units = {u.code: u.id for u in await Unit.all()}
    codes = list(categories)
    states = [s for s, weight in STATES for _ in range(weight)]
    rng = random.Random(20261127)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    seconds = sorted(rng.randint(86400, 366 * 86400 - 1) for _ in range(count))[::-1]
    per_day: dict[str, int] = {}
    next_id = (await Inquiry.all().order_by("-id").first().values_list("id", flat=True)) or 0
    rows: list[Inquiry] = []
    messages: list[InquiryMessage] = []
    events: list[InquiryEvent] = []
    for ago in seconds:
        created = today - timedelta(seconds=ago)
        day = created.strftime("%Y%m%d")
        per_day[day] = per_day.get(day, 0) + 1
        category = rng.choice(codes)
        state = rng.choice(states)
        dispatched = state != State.RECEIVED
        channel = rng.choice(list(Channel))
        next_id += 1
        content = text(rng, category)
        rows.append(
            Inquiry(
                id=next_id,
                number=f"WZ{day}-{per_day[day]:05d}",
                query_code="BENCH2",
                kind=rng.choice(list(Kind)),
                category=category,
                channel=channel,
                state=state,
                unit_id=units[categories[category]] if dispatched else None,
                content=content,
                created_at=created,
                updated_at=created,
                promised_reply_at=created + timedelta(days=9),
                ack_due_at=created + timedelta(hours=20) if dispatched else None,
                reply_due_at=created + timedelta(days=9)
                if state not in (State.RECEIVED, State.DISPATCHED)
                else None,
                rating_due_at=created + timedelta(days=16) if state == State.REPLIED else None,
                extension_pending_days=5 if state == State.ACKNOWLEDGED and rng.random() < 0.01 else 0,
            )
        )
        if rng.random() < event_share:
            messages.append(
                InquiryMessage(
                    inquiry_id=next_id, direction="in", channel=channel, text=content, created_at=created
                )
            )
            events.extend(_events(next_id, state, created))
        if len(rows) == batch:
            await _flush(rows, messages, events)
    await _flush(rows, messages, events)


def _events(inquiry_id: int, state: State, created: datetime) -> list[InquiryEvent]:
    """The audit trail that leads to ``state``: intake, then dispatch, acknowledgement, reply, close."""
    steps = [("intake", "", State.RECEIVED)]
    path = [State.DISPATCHED, State.ACKNOWLEDGED, State.REPLIED, State.CLOSED]
    if state == State.RETURNED:
        steps += [
            ("dispatch", State.RECEIVED, State.DISPATCHED),
            ("return", State.DISPATCHED, State.RETURNED),
        ]
    elif state != State.RECEIVED:
        actions = ["dispatch", "acknowledge", "reply", "close"]
        before = State.RECEIVED
        for action, after in zip(actions, path[: path.index(state) + 1], strict=False):
            steps.append((action, before, after))
            before = after
    return [
        InquiryEvent(
            inquiry_id=inquiry_id,
            action=action,
            actor_kind="system" if action == "intake" else "staff",
            actor_name="bench",
            from_state=str(before),
            to_state=str(after),
            data={},
            created_at=created + timedelta(hours=3 * i),
        )
        for i, (action, before, after) in enumerate(steps)
    ]


async def _flush(rows: list[Inquiry], messages: list[InquiryMessage], events: list[InquiryEvent]) -> None:
    for model, batch in ((Inquiry, rows), (InquiryMessage, messages), (InquiryEvent, events)):
        if batch:
            await model.bulk_create(batch)  # type: ignore[attr-defined]
            batch.clear()


async def prepare(url: str, count: int, varied: bool = False) -> None:
    """Migrate, add the city's units, ``count`` inquiries, and a desk and an rsj handler account."""
    settings = load_settings(ROOT / "config.yaml", environ={"WENZHENG_DATABASE__URL": url})
    await apply_migrations(url)
    async with open_database(url):
        await sync_units(settings.units)
        started = time.perf_counter()
        categories = {c.code: c.unit for c in settings.categories}
        if varied:
            await seed_inquiries(count, categories, text=varied_text, event_share=EVENT_SHARE)
        else:
            await seed_inquiries(count, categories)
        print(f"  seeded {count} inquiries in {time.perf_counter() - started:.1f} s", flush=True)
        password_hash = hash_password(PASSWORD)
        await Staff.create(username="desk", display_name="desk", password_hash=password_hash, role="desk")
        rsj = await Unit.get(code="rsj")
        await Staff.create(
            username="rsj", display_name="rsj", password_hash=password_hash, role="handler", unit=rsj
        )
    if url.startswith("postgres"):
        connection = await asyncpg.connect(url)
        # the ids were given (so that messages and events could refer to them): move the sequence past them
        await connection.execute(
            "SELECT setval(pg_get_serial_sequence('inquiry', 'id'), max(id)) FROM inquiry"
        )
        await connection.execute("VACUUM ANALYZE")
        await connection.close()
    else:
        async with open_database(url):
            await Inquiry._meta.db.execute_script("ANALYZE")


if __name__ == "__main__":
    # its own process: Tortoise keeps one dialect per process
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("count", type=int)
    parser.add_argument("--varied", action="store_true", help="varied content, messages and events")
    arguments = parser.parse_args()
    asyncio.run(prepare(arguments.url, arguments.count, arguments.varied))
