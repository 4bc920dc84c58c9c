"""Delivering queued messages to citizens on WeChat.

Inside the 48 hours after the citizen's last message a customer-service message reaches them; after
that (or when WeChat answers 45015, window closed) only a template message can, and it links to the case
page where the whole answer stands. The template's ``client_msg_id`` makes a repeated attempt harmless.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from channels.chat.outbound import ANSWERS, full_text
from channels.links import case_link
from channels.wechat.api import WeChatApi, WeChatApiError
from core import outbox
from core.models import Inquiry, OutboxMessage
from core.numbers import BEIJING
from core.vocab import Channel

WINDOW = timedelta(hours=48)
WINDOW_CLOSED = 45015


@dataclass(frozen=True)
class DeliveryOptions:
    public_base_url: str
    templates: Mapping[str, str]
    """config.yaml ``templates``: ``answer`` frames a unit's answer and its rating invitation."""
    template_ids: Mapping[str, str]
    """config.yaml ``channels.wechat.template_ids``: ``notice`` is the template for progress notices."""


class WeChatDelivery:
    def __init__(self, api: WeChatApi, options: DeliveryOptions) -> None:
        self.api = api
        self.options = options

    def text(self, message: OutboxMessage, inquiry: Inquiry) -> str:
        return full_text(self.options.templates, message.kind, message.text, inquiry)

    async def deliver(
        self, message: OutboxMessage, inquiry: Inquiry, last_heard: datetime | None, now: datetime
    ) -> str | None:
        """Send ``message``; returns a template message's msgid (its delivery is reported later).
        Raises :class:`WeChatApiError` when WeChat refused it, :class:`~core.outbox.DeliveryFailed`
        when only a template could reach the citizen and none is configured."""
        if last_heard is not None and now - last_heard < WINDOW:
            try:
                await self.api.send_text(message.recipient, self.text(message, inquiry))
                return None
            except WeChatApiError as error:
                if error.errcode != WINDOW_CLOSED:
                    raise
        return await self._notice(message, inquiry, now)

    async def _notice(self, message: OutboxMessage, inquiry: Inquiry, now: datetime) -> str:
        template_id = self.options.template_ids.get("notice")
        if not template_id:
            reason = "48 小时客服消息窗口已过，且未配置通知模板（channels.wechat.template_ids.notice）"
            raise outbox.DeliveryFailed(reason, retryable=False)
        summary = "您的诉求已答复，请查看并评价" if message.kind in ANSWERS else "您的诉求有新进展"
        msgid = await self.api.send_template(
            message.recipient,
            template_id,
            {
                "keyword1": inquiry.number,
                "keyword2": summary,
                "keyword3": now.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
            },
            url=case_link(self.options.public_base_url, inquiry),
            client_msg_id=f"wz-outbox-{message.id}",
        )
        return str(msgid)

    async def attempt(self, message: OutboxMessage, inquiry: Inquiry, now: datetime) -> str | None:
        """:meth:`deliver`, as the outbox drain attempts a message (core.outbox.Attempt)."""
        try:
            return await self.deliver(message, inquiry, await outbox.last_heard(inquiry.id), now)
        except WeChatApiError as error:
            raise outbox.DeliveryFailed(
                f"{error.errcode} {error.errmsg}", retryable=error.retryable, rate_limited=error.rate_limited
            ) from error


async def drain(delivery: WeChatDelivery, now: datetime, limit: int = 50) -> int:
    """Attempt every due WeChat message once; returns how many were delivered."""
    return await outbox.drain(Channel.WECHAT, delivery.attempt, now, limit)
