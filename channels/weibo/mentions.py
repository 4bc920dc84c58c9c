"""What becomes of a polled @-mention: a rating of the citizen's answered inquiry, or an inquiry.

A mention is public, so the only chat command it may carry is a rating (1 满意, 2 基本满意, 3 不满意 or the
words), typically a reply to our answer comment ("回复@某市政务:1"); 查询 and 帮助 are answered in private
channels only, and here are ordinary text. Everything else is an inquiry of its own (product.md §2:
each mention is an inquiry; it is answered where it was posted, so it never joins another), with a
receipt comment owed in the outbox.
"""

from __future__ import annotations

import logging
import re

from channels.chat.commands import CommandName, interpret
from channels.chat.conversation import answer_command
from channels.chat.responder import ChatOptions
from channels.weibo.inbound import MentionTarget
from core.messages import InboundMessage
from core.service import InquiryService

log = logging.getLogger(__name__)

_MENTION = re.compile(r"@[\w\-]+")
_REPLY_PREFIX = re.compile(r"^\s*回复\s*[:：]")
"""What is left of Weibo's "回复@name:" once the mentions are gone."""


def spoken_text(text: str) -> str:
    """What the citizen said, without Weibo's "回复@name:" prefix and the @-mentions."""
    return _REPLY_PREFIX.sub("", _MENTION.sub("", text)).strip()


class MentionIntake:
    """The poller's ``ingest``: one mention, stored or applied at most once however often it is seen."""

    def __init__(self, service: InquiryService, options: ChatOptions) -> None:
        self.service = service
        self.options = options

    async def __call__(self, message: InboundMessage, target: MentionTarget) -> None:
        command = interpret(spoken_text(message.text))
        if command is not None and command.name is CommandName.RATE:
            answered = await answer_command(
                command, message, self.service, self.options.templates, self.options.public_base_url
            )
            if answered is not None:
                log.info("weibo mention rated an inquiry", extra={"channel": "weibo"})
                return
        await self.service.receive(
            message,
            kind=self.options.default_kind,
            category=self.options.default_category,
            owe_receipt=True,
            join=False,
        )
