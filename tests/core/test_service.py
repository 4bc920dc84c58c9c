"""InquiryService on a real database: intake, every action's effects, audit events, refusals, races."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from core.actions import HANDLERS, Context
from core.actors import Actor
from core.calendar import DayOverride, WorkCalendar
from core.deadlines import Clock, DeadlineCalculator, DeadlinePolicy
from core.errors import ConcurrentUpdate, Forbidden, IllegalAction, InvalidInput, NotFound
from core.models import Inquiry, InquiryEvent, InquiryMessage, Unit
from core.office_hours import BEIJING, OfficeHours
from core.service import InquiryService, IntakeRequest, available_actions
from core.states import Action, State
from core.vocab import Channel, Kind

pytestmark = pytest.mark.usefixtures("db")

# Friday 2026-11-27 11:00 Beijing, inside winter office hours
START = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def svc(service: InquiryService, clock: FakeClock) -> InquiryService:
    return InquiryService(service.rules, service.deadlines, clock=clock)


@pytest.fixture
async def people(make_staff) -> dict[str, Actor]:
    rows = {
        "desk": await make_staff("desk", "desk"),
        "rsj": await make_staff("rsj-h", "handler", "rsj"),
        "rsj2": await make_staff("rsj-h2", "handler", "rsj"),
        "cgj": await make_staff("cgj-h", "handler", "cgj"),
        "jwjw": await make_staff("jwjw-h", "handler", "jwjw"),
        "supervisor": await make_staff("sup", "supervisor"),
    }
    return {name: Actor.of_staff(row) for name, row in rows.items()}


def request(**overrides: object) -> IntakeRequest:
    fields: dict[str, object] = {
        "channel": Channel.WEB,
        "kind": Kind.CONSULTATION,
        "category": "shebao",
        "content": "退休后养老金什么时候发放？",
        "contact_name": "张三",
        "contact_phone": "13912345678",
        "consent_to_publish": True,
        "raw": "content=...",
    }
    return IntakeRequest(**(fields | overrides))  # type: ignore[arg-type]


async def events_of(inquiry: Inquiry) -> list[tuple[str, str, str, str]]:
    rows = await InquiryEvent.filter(inquiry_id=inquiry.id).order_by("id")
    return [(e.action, e.actor_name, e.from_state, e.to_state) for e in rows]


async def test_intake_stores_the_inquiry_its_message_and_an_event(svc: InquiryService) -> None:
    inquiry = await svc.intake(request(), Actor.citizen())
    assert inquiry.number == "WZ20261127-00001"
    assert re.fullmatch(r"[2-9A-HJ-KM-NP-Z]{6}", inquiry.query_code)
    assert inquiry.state == State.RECEIVED
    assert (inquiry.contact_name, inquiry.contact_phone) == ("张三", "13912345678")
    expected = svc.deadlines.due(START, DeadlinePolicy(Clock.working_days, 7))
    assert inquiry.promised_reply_at == expected.due_at == datetime(2026, 12, 8, 15, 59, 59, tzinfo=UTC)
    message = await InquiryMessage.get(inquiry_id=inquiry.id)
    assert (message.direction, message.text, message.payload) == (
        "in",
        "退休后养老金什么时候发放？",
        "content=...",
    )
    assert await events_of(inquiry) == [("intake", "来信人", "", "received")]


async def test_case_numbers_follow_the_beijing_day(svc: InquiryService, clock: FakeClock) -> None:
    await svc.intake(request(), Actor.citizen())
    clock.now = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)  # 00:30 on the 28th in Beijing
    assert (await svc.intake(request(), Actor.citizen())).number == "WZ20261128-00001"


async def test_concurrent_intakes_get_distinct_consecutive_numbers(svc: InquiryService) -> None:
    inquiries = await asyncio.gather(*(svc.intake(request(), Actor.citizen()) for _ in range(30)))
    numbers = sorted(i.number for i in inquiries)
    assert numbers == [f"WZ20261127-{n:05d}" for n in range(1, 31)]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"category": "nope"}, "没有分类 nope"),
        ({"content": "   "}, "诉求内容不能为空"),
        ({"content": "字" * 5001}, "诉求内容不能超过 5000 字"),
    ],
)
async def test_intake_refuses_bad_requests(svc: InquiryService, overrides: dict, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        await svc.intake(request(**overrides), Actor.citizen())
    assert await Inquiry.all().count() == 0


async def test_only_the_desk_registers_for_staff(svc: InquiryService, people: dict[str, Actor]) -> None:
    with pytest.raises(Forbidden):
        await svc.intake(request(channel=Channel.DESK), people["rsj"])
    assert (await svc.intake(request(channel=Channel.DESK), people["desk"])).channel == Channel.DESK


async def test_a_whole_life_with_deadlines_and_audit(
    svc: InquiryService, clock: FakeClock, people: dict[str, Actor]
) -> None:
    number = (await svc.intake(request(), Actor.citizen())).number
    clock.advance(hours=1)  # 12:00 Beijing
    inquiry = await svc.act(number, "dispatch", people["desk"], {})
    assert inquiry.state == State.DISPATCHED
    assert inquiry.unit_id == (await Unit.get(code="rsj")).id
    # 8 working hours from Fri 12:00 (winter: 10-14, 15:30-19:30): 2h + 4h Friday, 2h Monday → Mon 12:00
    assert inquiry.ack_due_at == datetime(2026, 11, 30, 12, 0, tzinfo=BEIJING)
    clock.advance(hours=2)  # Fri 14:00 Beijing
    inquiry = await svc.act(number, "acknowledge", people["rsj"], {})
    # 7 working days from the next day: Mon 11-30 … Tue 12-08, end of day
    assert inquiry.reply_due_at == datetime(2026, 12, 8, 23, 59, 59, tzinfo=BEIJING)
    inquiry = await svc.act(
        number, "reply", people["rsj"], {"text": "已发放。", "resolved": True, "basis": "条例"}
    )
    assert (inquiry.state, inquiry.reply_signature) == (State.REPLIED, "市人力资源和社会保障局 网络发言人")
    assert inquiry.rating_due_at == clock.now + timedelta(days=7)
    outbound = await InquiryMessage.get(inquiry_id=inquiry.id, direction="out")
    assert (outbound.kind, outbound.text) == ("reply", "已发放。")
    inquiry = await svc.act(number, "rate", Actor.citizen(), {"rating": "satisfied", "comment": "谢谢"})
    assert (inquiry.state, inquiry.close_reason, inquiry.rating) == (State.CLOSED, "rated", "satisfied")
    assert inquiry.version == 4
    assert await events_of(inquiry) == [
        ("intake", "来信人", "", "received"),
        ("dispatch", "desk", "received", "dispatched"),
        ("acknowledge", "rsj-h", "dispatched", "acknowledged"),
        ("reply", "rsj-h", "acknowledged", "replied"),
        ("rate", "来信人", "replied", "closed"),
    ]


async def test_an_illegal_action_is_refused_and_leaves_no_trace(
    svc: InquiryService, people: dict[str, Actor]
) -> None:
    inquiry = await svc.intake(request(), Actor.citizen())
    with pytest.raises(IllegalAction, match="诉求当前状态为「已受理」，不能执行「批准延期」"):
        await svc.act(inquiry.number, "approve-extension", people["desk"], {})
    unchanged = await Inquiry.get(id=inquiry.id)
    assert (unchanged.state, unchanged.version) == (State.RECEIVED, 0)
    assert len(await events_of(inquiry)) == 1


async def test_roles_and_units_are_enforced(svc: InquiryService, people: dict[str, Actor]) -> None:
    number = (await svc.intake(request(), Actor.citizen())).number
    with pytest.raises(Forbidden):
        await svc.act(number, "dispatch", people["supervisor"], {})
    with pytest.raises(NotFound):  # not yet the unit's: invisible to it
        await svc.act(number, "dispatch", people["rsj"], {})
    await svc.act(number, "dispatch", people["desk"], {})
    with pytest.raises(NotFound):
        await svc.get(number, people["cgj"])
    with pytest.raises(NotFound):
        await svc.act(number, "acknowledge", people["cgj"], {})
    with pytest.raises(Forbidden):
        await svc.act(number, "acknowledge", people["desk"], {})
    with pytest.raises(Forbidden):
        await svc.act(number, "rate", people["desk"], {"rating": "satisfied"})
    with pytest.raises(Forbidden):
        await svc.act(number, "dispatch", Actor.citizen(), {})
    await svc.act(number, "note", people["supervisor"], {"text": "请抓紧办理"})
    assert (await svc.get(number, people["rsj"])).version == 1  # a note does not bump the version


async def test_two_conflicting_actions_at_once_exactly_one_wins(
    svc: InquiryService, people: dict[str, Actor]
) -> None:
    number = (await svc.intake(request(), Actor.citizen())).number
    results = await asyncio.gather(
        svc.act(number, "dispatch", people["desk"], {"unit": "rsj"}),
        svc.act(number, "dispatch", people["desk"], {"unit": "cgj"}),
        return_exceptions=True,
    )
    wins = [r for r in results if isinstance(r, Inquiry)]
    losses = [r for r in results if isinstance(r, IllegalAction)]
    assert (len(wins), len(losses)) == (1, 1)
    stored = await Inquiry.get(number=number)
    assert (stored.unit_id, stored.version) == (wins[0].unit_id, 1)
    assert [e[0] for e in await events_of(stored)].count("dispatch") == 1


async def test_concurrent_acknowledgements_by_two_handlers(
    svc: InquiryService, people: dict[str, Actor]
) -> None:
    number = (await svc.intake(request(), Actor.citizen())).number
    await svc.act(number, "dispatch", people["desk"], {})
    results = await asyncio.gather(
        *(svc.act(number, "acknowledge", people[who], {}) for who in ("rsj", "rsj2", "rsj", "rsj2")),
        return_exceptions=True,
    )
    assert sum(isinstance(r, Inquiry) for r in results) == 1
    assert all(isinstance(r, Inquiry | IllegalAction) for r in results)
    events = await events_of(await Inquiry.get(number=number))
    assert [e[0] for e in events].count("acknowledge") == 1


async def test_compare_and_set_refuses_a_stale_version(svc: InquiryService, people: dict[str, Actor]) -> None:
    """The race the gather tests may or may not hit: a write based on a read someone else overtook."""
    number = (await svc.intake(request(), Actor.citizen())).number
    stale = await Inquiry.get(number=number)
    await svc.act(number, "dispatch", people["desk"], {})
    context = Context(stale, people["desk"], {"reason": "重复"}, START, svc.rules, svc.deadlines)
    change = await HANDLERS[Action.REJECT](context)
    with pytest.raises(ConcurrentUpdate, match="刚被他人更新"):
        await svc._apply(stale, Action.REJECT, people["desk"], State.CLOSED, change, START)
    assert (await Inquiry.get(number=number)).state == State.DISPATCHED


async def test_conduct_complaints_go_to_the_discipline_unit_only(
    svc: InquiryService, people: dict[str, Actor]
) -> None:
    inquiry = await svc.intake(request(kind=Kind.CONDUCT, category="shebao"), Actor.citizen())
    assert (inquiry.urgent, inquiry.consent_to_publish) == (True, False)
    with pytest.raises(InvalidInput, match="只能交由纪委监委"):
        await svc.act(inquiry.number, "dispatch", people["desk"], {"unit": "rsj"})
    dispatched = await svc.act(inquiry.number, "dispatch", people["desk"], {})
    assert dispatched.unit_id == (await Unit.get(code="jwjw")).id
    with pytest.raises(NotFound):
        await svc.get(inquiry.number, people["rsj"])


async def test_extensions_are_capped_and_move_the_deadline_by_working_days(
    svc: InquiryService, people: dict[str, Actor]
) -> None:
    number = (await svc.intake(request(), Actor.citizen())).number
    await svc.act(number, "dispatch", people["desk"], {})
    due = (await svc.act(number, "acknowledge", people["rsj"], {})).reply_due_at
    with pytest.raises(InvalidInput, match="1 到 15 之间"):
        await svc.act(number, "request-extension", people["rsj"], {"days": 16, "reason": "复杂"})
    await svc.act(number, "request-extension", people["rsj"], {"days": 10, "reason": "需现场核查"})
    with pytest.raises(IllegalAction, match="待审核"):
        await svc.act(number, "request-extension", people["rsj"], {"days": 1, "reason": "再延"})
    moved = await svc.act(number, "approve-extension", people["desk"], {})
    assert moved.reply_due_at == datetime(2026, 12, 22, 23, 59, 59, tzinfo=BEIJING)  # 12-08 + 10 working days
    assert (due, moved.extension_days) == (datetime(2026, 12, 8, 23, 59, 59, tzinfo=BEIJING), 10)
    await svc.act(number, "request-extension", people["rsj"], {"days": 5, "reason": "再延"})
    await svc.act(number, "refuse-extension", people["desk"], {"reason": "不予批准"})
    with pytest.raises(InvalidInput, match="1 到 5 之间"):
        await svc.act(number, "request-extension", people["rsj"], {"days": 6, "reason": "再延"})


async def test_extension_after_the_deadline_is_refused(
    svc: InquiryService, clock: FakeClock, people: dict[str, Actor]
) -> None:
    number = (await svc.intake(request(), Actor.citizen())).number
    await svc.act(number, "dispatch", people["desk"], {})
    await svc.act(number, "acknowledge", people["rsj"], {})
    clock.advance(days=30)
    with pytest.raises(IllegalAction, match="期限届满前"):
        await svc.act(number, "request-extension", people["rsj"], {"days": 2, "reason": "晚了"})


async def replied(svc: InquiryService, people: dict[str, Actor], **overrides: object) -> str:
    number = (await svc.intake(request(**overrides), Actor.citizen())).number
    await svc.act(number, "dispatch", people["desk"], {})
    await svc.act(number, "acknowledge", people["rsj"], {})
    await svc.act(number, "reply", people["rsj"], {"text": "答复", "resolved": False})
    return number


async def test_unsatisfied_rating_can_be_reopened_once(
    svc: InquiryService, clock: FakeClock, people: dict[str, Actor]
) -> None:
    number = await replied(svc, people)
    await svc.act(number, "rate", Actor.citizen(), {"rating": "unsatisfied"})
    clock.advance(days=1)
    reopened = await svc.act(number, "reopen", people["desk"], {})
    assert (reopened.state, reopened.reopen_count, reopened.rating) == (State.ACKNOWLEDGED, 1, None)
    assert reopened.reply_due_at == svc.deadlines.due(clock.now, DeadlinePolicy(Clock.working_days, 7)).due_at
    await svc.act(number, "reply", people["rsj"], {"text": "再次答复", "resolved": True})
    closed = await svc.act(number, "rate", Actor.citizen(), {"rating": "unsatisfied"})
    assert "reopen" not in available_actions(closed, people["desk"], svc.rules, clock.now)
    with pytest.raises(IllegalAction, match="重办 1 次"):
        await svc.act(number, "reopen", people["desk"], {})


async def test_only_unsatisfied_ratings_reopen(svc: InquiryService, people: dict[str, Actor]) -> None:
    number = await replied(svc, people)
    await svc.act(number, "rate", Actor.citizen(), {"rating": "basically_satisfied"})
    with pytest.raises(IllegalAction, match="不满意"):
        await svc.act(number, "reopen", people["desk"], {})


async def test_the_rating_window_closes_unrated_only_when_it_has_passed(
    svc: InquiryService, clock: FakeClock, people: dict[str, Actor]
) -> None:
    number = await replied(svc, people)
    with pytest.raises(IllegalAction, match="评价期尚未结束"):
        await svc.act(number, "close-unrated", Actor.system(), {})
    clock.advance(days=7, seconds=1)
    closed = await svc.act(number, "close-unrated", Actor.system(), {})
    assert (closed.state, closed.close_reason) == (State.CLOSED, "unrated")


async def test_publish_needs_consent_and_a_rated_or_unrated_close(
    svc: InquiryService, people: dict[str, Actor]
) -> None:
    number = await replied(svc, people)
    await svc.act(number, "rate", Actor.citizen(), {"rating": "satisfied"})
    published = await svc.act(number, "publish", people["desk"], {})
    assert published.published_at is not None
    with pytest.raises(IllegalAction, match="已公开"):
        await svc.act(number, "publish", people["desk"], {})
    private = await replied(svc, people, consent_to_publish=False)
    await svc.act(private, "rate", Actor.citizen(), {"rating": "satisfied"})
    with pytest.raises(IllegalAction, match="未同意公开"):
        await svc.act(private, "publish", people["desk"], {})


async def test_desk_closing_paths(svc: InquiryService, people: dict[str, Actor]) -> None:
    main = (await svc.intake(request(), Actor.citizen())).number
    duplicate = (await svc.intake(request(), Actor.citizen())).number
    merged = await svc.act(duplicate, "merge", people["desk"], {"into": main.lower()})
    assert (merged.close_reason, merged.merged_into_id) == ("merged", (await Inquiry.get(number=main)).id)
    rejected = await svc.act(
        (await svc.intake(request(), Actor.citizen())).number,
        "reject",
        people["desk"],
        {"reason": "非本市事项"},
    )
    assert rejected.close_reason == "rejected"
    out = await InquiryMessage.get(inquiry_id=rejected.id, direction="out")
    assert out.text == "您的诉求不予受理。理由：非本市事项"


async def test_available_actions_match_what_act_allows(svc: InquiryService, people: dict[str, Actor]) -> None:
    number = (await svc.intake(request(), Actor.citizen())).number
    inquiry = await svc.get(number, people["desk"])
    assert available_actions(inquiry, people["desk"], svc.rules, START) == [
        "dispatch",
        "answer-directly",
        "reject",
        "redirect",
        "merge",
        "note",
    ]
    inquiry = await svc.act(number, "dispatch", people["desk"], {})
    assert available_actions(inquiry, people["rsj"], svc.rules, START) == ["acknowledge", "return", "note"]
    assert available_actions(inquiry, people["cgj"], svc.rules, START) == []
    inquiry = await svc.act(number, "acknowledge", people["rsj"], {})
    assert available_actions(inquiry, people["desk"], svc.rules, START) == ["note"]
    inquiry = await svc.act(number, "request-extension", people["rsj"], {"days": 2, "reason": "核查"})
    assert available_actions(inquiry, people["desk"], svc.rules, START) == [
        "approve-extension",
        "refuse-extension",
        "note",
    ]


async def test_recompute_extends_a_provisional_deadline_once_the_year_is_published(
    svc: InquiryService, clock: FakeClock, people: dict[str, Actor]
) -> None:
    clock.now = datetime(2026, 12, 28, 4, 0, tzinfo=UTC)  # Monday 12:00 Beijing
    number = (await svc.intake(request(), Actor.citizen())).number
    await svc.act(number, "dispatch", people["desk"], {})
    acknowledged = await svc.act(number, "acknowledge", people["rsj"], {})
    # the Monday–Friday guess for 2027 counts Friday 2027-01-01 as a working day
    assert acknowledged.reply_due_at == datetime(2027, 1, 6, 23, 59, 59, tzinfo=BEIJING)
    assert acknowledged.deadlines_provisional
    published = WorkCalendar([DayOverride(date(2027, 1, 1), "holiday", "元旦")], complete_years=[2027])
    later = InquiryService(svc.rules, DeadlineCalculator(published, OfficeHours.default()), clock=clock)
    assert await later.recompute_provisional() == 1
    stored = await Inquiry.get(number=number)
    assert stored.reply_due_at == datetime(2027, 1, 7, 23, 59, 59, tzinfo=BEIJING)
    assert not stored.deadlines_provisional
    assert (await events_of(stored))[-1][0] == "recompute-deadlines"
    assert await later.recompute_provisional() == 0


async def test_recompute_never_shortens_a_communicated_deadline(
    svc: InquiryService, clock: FakeClock, people: dict[str, Actor]
) -> None:
    clock.now = datetime(2026, 12, 28, 4, 0, tzinfo=UTC)
    number = (await svc.intake(request(), Actor.citizen())).number
    await svc.act(number, "dispatch", people["desk"], {})
    await svc.act(number, "acknowledge", people["rsj"], {})
    # a notice that makes Saturday 2027-01-02 a make-up working day would give an earlier date
    published = WorkCalendar([DayOverride(date(2027, 1, 2), "workday", "调休")], complete_years=[2027])
    later = InquiryService(svc.rules, DeadlineCalculator(published, OfficeHours.default()), clock=clock)
    await later.recompute_provisional()
    stored = await Inquiry.get(number=number)
    assert stored.reply_due_at == datetime(2027, 1, 6, 23, 59, 59, tzinfo=BEIJING)
    assert not stored.deadlines_provisional


async def test_the_sweep_closes_only_expired_rating_windows(
    svc: InquiryService, clock: FakeClock, people: dict[str, Actor]
) -> None:
    early = await replied(svc, people)
    clock.advance(days=2)
    late = await replied(svc, people)
    clock.advance(days=6)  # early's window (7 days) has passed, late's has not
    assert await svc.close_expired_ratings() == 1
    assert (await Inquiry.get(number=early)).close_reason == "unrated"
    assert (await Inquiry.get(number=late)).state == State.REPLIED
    assert (await events_of(await Inquiry.get(number=early)))[-1][:2] == ("close-unrated", "系统")
    assert await svc.close_expired_ratings() == 0


async def test_intake_is_idempotent_on_the_dedupe_key(svc: InquiryService) -> None:
    first = await svc.intake(request(dedupe_key="wechat:o1:1001"), Actor.citizen())
    again = await svc.intake(request(dedupe_key="wechat:o1:1001", content="重发"), Actor.citizen())
    assert (again.id, again.number) == (first.id, first.number)
    together = await asyncio.gather(
        *(svc.intake(request(dedupe_key="k2"), Actor.citizen()) for _ in range(3))
    )
    assert len({i.number for i in together}) == 1
    assert await Inquiry.all().count() == 2
    assert await InquiryMessage.filter(dedupe_key="k2").count() == 1


async def test_intakes_arriving_together_each_get_their_own_inquiry_and_event(svc: InquiryService) -> None:
    made = await asyncio.gather(
        *(svc.intake(request(content=f"第{n}件", dedupe_key=f"d{n}"), Actor.citizen()) for n in range(20))
    )
    for n, inquiry in enumerate(made):
        stored = await Inquiry.get(id=inquiry.id)
        assert (stored.number, stored.content) == (inquiry.number, f"第{n}件")
        assert await events_of(stored) == [("intake", "来信人", "", "received")]
        assert (await InquiryMessage.get(inquiry_id=inquiry.id)).dedupe_key == f"d{n}"


async def test_a_channel_identity_finds_the_same_citizen(svc: InquiryService) -> None:
    first = await svc.intake(request(channel=Channel.WECHAT, identity="openid-1"), Actor.citizen())
    second = await svc.intake(request(channel=Channel.WECHAT, identity="openid-1"), Actor.citizen())
    other = await svc.intake(request(channel=Channel.WEIBO, identity="openid-1"), Actor.citizen())
    assert first.citizen_id == second.citizen_id != other.citizen_id
    assert first.citizen_id is not None


async def test_a_conduct_complaint_runs_on_the_discipline_units_urgent_clock(
    svc: InquiryService, people: dict[str, Actor]
) -> None:
    inquiry = await svc.intake(request(kind=Kind.CONDUCT, category="chengguan"), Actor.citizen())
    dispatched = await svc.act(inquiry.number, "dispatch", people["desk"], {})
    assert dispatched.ack_due_at == START + timedelta(hours=2)  # 政风行风: 2 natural hours


async def test_a_return_or_reply_clears_a_pending_extension(
    svc: InquiryService, people: dict[str, Actor]
) -> None:
    number = (await svc.intake(request(), Actor.citizen())).number
    await svc.act(number, "dispatch", people["desk"], {})
    await svc.act(number, "acknowledge", people["rsj"], {})
    await svc.act(number, "request-extension", people["rsj"], {"days": 3, "reason": "核查"})
    replied = await svc.act(number, "reply", people["rsj"], {"text": "答复", "resolved": True})
    assert (replied.extension_pending_days, replied.extension_pending_reason) == (0, "")


@pytest.mark.parametrize(
    ("field", "limit"),
    [("location", 200), ("contact_name", 64), ("contact_phone", 32), ("dedupe_key", 200), ("identity", 128)],
)
async def test_intake_refuses_overlong_fields(svc: InquiryService, field: str, limit: int) -> None:
    with pytest.raises(InvalidInput, match=f"字段 {field} 不能超过 {limit} 字"):
        await svc.intake(request(**{field: "x" * (limit + 1)}), Actor.citizen())
    assert await Inquiry.all().count() == 0


async def test_an_action_on_a_case_that_changed_since_it_was_read_is_refused(
    svc: InquiryService, people: dict[str, Actor]
) -> None:
    desk = people["desk"]
    inquiry = await svc.intake(request(), Actor.citizen())
    seen = inquiry.version
    await svc.act(inquiry.number, "dispatch", desk, {}, expected_version=seen)
    with pytest.raises(ConcurrentUpdate, match="已被他人更新"):
        await svc.act(inquiry.number, "reject", desk, {"reason": "重复提交"}, expected_version=seen)
    assert (await Inquiry.get(id=inquiry.id)).state == State.DISPATCHED
