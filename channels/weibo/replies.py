"""What goes back to Weibo: public comments (≤140 characters) and private text replies (<300).

Lengths are counted in characters, each Chinese character one, which is what the 140 汉字 limit means;
Weibo itself counts two ASCII characters as one, so a text that fits here always fits there.
"""

from __future__ import annotations

import json
import re
from typing import Final
from urllib.parse import quote

COMMENT_LIMIT: Final = 140
MESSAGE_LIMIT: Final = 299
"""A private reply's text must stay below 300 characters (protocols.md §4.6)."""

_ELLIPSIS = "…"
_TRAILING_LINK = re.compile(r"(\s*)(https?://\S+)\s*\Z")


def fit(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: cut with "…", a trailing link kept whole.

    A receipt reads "<summary> <link>": the summary is what gets shortened. Raises ValueError when the
    link alone leaves no room for a summary.
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    found = _TRAILING_LINK.search(text)
    tail = found[1] + found[2] if found else ""
    head = text[: found.start()] if found else text
    room = limit - len(tail) - len(_ELLIPSIS)
    if room < 1:
        raise ValueError(f"a link of {len(tail)} characters leaves no room in {limit}")
    return head[:room].rstrip() + _ELLIPSIS + tail


def comment_text(text: str) -> str:
    """A public comment: :func:`fit` into Weibo's 140 characters."""
    return fit(text, COMMENT_LIMIT)


def message_data(text: str) -> str:
    """The ``data`` field of a text reply: compact UTF-8 JSON, URL-encoded (protocols.md §4.6)."""
    return quote(json.dumps({"text": text}, ensure_ascii=False, separators=(",", ":")), safe="")


def passive_reply(account_id: str, receiver_id: str, text: str) -> str:
    """The HTTP answer to a fans-service push that replies ``text`` to ``receiver_id`` at once.

    ``account_id`` is ours (the push's ``receiver_id``), ``receiver_id`` the citizen (its ``sender_id``);
    both are sent as strings, as in Weibo's documented sample.
    """
    body = {
        "result": True,
        "sender_id": account_id,
        "receiver_id": receiver_id,
        "type": "text",
        "data": message_data(fit(text, MESSAGE_LIMIT)),
    }
    return json.dumps(body, separators=(",", ":"))
