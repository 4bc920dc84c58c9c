"""The case page ``/inbox/cases/{number}``: one inquiry's whole story and what the signed-in staff
member may do about it now.

Visibility and actions are the staff API's: the inquiry is read through ``InquiryService.get`` (another
unit's case is 404, as are its attachments and forms) and the forms offered are exactly
``available_actions``. Every form carries the version the page showed; the action is taken with it as
``expected_version``, so a case that changed meanwhile is shown again, fresh, instead of being
overwritten. Staff see everything: internal notes, reasons, the private zone, delivery failures.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDictProxy
from tortoise.expressions import Q

from channels.web.forms import form_text, whole_number
from channels.web.present import beijing_time
from channels.wechat.inbound import parse as parse_wechat
from channels.wechat.security import WeChatRejected
from core.actors import Actor
from core.deadlines import DeadlineCalculator
from core.errors import ConcurrentUpdate, CoreError, Forbidden, IllegalAction, InvalidInput, NotFound
from core.models import (
    Attachment,
    Citizen,
    Inquiry,
    InquiryEvent,
    InquiryMessage,
    OutboxMessage,
    ReplyTemplate,
    Staff,
    Unit,
)
from core.numbers import BEIJING
from core.rules import Rules
from core.service import available_actions
from core.states import ACTION_LABELS, STATE_LABELS, Action, State
from core.vocab import (
    CHANNEL_LABELS,
    CLOSE_REASON_LABELS,
    KIND_LABELS,
    RATING_LABELS,
    Channel,
    CloseReason,
    Kind,
    Rating,
    Role,
)
from gateway.inbox.views import Inbox, see_other
from gateway.keys import actor_key, service_key, settings_key
from gateway.serialize import aware_time, overdue
from gateway.units import units_by_id

FORMAL_REPLY = "制度性答复"
"""In a template's name: a formal answer, whose basis, contact and signing spokesperson are required."""
CONFLICT = "此诉求已被他人更新，您的操作没有执行。请查看下方的最新情况，确认后再操作。"
STATUS_OF: tuple[tuple[type[CoreError], int], ...] = (
    (IllegalAction, 409),  # ConcurrentUpdate too: it is an IllegalAction
    (Forbidden, 403),
    (InvalidInput, 400),
)
DEFAULT_WORKING_DAY = timedelta(hours=8)
MEDIA_LABELS = {"image": "图片", "voice": "语音", "video": "视频", "shortvideo": "小视频", "location": "位置"}
MEDIA_LABELS |= {"link": "链接", "text": ""}
DELIVERY_LABELS = {"sent": "已发送", "pending": "待发送", "failed": "发送失败"}


# -- the action forms ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    widget: str = "text"
    """text, textarea, number, unit, yesno, signature or hidden (see case_forms.html); a hidden field is
    the form's own (the reply's template), not the action's data."""
    required: bool = True
    hint: str = ""


@dataclass(frozen=True)
class ActionForm:
    action: Action
    button: str
    fields: tuple[Field, ...] = ()
    hint: str = ""

    def field_label(self, name: str) -> str:
        return next((f.label for f in self.fields if f.name == name), name)


REASON = Field("reason", "理由", "textarea")
FORMS: dict[str, ActionForm] = {
    form.action.value: form
    for form in (
        ActionForm(Action.DISPATCH, "派单", (Field("unit", "承办单位", "unit"),)),
        ActionForm(Action.REDISPATCH, "改派", (Field("unit", "改派至", "unit"),)),
        ActionForm(Action.REFUSE_RETURN, "驳回退单", (REASON,), "驳回后仍由原单位办理，签收期限重新计算。"),
        ActionForm(Action.ACKNOWLEDGE, "签收", (), "签收后开始计算答复期限。"),
        ActionForm(Action.RETURN, "退单", (Field("reason", "退单理由", "textarea"),)),
        ActionForm(
            Action.REQUEST_EXTENSION,
            "申请延期",
            (Field("days", "延期天数（工作日）", "number"), Field("reason", "延期理由", "textarea")),
        ),
        ActionForm(Action.APPROVE_EXTENSION, "批准延期"),
        ActionForm(Action.REFUSE_EXTENSION, "驳回延期", (REASON,)),
        ActionForm(
            Action.REPLY,
            "提交答复",
            (
                Field("template", "答复模板", "hidden", required=False),
                Field("text", "答复内容（将发送给来信人）", "textarea"),
                Field("basis", "政策依据", "textarea", required=False),
                Field("contact", "联系方式", required=False, hint="来信人可就答复联系的部门和电话"),
                Field(
                    "signature",
                    "签发人（网络发言人）",
                    "signature",
                    required=False,
                    hint="答复落款为承办单位的网络发言人，选定发言人时加署其姓名。",
                ),
                Field("resolved", "问题是否已解决", "yesno"),
                Field("note", "内部备注", "textarea", required=False, hint="仅工作人员可见，不发送给来信人"),
            ),
        ),
        ActionForm(Action.ANSWER_DIRECTLY, "直接答复", (Field("text", "答复内容", "textarea"),)),
        ActionForm(Action.REJECT, "不予受理", (Field("reason", "不予受理理由", "textarea"),)),
        ActionForm(
            Action.REDIRECT,
            "转法定途径",
            (Field("to", "转至（途径或机关）"), Field("text", "告知来信人的说明", "textarea")),
        ),
        ActionForm(Action.MERGE, "并单", (Field("into", "并入诉求编号", hint="如 WZ20261127-00042"),)),
        ActionForm(Action.REOPEN, "重办", (), "发回承办单位重新办理，答复期限重新计算。"),
        ActionForm(Action.PUBLISH, "公开", (), "来信人已同意公开；公开时隐去个人信息。"),
        ActionForm(Action.NOTE, "添加备注", (Field("text", "内部备注", "textarea", hint="仅工作人员可见"),)),
    )
}
_FIELD_NAME = re.compile(r"(缺少)?字段 ([a-z_]+) ?")


def _explain(reason: str, form: ActionForm) -> str:
    """The core's reason with its field codes ("缺少字段 reason") put as the form's labels."""

    def label(match: re.Match[str]) -> str:
        name = form.field_label(match[2])
        return f"请填写「{name}」" if match[1] else f"「{name}」"

    return _FIELD_NAME.sub(label, reason)


def _form_data(form: ActionForm, posted: MultiDictProxy[Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """The posted values as typed (to show again) and as the action's data; InvalidInput for a number
    or a yes/no that is not one. Everything else is the core's to check."""
    values = {f.name: form_text(posted, f.name) for f in form.fields}
    data: dict[str, Any] = {}
    for f in form.fields:
        value = values[f.name].strip()
        if f.widget == "hidden":
            continue
        if f.widget == "number":
            number = whole_number(value, digits=4)
            if number is None:
                raise InvalidInput(f"「{f.label}」应为整数")
            data[f.name] = number
        elif f.widget == "yesno":
            if value not in ("yes", "no"):
                raise InvalidInput(f"请选择「{f.label}」")
            data[f.name] = value == "yes"
        else:
            data[f.name] = value
    return values, data


@dataclass(frozen=True)
class Failure:
    """An action that was refused, with what was typed into its form."""

    action: str
    reason: str
    values: dict[str, str]


# -- the timeline -------------------------------------------------------------------------------------


@dataclass
class Entry:
    at: datetime
    rank: int
    """Order at the same instant: the citizen's message, then the event, then what went out."""
    kind: str
    """in, out or event."""
    title: str
    actor: str = ""
    text: str = ""
    details: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""
    """Internal: a note, or the internal note of a reply."""
    internal: bool = False
    link: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    delivery: dict[str, str] | None = None
    coordinates: tuple[float, float] | None = None


def _data_text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def _data_time(data: dict[str, Any], key: str) -> str:
    """A ``*_at`` of an event's data (UTC ISO text) in Beijing time."""
    moment = aware_time(data.get(key))
    return beijing_time(moment) if moment is not None else ""


def _pairs(*pairs: tuple[str, str]) -> list[tuple[str, str]]:
    return [(label, value) for label, value in pairs if value]


def _event_entry(event: InquiryEvent) -> Entry:
    """One audit event in Chinese, with all its data: staff see everything."""
    data = event.data if isinstance(event.data, dict) else {}
    entry = Entry(
        event.created_at, 1, "event", ACTION_LABELS.get(event.action, event.action), event.actor_name
    )
    reason = ("理由", _data_text(data, "reason"))
    days = _data_text(data, "days")
    match event.action:
        case "intake":
            entry.title = f"受理（{_channel_label(_data_text(data, 'channel'))}）"
        case "dispatch" | "redispatch" | "refuse-return":
            unit = _data_text(data, "unit_name") or _data_text(data, "unit")
            entry.title = f"{entry.title}：由 {unit} 办理"
            entry.details = _pairs(reason, ("签收期限", _data_time(data, "ack_due_at")))
        case "acknowledge":
            entry.details = _pairs(("答复期限", _data_time(data, "reply_due_at")))
        case "return":
            entry.title = "退单"
            entry.details = _pairs(reason)
        case "request-extension":
            entry.title = f"申请延期 {days} 个工作日"
            entry.details = _pairs(reason)
        case "approve-extension":
            entry.title = f"批准延期 {days} 个工作日"
            entry.details = _pairs(("新的答复期限", _data_time(data, "reply_due_at")))
        case "refuse-extension":
            entry.title = f"驳回延期申请（{days} 个工作日）"
            entry.details = _pairs(reason)
        case "reply":
            resolved = data.get("resolved")
            resolved_text = (
                {True: "已解决", False: "未解决"}.get(resolved, "") if isinstance(resolved, bool) else ""
            )
            entry.text = _data_text(data, "text")
            entry.note = _data_text(data, "note")
            entry.details = _pairs(
                ("政策依据", _data_text(data, "basis")),
                ("联系方式", _data_text(data, "contact")),
                ("签发", _data_text(data, "signature")),
                ("问题是否解决", resolved_text),
            )
        case "answer-directly":
            entry.text = _data_text(data, "text")
        case "reject":
            entry.details = _pairs(reason)
        case "redirect":
            entry.title = f"转法定途径：{_data_text(data, 'to')}"
            entry.text = _data_text(data, "text")
        case "merge":
            into = _data_text(data, "into")
            entry.title = f"并入 {into}"
            entry.link = f"/inbox/cases/{quote(into)}" if into else ""
        case "rate":
            label = _data_text(data, "label") or _rating_label(_data_text(data, "rating"))
            entry.title = f"来信人评价：{label}" if label else "来信人评价"
            entry.details = _pairs(("评价意见", _data_text(data, "comment")))
        case "reopen":
            entry.details = _pairs(
                ("原评价", _rating_label(_data_text(data, "previous_rating"))),
                ("新的答复期限", _data_time(data, "reply_due_at")),
            )
        case "note":
            entry.title = "备注"
            entry.note = _data_text(data, "text")
            entry.internal = True
        case "supplement":
            kind = _data_text(data, "kind")
            entry.title = f"来信人补充{MEDIA_LABELS.get(kind, kind)}"
        case "delivery-failed":
            entry.title = f"消息发送失败（{_channel_label(_data_text(data, 'channel'))}）"
            entry.details = _pairs(
                ("消息", ACTION_LABELS.get(_data_text(data, "kind"), _data_text(data, "kind"))),
                ("原因", _data_text(data, "error")),
                ("已尝试", f"{_data_text(data, 'attempts')} 次" if _data_text(data, "attempts") else ""),
            )
        case "recompute-deadlines":
            entry.title = "按新日历重新计算期限"
            entry.details = _pairs(
                ("承诺答复", _data_time(data, "promised_reply_at")),
                ("签收期限", _data_time(data, "ack_due_at")),
                ("答复期限", _data_time(data, "reply_due_at")),
            )
        case _:
            entry.details = _pairs(*((str(key), _data_text(data, key)) for key in data))
    return entry


def _rating_label(code: str) -> str:
    return RATING_LABELS[Rating(code)] if code in set(Rating) else ""


def _channel_label(code: str) -> str:
    return CHANNEL_LABELS[Channel(code)] if code in set(Channel) else code


def _attachment(number: str, row: Attachment) -> dict[str, Any]:
    kind = row.content_type.split("/", 1)[0]
    return {
        "label": {"image": "图片", "audio": "语音", "video": "视频"}.get(kind, "文件"),
        "filename": row.filename or f"附件 {row.id}",
        "size": _size(row.size),
        "state": row.state,
        "error": row.last_error,
        "href": f"/inbox/cases/{quote(number)}/attachments/{row.id}" if row.state == "stored" else "",
    }


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, round(size / 1024))} KB"


def _coordinates(message: InquiryMessage) -> tuple[float, float] | None:
    """A WeChat location message's coordinates, read back from its stored payload."""
    if message.channel != Channel.WECHAT:
        return None
    try:
        parsed = parse_wechat(message.payload)
    except WeChatRejected:
        return None
    if parsed is None or parsed.latitude is None or parsed.longitude is None:
        return None
    return parsed.latitude, parsed.longitude


def _delivery(row: OutboxMessage | None, channel: str) -> dict[str, str]:
    """How a message to the citizen fared: sent, pending (with the last failure) or failed, with why."""
    if row is None:
        where = "网站查询页" if channel == Channel.WEB else "来信人查询页"
        return {"state": "shown", "label": f"在{where}展示", "reason": ""}
    reason = row.last_error
    if row.state == "sent" and row.platform_status:
        reason = f"平台回执：{row.platform_status}"
    elif row.state == "pending" and row.last_error:
        reason = f"第 {row.attempts} 次尝试失败：{row.last_error}，将重试"
    label = DELIVERY_LABELS.get(row.state, row.state)
    if row.state == "sent" and row.sent_at:
        label = f"{label}（{beijing_time(row.sent_at)}）"
    return {"state": row.state, "label": label, "reason": reason}


def timeline(
    number: str,
    messages: list[InquiryMessage],
    attachments: list[Attachment],
    outbox: list[OutboxMessage],
    events: list[InquiryEvent],
) -> list[Entry]:
    """Messages in and out, attachments, deliveries and audit events of one inquiry, oldest first.

    An attachment belongs to its message, else to the citizen's message stored at the same moment
    (media is recorded with the message that brought it); an outbox row belongs to the outbound
    message written with it (same action, same moment), and one without (the receipt) stands alone.
    """
    entries: list[Entry] = [_event_entry(e) for e in events]
    unsent = {(o.kind, o.created_at): o for o in outbox}
    by_message: dict[int, Entry] = {}
    inbound_at: dict[datetime, Entry] = {}
    for m in messages:
        if m.direction == "in":
            kind = MEDIA_LABELS.get(m.kind, m.kind)
            entry = Entry(m.created_at, 0, "in", f"来信人（{_channel_label(m.channel)}）{kind}", text=m.text)
            if m.kind == "location":
                entry.coordinates = _coordinates(m)
            inbound_at.setdefault(m.created_at, entry)
        else:
            row = unsent.pop((m.kind, m.created_at), None)
            title = f"发给来信人：{ACTION_LABELS.get(m.kind, m.kind)}"
            entry = Entry(m.created_at, 2, "out", title, text=m.text, delivery=_delivery(row, m.channel))
        by_message[m.id] = entry
        entries.append(entry)
    for o in unsent.values():
        title = f"发给来信人：{'受理回执' if o.kind == 'receipt' else ACTION_LABELS.get(o.kind, o.kind)}"
        entries.append(Entry(o.created_at, 2, "out", title, text=o.text, delivery=_delivery(o, o.channel)))
    for a in attachments:
        owner = by_message.get(a.message_id) or inbound_at.get(a.created_at)  # type: ignore[attr-defined]
        if owner is None:
            owner = Entry(a.created_at, 0, "in", "来信人附件")
            entries.append(owner)
        owner.attachments.append(_attachment(number, a))
    return sorted(entries, key=lambda e: (e.at, e.rank))


# -- deadlines and marks ------------------------------------------------------------------------------


def working_span(span: timedelta, working_day: timedelta) -> str:
    """``3 个工作日 2 小时``, ``5 个工作小时`` or ``不足 1 个工作小时``: working time in days of
    ``working_day`` (the office hours of one working day) and whole hours."""
    days, rest = divmod(span, working_day)
    hours = rest // timedelta(hours=1)
    if days:
        return f"{days} 个工作日" + (f" {hours} 小时" if hours else "")
    return f"{hours} 个工作小时" if hours else "不足 1 个工作小时"


def _working_day(calculator: DeadlineCalculator, moment: datetime) -> timedelta:
    """The office hours of the working day ``moment`` falls on (both Urumqi seasons have 8)."""
    start = datetime.combine(moment.astimezone(BEIJING).date(), time(), BEIJING)
    return calculator.working_time_between(start, start + timedelta(days=1)) or DEFAULT_WORKING_DAY


def _deadline(
    calculator: DeadlineCalculator,
    now: datetime,
    label: str,
    due: datetime,
    done: datetime | None,
    done_label: str,
    running: bool,
) -> dict[str, Any]:
    """One deadline row: its due time and, while it runs, the working time left or past it."""
    row: dict[str, Any] = {"label": label, "due": beijing_time(due), "status": "", "late": False}
    if running:
        day = _working_day(calculator, due)
        if now <= due:
            row["status"] = f"剩余 {working_span(calculator.working_time_between(now, due), day)}"
        else:
            row["status"] = f"已超期 {working_span(calculator.working_time_between(due, now), day)}"
            row["late"] = True
    elif done is not None:
        row["late"] = done > due
        row["status"] = f"已于 {beijing_time(done)} {done_label}" + ("（超期）" if row["late"] else "")
    return row


def deadlines(inquiry: Inquiry, calculator: DeadlineCalculator, now: datetime) -> list[dict[str, Any]]:
    """The case's deadlines in the order they come: each with the working time left while it runs, or
    when it was met once it has been."""
    state = State(inquiry.state)
    steps = (
        ("承诺答复", inquiry.promised_reply_at if state == State.RECEIVED else None, None, "", True),
        ("签收期限", inquiry.ack_due_at, inquiry.acknowledged_at, "签收", state == State.DISPATCHED),
        ("答复期限", inquiry.reply_due_at, inquiry.replied_at, "答复", state == State.ACKNOWLEDGED),
        # the rating window runs on natural days: its end only
        ("评价截止", inquiry.rating_due_at if state == State.REPLIED else None, None, "", False),
    )
    return [_deadline(calculator, now, *step) for step in steps if step[1] is not None]


def marks(inquiry: Inquiry, now: datetime) -> list[dict[str, Any]]:
    """The overlays on the case: overdue flags, urges, supervision, extensions, returns, reopens."""
    late = overdue(inquiry, now)
    found = [
        ("签收超期", late["ack"], True),
        ("答复超期", late["reply"], True),
        (f"催办 {inquiry.urge_count} 次", inquiry.urge_count > 0, True),
        ("通报" if inquiry.supervision_level >= 2 else "督办", inquiry.supervision_level > 0, True),
        (f"待审核延期 {inquiry.extension_pending_days} 个工作日", inquiry.extension_pending_days > 0, False),
        (
            f"已延期 {inquiry.extension_count} 次，共 {inquiry.extension_days} 个工作日",
            inquiry.extension_count > 0,
            False,
        ),
        (f"退单 {inquiry.return_count} 次", inquiry.return_count > 0, False),
        (f"重办 {inquiry.reopen_count} 次", inquiry.reopen_count > 0, False),
    ]
    return [{"label": label, "alarm": alarm} for label, shown, alarm in found if shown]


# -- the routes ---------------------------------------------------------------------------------------


class CasePages:
    """The case page, its action forms and its attachments, for :class:`Inbox`'s signed-in staff."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/cases/{number}", self.show, name="inbox-case"),
            web.post("/cases/{number}/actions/{action}", self.act, name="inbox-case-action"),
            web.get("/cases/{number}/attachments/{attachment}", self.attachment, name="inbox-attachment"),
        ]

    async def show(self, request: web.Request) -> web.Response:
        inquiry = await _visible(request)
        if inquiry is None:
            return await self._not_found(request)
        done = FORMS.get(request.query.get("done", ""))
        notice = f"已完成「{done.button}」。" if done else ""
        return await self._render(request, inquiry, notice=notice)

    async def act(self, request: web.Request) -> web.StreamResponse:
        form = FORMS.get(request.match_info["action"])
        inquiry = await _visible(request)
        if form is None or inquiry is None:
            return await self._not_found(request)
        posted = await request.post()
        values = {f.name: form_text(posted, f.name) for f in form.fields}
        try:
            values, data = _form_data(form, posted)
            if form.action is Action.REPLY:
                await _check_formal_reply(inquiry, posted, data)
            await request.config_dict[service_key].act(
                inquiry.number, form.action, request[actor_key], data, expected_version=_version(posted)
            )
        except NotFound:
            return await self._not_found(request)
        except ConcurrentUpdate:
            fresh = await _visible(request)
            if fresh is None:
                return await self._not_found(request)
            kept = Failure(form.action.value, "", values)
            return await self._render(request, fresh, failure=kept, alert=CONFLICT, status=409)
        except CoreError as refusal:
            status = next(code for kind, code in STATUS_OF if isinstance(refusal, kind))
            failure = Failure(form.action.value, _explain(str(refusal), form), values)
            return await self._render(request, inquiry, failure=failure, status=status)
        return see_other(f"{_case_href(inquiry.number)}?done={form.action.value}")

    async def attachment(self, request: web.Request) -> web.StreamResponse:
        """A stored photo, voice or video, to staff who may see its inquiry."""
        inquiry = await _visible(request)
        attachment_id = whole_number(request.match_info["attachment"])
        if inquiry is None or attachment_id is None:
            return await self._not_found(request)
        row = await Attachment.get_or_none(id=attachment_id, inquiry_id=inquiry.id, state="stored")
        root = (request.config_dict[settings_key].data_path / "attachments").resolve()
        path = (root / row.storage_path).resolve() if row is not None and row.storage_path else root
        if row is None or not path.is_relative_to(root) or not await asyncio.to_thread(path.is_file):
            return await self._not_found(request)
        name = row.filename or f"attachment-{row.id}"
        headers = {
            "Content-Type": row.content_type or "application/octet-stream",
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        }
        return web.FileResponse(path, headers=headers)

    async def _not_found(self, request: web.Request) -> web.Response:
        context = {"title": "没有找到诉求", "text": "没有这个诉求或附件，或者您无权查看。"}
        return await self.inbox.page(request, "message.html", context, status=404)

    async def _render(
        self,
        request: web.Request,
        inquiry: Inquiry,
        *,
        failure: Failure | None = None,
        notice: str = "",
        alert: str = "",
        status: int = 200,
    ) -> web.Response:
        service = request.config_dict[service_key]
        actor: Actor = request[actor_key]
        now = datetime.now(UTC)
        units = await units_by_id()
        actions = [a for a in available_actions(inquiry, actor, service.rules, now) if a in FORMS]
        chosen = (failure.values.get("template") if failure else None) or request.query.get("template", "")
        forms = _FormBuilder(inquiry, actor, service.rules, units, failure)
        context = {
            "case": await _facts(inquiry, forms.unit, service.rules),
            "deadlines": deadlines(inquiry, service.deadlines, now),
            "provisional": inquiry.deadlines_provisional,
            "marks": marks(inquiry, now),
            "timeline": await _timeline_of(inquiry),
            "forms": [await forms.build(name, chosen) for name in actions],
            "templates": forms.templates,
            "template_missing": bool(chosen) and forms.template is None,
            "version": inquiry.version,
            "notice": notice,
            "alert": alert or (failure.reason if failure else ""),
            "failed": failure.action if failure else "",
        }
        return await self.inbox.page(request, "case.html", context, status=status)


def _case_href(number: str) -> str:
    return f"/inbox/cases/{quote(number)}"


async def _visible(request: web.Request) -> Inquiry | None:
    """The inquiry of the path if the signed-in staff member may see it."""
    number = request.match_info["number"]
    if len(number) > 40:  # a case number is 16 characters
        return None
    try:
        return await request.config_dict[service_key].get(number, request[actor_key])
    except NotFound:
        return None


def _version(posted: MultiDictProxy[Any]) -> int:
    version = whole_number(form_text(posted, "version"))
    if version is None:
        raise InvalidInput("表单缺少版本信息，请刷新页面后重新提交。")
    return version


def _templates_for(inquiry: Inquiry) -> Any:
    """The active reply templates of the inquiry's unit and the city-wide ones, as a query."""
    unit_id = inquiry.unit_id  # type: ignore[attr-defined]
    return ReplyTemplate.filter(Q(unit_id=unit_id) | Q(unit_id__isnull=True), active=True)


async def _check_formal_reply(inquiry: Inquiry, posted: MultiDictProxy[Any], data: dict[str, Any]) -> None:
    """A reply written from a 制度性答复 template must name its basis, a contact and who signs it."""
    template_id = whole_number(form_text(posted, "template"))
    template = await _templates_for(inquiry).get_or_none(id=template_id) if template_id else None
    if template is None or FORMAL_REPLY not in template.name:
        return
    if not all(data.get(name) for name in ("basis", "contact", "signature")):
        raise InvalidInput(f"{FORMAL_REPLY}须填写政策依据和联系方式，并选择签发的网络发言人。")


class _FormBuilder:
    """The action forms of one rendering: each form's values (defaults, or what was typed before a
    refusal), the options of its select, and the reply's templates and spokespersons."""

    def __init__(
        self, inquiry: Inquiry, actor: Actor, rules: Rules, units: dict[int, Unit], failure: Failure | None
    ) -> None:
        self.inquiry, self.actor, self.rules, self.units, self.failure = inquiry, actor, rules, units, failure
        self.unit = units.get(inquiry.unit_id)  # type: ignore[attr-defined]
        self.templates: list[ReplyTemplate] = []
        self.template: ReplyTemplate | None = None

    async def build(self, name: str, chosen_template: str) -> dict[str, Any]:
        form = FORMS[name]
        failure = self.failure if self.failure is not None and self.failure.action == name else None
        values = dict.fromkeys((f.name for f in form.fields), "")
        options: list[tuple[str, str]] = []
        if form.action is Action.DISPATCH:
            options, values["unit"] = self._unit_options(), self._default_unit()
        elif form.action is Action.REDISPATCH:
            options = self._unit_options(exclude=self.inquiry.unit_id)  # type: ignore[attr-defined]
        elif form.action is Action.REPLY:
            options = await self._reply(values, chosen_template)
        if failure is not None:
            values |= failure.values
        return {
            "form": form,
            "values": values,
            "options": options,
            "error": failure.reason if failure is not None else "",
            "open": failure is not None or (form.action is Action.REPLY and self.template is not None),
        }

    def _unit_options(self, exclude: int | None = None) -> list[tuple[str, str]]:
        return [(u.code, u.name) for u in self.units.values() if u.active and u.id != exclude]

    def _default_unit(self) -> str:
        """The unit the dispatch would default to (as core.actions): the category's, or for a conduct
        complaint the discipline-inspection unit."""
        if self.inquiry.kind == Kind.CONDUCT:
            return self.rules.conduct_unit
        category = self.rules.categories.get(self.inquiry.category)
        return category.unit_code if category else ""

    async def _reply(self, values: dict[str, str], chosen_template: str) -> list[tuple[str, str]]:
        """Fill the reply's defaults into ``values`` (the chosen template's text; the signed-in staff
        member as the signer if they are one of the unit's spokespersons); the signature options."""
        self.templates = await _templates_for(self.inquiry).order_by("name", "id")
        template_id = whole_number(chosen_template)
        self.template = next((t for t in self.templates if t.id == template_id), None)
        if self.template is not None:
            values |= {"text": self.template.body, "template": str(self.template.id)}
        if self.unit is None:  # a reply is only ever offered on a case at a unit
            return []
        spokespersons = await Staff.filter(
            role=Role.SPOKESPERSON, unit_id=self.unit.id, active=True
        ).order_by("display_name", "id")
        values["signature"] = next((s.username for s in spokespersons if s.id == self.actor.staff_id), "")
        # short labels: a select shows one line, and the unit's name would fill a phone's width; the
        # field's hint says how the reply is signed
        return [("", "以单位名义（不署个人姓名）")] + [(s.username, s.display_name) for s in spokespersons]


async def _facts(inquiry: Inquiry, unit: Unit | None, rules: Rules) -> dict[str, Any]:
    """What the page says about the case itself, the private zone included."""
    contact_name, contact_phone = inquiry.contact_name, inquiry.contact_phone
    if not (contact_name or contact_phone) and inquiry.citizen_id is not None:  # type: ignore[attr-defined]
        citizen = await Citizen.get_or_none(id=inquiry.citizen_id)  # type: ignore[attr-defined]
        if citizen is not None:
            contact_name, contact_phone = citizen.name, citizen.phone
    merged_into_id = inquiry.merged_into_id  # type: ignore[attr-defined]
    merged_into = None
    if merged_into_id is not None:
        merged_into = await Inquiry.filter(id=merged_into_id).first().values_list("number", flat=True)
    category = rules.categories.get(inquiry.category)
    close_reason = CloseReason(inquiry.close_reason) if inquiry.close_reason else None
    has_coordinates = inquiry.latitude is not None and inquiry.longitude is not None
    return {
        "number": inquiry.number,
        "state": inquiry.state,
        "state_label": STATE_LABELS[State(inquiry.state)],
        "kind_label": KIND_LABELS[Kind(inquiry.kind)],
        "category_name": category.name if category else inquiry.category,
        "channel_label": _channel_label(inquiry.channel),
        "unit": unit.name if unit else "",
        "created_at": beijing_time(inquiry.created_at),
        "content": inquiry.content,
        "location": inquiry.location,
        "coordinates": (inquiry.latitude, inquiry.longitude) if has_coordinates else None,
        "contact_name": contact_name,
        "contact_phone": contact_phone,
        "consent": inquiry.consent_to_publish,
        "urgent": inquiry.urgent,
        "published_at": beijing_time(inquiry.published_at),
        "close_reason": CLOSE_REASON_LABELS[close_reason] if close_reason else "",
        "merged_into": merged_into,
        "merged": await Inquiry.filter(merged_into_id=inquiry.id)
        .order_by("id")
        .values_list("number", flat=True),
        "rating": _rating_label(inquiry.rating or ""),
        "rating_comment": inquiry.rating_comment,
        "pending_extension": (inquiry.extension_pending_days, inquiry.extension_pending_reason)
        if inquiry.extension_pending_days
        else None,
    }


async def _timeline_of(inquiry: Inquiry) -> list[Entry]:
    return timeline(
        inquiry.number,
        await InquiryMessage.filter(inquiry_id=inquiry.id).order_by("created_at", "id"),
        await Attachment.filter(inquiry_id=inquiry.id).order_by("id"),
        await OutboxMessage.filter(inquiry_id=inquiry.id).order_by("id"),
        await InquiryEvent.filter(inquiry_id=inquiry.id).order_by("id"),
    )
