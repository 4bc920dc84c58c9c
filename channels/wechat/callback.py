"""`GET|POST /channels/wechat`: URL verification, and every push answered inside WeChat's 5 seconds.

A citizen's message is stored (a new inquiry, or part of their open one) before the passive reply
tells them the case number, so WeChat's retries of the same message find it stored and get the same
answer. A text that is a chat command (查询, 帮助, a rating: channels.chat.commands) is answered
instead of filed, and so is a menu CLICK whose key the config maps to a command. Events and types the
gateway does not handle yet are answered ``success``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiohttp import web

from channels.chat.commands import interpret
from channels.chat.conversation import answer_command
from channels.wechat.inbound import message_from
from channels.wechat.replies import SUCCESS, text_reply
from channels.wechat.security import CallbackSecurity, WeChatKeys, WeChatRejected
from core import outbox
from core.messages import InboundMessage
from core.numbers import BEIJING
from core.service import InquiryService, Reception
from core.vocab import Channel, Kind

log = logging.getLogger(__name__)

CONTENT_KINDS = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})


@dataclass(frozen=True)
class WeChatOptions:
    keys: WeChatKeys
    public_base_url: str
    templates: Mapping[str, str]
    """receipt, joined, help, rated and unsatisfied texts (config.yaml ``templates``)."""
    default_kind: Kind = Kind.COMPLAINT
    default_category: str = "qita"
    """What an inquiry opened on WeChat is filed as until the desk screens it."""
    menu_keys: Mapping[str, str] = field(default_factory=dict)
    """Menu CLICK EventKey → the chat command it stands for, e.g. ``MY_CASES`` → 查询."""


class WeChatCallback:
    def __init__(
        self, service: InquiryService, options: WeChatOptions, clock: Callable[[], float] = time.time
    ) -> None:
        self.service = service
        self.options = options
        self.security = CallbackSecurity(options.keys, clock)
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
        if message.kind == "event":
            if message.event == "subscribe":
                return self._template("help", web=f"{self.options.public_base_url}/submit")
            if message.event == "click" and message.event_key in self.options.menu_keys:
                return await self._command(message, self.options.menu_keys[message.event_key])
            if message.event == "templatesendjobfinish":
                # the status of a template message sent earlier (event_key holds Status)
                await outbox.delivery_report(
                    Channel.WECHAT, message.platform_id, message.event_key, datetime.now(UTC)
                )
            return None
        if message.kind not in CONTENT_KINDS:
            return None
        if message.kind == "text":
            answer = await self._command(message, message.text)
            if answer is not None:
                return answer
        reception = await self.service.receive(
            message, kind=self.options.default_kind, category=self.options.default_category
        )
        return self._receipt(reception)

    async def _command(self, message: InboundMessage, text: str) -> str | None:
        """The answer to ``text`` as a chat command; None if it is none (or a rating with nothing
        to rate)."""
        command = interpret(text)
        if command is None:
            return None
        return await answer_command(
            command, message, self.service, self.options.templates, self.options.public_base_url
        )

    def _receipt(self, reception: Reception) -> str:
        inquiry = reception.inquiry
        if reception.joined:
            return self._template("joined", number=inquiry.number)
        promised = inquiry.promised_reply_at
        local = (promised or datetime.now(BEIJING)).astimezone(BEIJING)  # always set at intake
        return self._template(
            "receipt",
            number=inquiry.number,
            query_code=inquiry.query_code,
            promised=f"{local.month}月{local.day}日",
            link=f"{self.options.public_base_url}/cases/{inquiry.number}?code={inquiry.query_code}",
        )

    def _template(self, name: str, **values: str) -> str:
        return self.options.templates[name].format(**values)


def _refuse(request: web.Request, rejected: WeChatRejected) -> web.Response:
    log.warning("wechat callback refused: %s", rejected.reason, extra={"channel": "wechat"})
    return web.Response(status=rejected.status, text=rejected.reason)


def setup_wechat_channel(app: web.Application, service: InquiryService, options: WeChatOptions) -> None:
    app.router.add_routes(WeChatCallback(service, options).routes())
