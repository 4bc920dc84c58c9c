"""Answers to the chat commands (channels.chat.commands), as the text of the reply.

A citizen sees only inquiries filed under their own identity on the channel they write from: a number
that belongs to someone else gets the same answer as a number that does not exist. A rating applies to
the citizen's latest answered (``replied``) inquiry, the one whose answer invited it; so 查询 invites a
rating by reply for that one only, and sends the citizen to the case page for any other.

WeChat and Weibo retry a push they got no answer to in 5 seconds (and the Weibo poller may see a mention
again). The rating message is stored on the inquiry it rated, with its dedupe key, in the rating's
transaction: a retry finds it there and is answered as the first delivery was, so it neither rates
another inquiry nor opens a new one, whatever the platform's clock says.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from channels.chat.commands import Command, CommandName
from channels.links import case_link
from core.actors import Actor
from core.errors import IllegalAction
from core.messages import InboundMessage
from core.models import Inquiry, InquiryMessage
from core.numbers import BEIJING
from core.service import InquiryService
from core.states import STATE_LABELS, Action, State
from core.vocab import RATING_LABELS, Rating

MAX_LISTED = 5
RECENTLY_CLOSED = timedelta(days=30)
OPEN_STATES = frozenset({State.RECEIVED, State.DISPATCHED, State.RETURNED, State.ACKNOWLEDGED})
"""States in which the citizen still waits for an answer, so the promised date is worth showing."""

NO_INQUIRIES = "您暂无诉求记录。直接发送文字、图片、语音或位置即可反映问题。"
NOT_FOUND = "没有找到您的诉求 {number}。请核对编号，或回复“查询”查看您的全部诉求。"
LIST_HEADER = "您的诉求（最近{count}件）："
LIST_FOOTER = "回复“查询 编号”查看详情。"


async def answer_command(
    command: Command,
    message: InboundMessage,
    service: InquiryService,
    templates: Mapping[str, str],
    public_base_url: str,
) -> str | None:
    """The passive reply to ``command`` sent in ``message``; None when it is not a command after all
    (a rating with nothing to rate), so the caller files the text as an ordinary message."""
    match command.name:
        case CommandName.HELP:
            return templates["help"].format(web=f"{public_base_url}/submit")
        case CommandName.LIST:
            return await _list(_own(message), service.clock())
        case CommandName.SHOW:
            return await _show(_own(message), command.number, public_base_url)
        case CommandName.RATE:
            assert command.rating is not None  # interpret() sets it for every rating
            return await _rate(message, command.rating, service, templates)


def _own(message: InboundMessage) -> Q:
    """Inquiries of the citizen who sent ``message`` (their identity on its channel)."""
    return Q(citizen__identities__channel=message.channel, citizen__identities__external_id=message.sender)


async def _list(own: Q, now: datetime) -> str:
    recent = Q(state__not=State.CLOSED) | Q(closed_at__gte=now - RECENTLY_CLOSED)
    inquiries = await Inquiry.filter(own, recent).order_by("-created_at", "-id").limit(MAX_LISTED)
    if not inquiries:
        return NO_INQUIRIES
    rated_next = await _rated_by_reply(own)
    lines = [LIST_HEADER.format(count=len(inquiries))]
    lines += [f"{inquiry.number} {_status(inquiry, rated_next)}" for inquiry in inquiries]
    lines.append(LIST_FOOTER)
    return "\n".join(lines)


async def _show(own: Q, number: str, public_base_url: str) -> str:
    inquiry = await Inquiry.filter(own, number=number).first()
    if inquiry is None:
        return NOT_FOUND.format(number=number)
    link = case_link(public_base_url, inquiry)
    return f"诉求 {inquiry.number}：{_status(inquiry, await _rated_by_reply(own))}。查看进度：{link}"


async def _rated_by_reply(own: Q) -> Inquiry | None:
    """The inquiry a rating sent as a reply (1, 2, 3) applies to: the latest one answered."""
    return await Inquiry.filter(own, state=State.REPLIED).order_by("-replied_at", "-id").first()


def _status(inquiry: Inquiry, rated_by_reply: Inquiry | None) -> str:
    """The state in Chinese; while the citizen waits, the date the answer is due (Beijing time); once
    answered, how to rate it (by reply only for ``rated_by_reply``)."""
    state = State(inquiry.state)
    label = STATE_LABELS[state]
    if state in OPEN_STATES:
        due = inquiry.reply_due_at or inquiry.promised_reply_at
        if due is not None:
            local = due.astimezone(BEIJING)
            return f"{label}，预计 {local.month}月{local.day}日 前答复"
    if state is State.REPLIED:
        if rated_by_reply is not None and rated_by_reply.id == inquiry.id:
            return f"{label}，请回复 1 满意，2 基本满意，3 不满意"
        return f"{label}，请在诉求页面评价"
    if inquiry.rating:
        return f"{label}（{RATING_LABELS[Rating(inquiry.rating)]}）"
    return label


async def _rate(
    message: InboundMessage, rating: Rating, service: InquiryService, templates: Mapping[str, str]
) -> str | None:
    if (taken := await _rated_by(message)) is not None:
        return _rated(taken, templates)  # a retry of a rating already taken
    latest = await _rated_by_reply(_own(message))
    if latest is None:
        return None
    data = {"rating": rating.value, "message": message}
    try:
        inquiry = await service.act(latest.number, Action.RATE, Actor.citizen(), data)
    except (IllegalAction, IntegrityError):
        # a concurrent delivery of this rating took it (in this process the inquiry moved on; in another
        # the message was stored first), or the scheduler closed the inquiry unrated meanwhile
        taken = await _rated_by(message)
        return _rated(taken, templates) if taken is not None else None
    return _rated(inquiry, templates)


async def _rated_by(message: InboundMessage) -> Inquiry | None:
    """The inquiry ``message`` rated, if it was taken as a rating already: stored in the rating's
    transaction, at the rating's time (not filed as an ordinary message, with nothing to rate)."""
    stored = await InquiryMessage.get_or_none(dedupe_key=message.dedupe_key).prefetch_related("inquiry")
    if stored is None or stored.inquiry.rated_at != stored.created_at:
        return None
    return stored.inquiry


def _rated(inquiry: Inquiry, templates: Mapping[str, str]) -> str:
    return templates["unsatisfied" if inquiry.rating == Rating.UNSATISFIED else "rated"]
