"""What each action needs from its caller and what it changes on the inquiry.

Each handler validates the action's data, checks the guards that depend on the inquiry's data, and
returns a :class:`Change`; :mod:`core.service` applies it with compare-and-set and writes the event.
Handlers never write to the database themselves.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core.actors import Actor
from core.deadlines import Deadline, DeadlineCalculator
from core.errors import IllegalAction, InvalidInput
from core.messages import InboundMessage
from core.models import Inquiry, Staff, Unit
from core.rules import CategoryRule, Rules
from core.states import Action
from core.vocab import RATING_LABELS, CloseReason, Kind, Rating, Role

MAX_TEXT = 5000
MAX_REASON = 1000


@dataclass
class Change:
    fields: dict[str, Any] = field(default_factory=dict)
    event: dict[str, Any] = field(default_factory=dict)
    outbound: str | None = None
    """Text for the citizen on the inquiry's own channel, stored as an outbound message."""
    inbound: InboundMessage | None = None
    """The citizen's chat message that took the action (a rating replied in chat), stored on the inquiry
    with its dedupe key, so that the platform's retry of it finds it taken."""


@dataclass(frozen=True)
class Context:
    inquiry: Inquiry
    actor: Actor
    data: Mapping[str, Any]
    now: datetime
    rules: Rules
    deadlines: DeadlineCalculator


Handler = Callable[[Context], Awaitable[Change]]


def text_field(data: Mapping[str, Any], name: str, *, limit: int = MAX_TEXT, required: bool = True) -> str:
    value = data.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"字段 {name} 应为文本")
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"缺少字段 {name}")
    if len(value) > limit:
        raise InvalidInput(f"字段 {name} 超过 {limit} 字")
    return value


def int_field(data: Mapping[str, Any], name: str, *, low: int, high: int) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"字段 {name} 应为整数")
    if not low <= value <= high:
        raise InvalidInput(f"字段 {name} 应在 {low} 到 {high} 之间")
    return value


async def unit_field(data: Mapping[str, Any], name: str) -> Unit:
    code = text_field(data, name, limit=32)
    unit = await Unit.get_or_none(code=code, active=True)
    if unit is None:
        raise InvalidInput(f"没有编码为 {code} 的单位")
    return unit


async def _dispatch_target(ctx: Context, *, default_to_category: bool) -> Unit:
    """The unit to dispatch to; conduct complaints go to the discipline-inspection unit only."""
    inquiry, rules = ctx.inquiry, ctx.rules
    if default_to_category and not ctx.data.get("unit"):
        code = (
            rules.conduct_unit if inquiry.kind == Kind.CONDUCT else rules.category(inquiry.category).unit_code
        )
        unit = await Unit.get_or_none(code=code, active=True)
        if unit is None:
            raise InvalidInput(f"分类 {inquiry.category} 的承办单位 {code} 不存在，请指定 unit")
    else:
        unit = await unit_field(ctx.data, "unit")
    if inquiry.kind == Kind.CONDUCT and unit.code != rules.conduct_unit:
        raise InvalidInput("政风行风投诉只能交由纪委监委办理，不得交给被反映单位")
    return unit


def _rule(ctx: Context) -> CategoryRule:
    return ctx.rules.deadlines_for(ctx.inquiry.kind, ctx.inquiry.category)


def _ack_deadline(ctx: Context) -> Deadline:
    return ctx.deadlines.due(ctx.now, _rule(ctx).ack)


def _reply_deadline(ctx: Context) -> Deadline:
    return ctx.deadlines.due(ctx.now, _rule(ctx).reply)


def _dispatched_to(ctx: Context, unit: Unit) -> Change:
    """A fresh acknowledgement window at ``unit``; any earlier reply window no longer applies."""
    due = _ack_deadline(ctx)
    return Change(
        fields={
            "unit_id": unit.id,
            "dispatched_at": ctx.now,
            "ack_due_at": due.due_at,
            "acknowledged_at": None,
            "reply_due_at": None,
            "deadlines_provisional": due.provisional,
        },
        event={"unit": unit.code, "unit_name": unit.name, "ack_due_at": due.due_at.isoformat()},
    )


async def dispatch(ctx: Context) -> Change:
    return _dispatched_to(ctx, await _dispatch_target(ctx, default_to_category=True))


async def redispatch(ctx: Context) -> Change:
    unit = await _dispatch_target(ctx, default_to_category=False)
    if unit.id == ctx.inquiry.unit_id:  # type: ignore[attr-defined]
        raise InvalidInput("改派须选择另一个单位；如退单理由不成立，请驳回退单")
    return _dispatched_to(ctx, unit)


async def refuse_return(ctx: Context) -> Change:
    reason = text_field(ctx.data, "reason", limit=MAX_REASON)
    unit = await Unit.get(id=ctx.inquiry.unit_id)  # type: ignore[attr-defined]
    change = _dispatched_to(ctx, unit)
    change.event["reason"] = reason
    return change


async def acknowledge(ctx: Context) -> Change:
    due = _reply_deadline(ctx)
    return Change(
        fields={
            "acknowledged_at": ctx.now,
            "reply_due_at": due.due_at,
            "deadlines_provisional": due.provisional,
        },
        event={"reply_due_at": due.due_at.isoformat()},
    )


async def return_(ctx: Context) -> Change:
    reason = text_field(ctx.data, "reason", limit=MAX_REASON)
    return Change(
        fields={
            "return_count": ctx.inquiry.return_count + 1,
            "extension_pending_days": 0,
            "extension_pending_reason": "",
        },
        event={"reason": reason},
    )


async def request_extension(ctx: Context) -> Change:
    remaining = ctx.rules.extension_cap_days - ctx.inquiry.extension_days  # > 0: see refusal()
    days = int_field(ctx.data, "days", low=1, high=remaining)
    reason = text_field(ctx.data, "reason", limit=MAX_REASON)
    return Change(
        fields={"extension_pending_days": days, "extension_pending_reason": reason},
        event={"days": days, "reason": reason},
    )


async def approve_extension(ctx: Context) -> Change:
    inquiry = ctx.inquiry
    days = inquiry.extension_pending_days
    if inquiry.reply_due_at is None:
        raise IllegalAction("诉求尚无答复期限，无法延期")
    current = Deadline(due_at=inquiry.reply_due_at, provisional=inquiry.deadlines_provisional)
    moved = ctx.deadlines.extend(current, days)
    return Change(
        fields={
            "reply_due_at": moved.due_at,
            "deadlines_provisional": moved.provisional,
            "extension_days": inquiry.extension_days + days,
            "extension_count": inquiry.extension_count + 1,
            "extension_pending_days": 0,
            "extension_pending_reason": "",
        },
        event={"days": days, "reply_due_at": moved.due_at.isoformat()},
        outbound=f"您的诉求承办单位已获准延期 {days} 个工作日办理。",
    )


async def refuse_extension(ctx: Context) -> Change:
    days = ctx.inquiry.extension_pending_days
    reason = text_field(ctx.data, "reason", limit=MAX_REASON)
    return Change(
        fields={"extension_pending_days": 0, "extension_pending_reason": ""},
        event={"days": days, "reason": reason},
    )


def _answered(ctx: Context, text: str, signature: str) -> dict[str, Any]:
    return {
        "reply_text": text,
        "reply_signature": signature,
        "replied_at": ctx.now,
        "rating_due_at": ctx.now + timedelta(days=ctx.rules.rating_window_days),
        "extension_pending_days": 0,
        "extension_pending_reason": "",
    }


PLACEHOLDER = re.compile(r"\{(basis|contact|signature)\}")
"""What a reply template (``ReplyTemplate.body``) leaves for the reply's own fields to fill in."""
_FILLED = re.compile(r"\{\{|\}\}|" + PLACEHOLDER.pattern)
"""A placeholder, or a doubled brace, which stands for one literal brace (as the template admin says)."""
MAX_CONTACT = 100  # Inquiry.reply_contact
MAX_SIGNATURE = 100  # Inquiry.reply_signature


def reply_signature(unit: Unit, spokesperson: Staff | None = None) -> str:
    """How a reply is signed: the unit's spokesperson office, with the person's name when one signs."""
    office = f"{unit.name} 网络发言人"
    return f"{office} {spokesperson.display_name}"[:MAX_SIGNATURE] if spokesperson else office


async def _signer(ctx: Context, unit: Unit) -> Staff | None:
    """The spokesperson named by ``signature`` (a username), who must be an active one of ``unit``."""
    username = text_field(ctx.data, "signature", limit=64, required=False)
    if not username:
        return None
    signer = await Staff.get_or_none(username=username, role=Role.SPOKESPERSON, unit_id=unit.id, active=True)
    if signer is None:
        raise InvalidInput(f"签发人 {username} 不是{unit.name}在岗的网络发言人")
    return signer


def fill_template(text: str, values: Mapping[str, str]) -> str:
    """``text`` with the template placeholders replaced, and ``{{``/``}}`` made single braces, in one
    pass; each placeholder used must have a value. The template admin's preview fills the same way."""

    def value(match: re.Match[str]) -> str:
        if match[1] is None:
            return match[0][0]
        if not values[match[1]]:
            raise InvalidInput(f"答复正文引用了 {match[0]}，缺少字段 {match[1]}")
        return values[match[1]]

    filled = _FILLED.sub(value, text)
    if len(filled) > MAX_TEXT:
        raise InvalidInput(f"字段 text 超过 {MAX_TEXT} 字")
    return filled


async def reply(ctx: Context) -> Change:
    resolved = ctx.data.get("resolved")
    if not isinstance(resolved, bool):
        raise InvalidInput("字段 resolved 应为 true 或 false（问题是否解决）")
    basis = text_field(ctx.data, "basis", limit=MAX_REASON, required=False)
    contact = text_field(ctx.data, "contact", limit=MAX_CONTACT, required=False)
    note = text_field(ctx.data, "note", required=False)
    unit = await Unit.get(id=ctx.inquiry.unit_id)  # type: ignore[attr-defined]
    signer = await _signer(ctx, unit)
    signature = reply_signature(unit, signer)
    values = {"basis": basis, "contact": contact, "signature": signature}
    text = fill_template(text_field(ctx.data, "text"), values)
    fields = _answered(ctx, text, signature) | {
        "reply_resolved": resolved,
        "reply_basis": basis,
        "reply_contact": contact,
        "reply_note": note,
    }
    event = {
        "text": text,
        "resolved": resolved,
        "basis": basis,
        "contact": contact,
        "note": note,
        "signature": signature,
        "signer": signer.username if signer else "",
    }
    return Change(fields=fields, event=event, outbound=text)


async def answer_directly(ctx: Context) -> Change:
    text = text_field(ctx.data, "text")
    fields = _answered(ctx, text, ctx.rules.desk_signature)
    return Change(fields=fields, event={"text": text}, outbound=text)


def _closed(ctx: Context, reason: CloseReason) -> dict[str, Any]:
    return {"closed_at": ctx.now, "close_reason": reason.value}


async def reject(ctx: Context) -> Change:
    reason = text_field(ctx.data, "reason", limit=MAX_REASON)
    return Change(
        fields=_closed(ctx, CloseReason.REJECTED),
        event={"reason": reason},
        outbound=f"您的诉求不予受理。理由：{reason}",
    )


async def redirect(ctx: Context) -> Change:
    to = text_field(ctx.data, "to", limit=100)
    text = text_field(ctx.data, "text", limit=MAX_REASON)
    return Change(
        fields=_closed(ctx, CloseReason.REDIRECTED),
        event={"to": to, "text": text},
        outbound=f"您反映的事项请通过{to}办理：{text}",
    )


async def merge(ctx: Context) -> Change:
    from core.numbers import normalise_number

    into_number = normalise_number(text_field(ctx.data, "into", limit=32))
    target = await Inquiry.get_or_none(number=into_number)
    if target is None:
        raise InvalidInput(f"没有编号为 {into_number} 的诉求")
    if target.id == ctx.inquiry.id:
        raise InvalidInput("不能并入自身")
    if target.close_reason == CloseReason.MERGED:
        raise InvalidInput(f"{into_number} 本身已并入其他诉求，请并入主诉求")
    return Change(
        fields=_closed(ctx, CloseReason.MERGED) | {"merged_into_id": target.id},
        event={"into": target.number},
        outbound=f"您的诉求与 {target.number} 反映的是同一事项，已合并办理。",
    )


async def rate(ctx: Context) -> Change:
    value = ctx.data.get("rating")
    try:
        rating = Rating(value)
    except ValueError:
        raise InvalidInput("评价应为 satisfied、basically_satisfied 或 unsatisfied") from None
    comment = text_field(ctx.data, "comment", limit=MAX_REASON, required=False)
    message = ctx.data.get("message")
    return Change(
        fields=_closed(ctx, CloseReason.RATED)
        | {"rating": rating, "rating_comment": comment, "rated_at": ctx.now},
        event={"rating": rating.value, "label": RATING_LABELS[rating], "comment": comment},
        inbound=message if isinstance(message, InboundMessage) else None,
    )


async def close_unrated(ctx: Context) -> Change:
    return Change(fields=_closed(ctx, CloseReason.UNRATED))


async def reopen(ctx: Context) -> Change:
    inquiry = ctx.inquiry
    due = _reply_deadline(ctx)
    return Change(
        fields={
            "reopen_count": inquiry.reopen_count + 1,
            "acknowledged_at": ctx.now,
            "reply_due_at": due.due_at,
            "deadlines_provisional": due.provisional,
            "closed_at": None,
            "close_reason": "",
            "rating": None,
            "rated_at": None,
            "rating_due_at": None,
        },
        event={"previous_rating": inquiry.rating, "reply_due_at": due.due_at.isoformat()},
        outbound="您的诉求已发回承办单位重新办理。",
    )


async def publish(ctx: Context) -> Change:
    return Change(fields={"published_at": ctx.now})


async def note(ctx: Context) -> Change:
    return Change(event={"text": text_field(ctx.data, "text")})


async def supplement(ctx: Context) -> Change:
    """A further message joins the citizen's still unscreened inquiry (product.md §2). Only
    :meth:`core.service.InquiryService.receive` takes it, and stores the message with the change."""
    message = ctx.data.get("message")
    if not isinstance(message, InboundMessage):
        raise InvalidInput("缺少补充的消息")
    fields: dict[str, Any] = {}
    if message.latitude is not None and ctx.inquiry.latitude is None:
        fields = {
            "latitude": message.latitude,
            "longitude": message.longitude,
            "location": message.text[:200],
        }
    return Change(fields=fields, event={"kind": message.kind})


def refusal(action: Action, inquiry: Inquiry, rules: Rules, now: datetime) -> str | None:
    """Why ``action`` cannot be taken on ``inquiry`` now, whatever data comes with it; None if it can.

    The service checks this before the handler runs, and ``available_actions`` offers only the actions
    it allows, so staff are never shown a button that would be refused.
    """
    pending = inquiry.extension_pending_days
    match action:
        case Action.REQUEST_EXTENSION:
            if pending:
                return "已有一项延期申请待审核"
            if inquiry.reply_due_at is not None and now > inquiry.reply_due_at:
                return "已超过答复期限，延期须在期限届满前申请"
            if rules.extension_cap_days - inquiry.extension_days <= 0:
                return f"延期已累计 {inquiry.extension_days} 个工作日，达到上限"
        case Action.APPROVE_EXTENSION | Action.REFUSE_EXTENSION:
            if not pending:
                return "没有待审核的延期申请"
        case Action.CLOSE_UNRATED:
            if inquiry.rating_due_at is not None and now < inquiry.rating_due_at:
                return "评价期尚未结束"
        case Action.REOPEN:
            if inquiry.close_reason != CloseReason.RATED or inquiry.rating != Rating.UNSATISFIED:
                return "只有来信人评价为「不满意」的诉求可以重办"
            if inquiry.reopen_count >= rules.max_reopens:
                return f"该诉求已重办 {inquiry.reopen_count} 次，达到上限"
        case Action.PUBLISH:
            if inquiry.kind == Kind.CONDUCT:
                return "政风行风投诉一律不公开"
            if not inquiry.consent_to_publish:
                return "来信人未同意公开"
            if inquiry.published_at is not None:
                return "该诉求已公开"
            if inquiry.close_reason in (CloseReason.REJECTED, CloseReason.REDIRECTED, CloseReason.MERGED):
                return "不予受理、转办或已并单的诉求不公开"
    return None


HANDLERS: Mapping[Action, Handler] = {
    Action.DISPATCH: dispatch,
    Action.REDISPATCH: redispatch,
    Action.REFUSE_RETURN: refuse_return,
    Action.ACKNOWLEDGE: acknowledge,
    Action.RETURN: return_,
    Action.REQUEST_EXTENSION: request_extension,
    Action.APPROVE_EXTENSION: approve_extension,
    Action.REFUSE_EXTENSION: refuse_extension,
    Action.REPLY: reply,
    Action.ANSWER_DIRECTLY: answer_directly,
    Action.REJECT: reject,
    Action.REDIRECT: redirect,
    Action.MERGE: merge,
    Action.RATE: rate,
    Action.CLOSE_UNRATED: close_unrated,
    Action.REOPEN: reopen,
    Action.PUBLISH: publish,
    Action.NOTE: note,
    Action.SUPPLEMENT: supplement,
}
