"""The answer a chat channel gives at once to a citizen's message or event (WeChat's passive reply,
Weibo's fans-service reply): a welcome on subscribing, a chat command's answer (typed, or a menu CLICK
whose key the config maps to one), or, for anything else the citizen sends, the receipt of the inquiry
it was filed in (new, or joined within the window)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from channels.chat.commands import interpret
from channels.chat.conversation import answer_command
from channels.links import case_link
from core.errors import CoreError
from core.messages import InboundMessage
from core.numbers import BEIJING
from core.service import InquiryService, Reception
from core.vocab import Kind

CONTENT_KINDS = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})
WELCOME_EVENTS = frozenset({"subscribe", "follow"})
"""WeChat's subscribe; Weibo's follow (and its subscribe)."""


@dataclass(frozen=True)
class ChatOptions:
    public_base_url: str
    templates: Mapping[str, str]
    """receipt, joined, help, rated and unsatisfied texts (config.yaml ``templates``)."""
    default_kind: Kind = Kind.COMPLAINT
    default_category: str = "qita"
    """What an inquiry opened on the channel is filed as until the desk screens it."""
    menu_keys: Mapping[str, str] = field(default_factory=dict)
    """Menu CLICK key → the chat command it stands for, e.g. ``MY_CASES`` → 查询."""


class ChatResponder:
    def __init__(self, service: InquiryService, options: ChatOptions) -> None:
        self.service = service
        self.options = options

    async def answer(self, message: InboundMessage) -> str | None:
        """The reply's text, or None to answer nothing."""
        if message.kind == "event":
            if message.event in WELCOME_EVENTS:
                return self._template("help", web=f"{self.options.public_base_url}/submit")
            if message.event == "click" and message.event_key in self.options.menu_keys:
                return await self._command(message, self.options.menu_keys[message.event_key])
            return None
        if message.kind not in CONTENT_KINDS:
            return None
        if message.kind == "text":
            answer = await self._command(message, message.text)
            if answer is not None:
                return answer
        try:
            reception = await self.service.receive(
                message, kind=self.options.default_kind, category=self.options.default_category
            )
        except CoreError as refused:
            # nothing was stored (a text over the length limit, say): the citizen is told why, once,
            # rather than the platform getting an error and sending the message again
            return str(refused)
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
            link=case_link(self.options.public_base_url, inquiry),
        )

    def _template(self, name: str, **values: str) -> str:
        return self.options.templates[name].format(**values)
