"""`GET|POST /channels/wechat`: URL verification, and every push answered, inside WeChat's 5 seconds
unless the database is unavailable (then 503, and WeChat sends the push again).

A citizen's message is stored (a new inquiry, or part of their open one) before the passive reply
tells them the case number, so WeChat's retries of the same message find it stored and get the same
answer. A text that is a chat command (查询, 帮助, a rating: channels.chat.commands) is answered
instead of filed, and so is a menu CLICK whose key the config maps to a command. Events and types the
gateway does not handle yet are answered ``success``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web

from channels.chat.responder import ChatOptions, ChatResponder
from channels.wechat.inbound import message_from
from channels.wechat.replies import SUCCESS, text_reply
from channels.wechat.security import CallbackSecurity, WeChatKeys, WeChatRejected
from core import outbox
from core.messages import InboundMessage
from core.service import InquiryService
from core.vocab import Channel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeChatOptions:
    keys: WeChatKeys
    chat: ChatOptions


class WeChatCallback:
    def __init__(
        self, service: InquiryService, options: WeChatOptions, clock: Callable[[], float] = time.time
    ) -> None:
        self.service = service
        self.options = options
        self.security = CallbackSecurity(options.keys, clock)
        self.responder = ChatResponder(service, options.chat)
        self.clock = clock

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/channels/wechat", self.verify), web.post("/channels/wechat", self.push)]

    async def verify(self, request: web.Request) -> web.Response:
        try:
            return web.Response(text=self.security.verify_url(request.query))
        except WeChatRejected as rejected:
            return _refuse(request, rejected)

    async def push(self, request: web.Request) -> web.Response:
        try:
            envelope = self.security.open(request.query, await request.read())
            message = message_from(envelope.fields, envelope.xml)
            account = envelope.fields.get("ToUserName", "")
        except WeChatRejected as rejected:
            return _refuse(request, rejected)
        if message is None:
            log.info("wechat push of an unhandled type answered success")
            return web.Response(text=SUCCESS)
        text = await self._answer(message)
        if text is None:
            return web.Response(text=SUCCESS)
        reply = text_reply(message.sender, account, text, int(self.clock()))
        return web.Response(text=self.security.seal(envelope, reply), content_type="application/xml")

    async def _answer(self, message: InboundMessage) -> str | None:
        """The passive reply's text, or None to answer ``success``."""
        if message.kind == "event" and message.event == "templatesendjobfinish":
            # the status of a template message sent earlier (event_key holds Status)
            await outbox.delivery_report(
                Channel.WECHAT, message.platform_id, message.event_key, datetime.now(UTC)
            )
            return None
        return await self.responder.answer(message)


def _refuse(request: web.Request, rejected: WeChatRejected) -> web.Response:
    log.warning("wechat callback refused: %s", rejected.reason, extra={"channel": "wechat"})
    return web.Response(status=rejected.status, text=rejected.reason)


def setup_wechat_channel(app: web.Application, service: InquiryService, options: WeChatOptions) -> None:
    app.router.add_routes(WeChatCallback(service, options).routes())
