"""The words of what a chat channel sends a citizen later, through the outbox, in full (a WeChat
customer-service message, a Weibo private reply): an answer framed by the ``answer`` template, or a
notice of progress."""

from __future__ import annotations

from collections.abc import Mapping

from core.models import Inquiry

ANSWERS = frozenset({"reply", "answer-directly"})
"""Outbox kinds that carry a unit's answer (and invite the rating)."""


def full_text(templates: Mapping[str, str], kind: str, text: str, inquiry: Inquiry) -> str:
    """The message of outbox ``kind`` with ``text`` on ``inquiry``, as the citizen reads it."""
    if kind in ANSWERS:
        return templates["answer"].format(
            number=inquiry.number, answer=text, signature=inquiry.reply_signature
        )
    return f"【诉求进展】{inquiry.number}：{text}"
