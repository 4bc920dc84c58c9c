"""Passive replies (被动回复, protocols.md §1.7): the XML answered in the body of a push's response."""

from __future__ import annotations

import re
from typing import Final

SUCCESS: Final = "success"
"""The answer that acknowledges a push without replying; WeChat then shows the user nothing."""

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters XML 1.0 cannot carry at all, not even in CDATA (control characters, lone surrogates)."""


def cdata(value: str) -> str:
    """``value`` as CDATA: a ``]]>`` inside is split across two sections, so it cannot close the first."""
    return "<![CDATA[" + _NOT_XML.sub("", value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_account: str, content: str, now: int) -> str:
    """A text reply to the citizen ``to_user`` (an openid) from the account ``from_account`` (gh_…)."""
    return (
        "<xml>\n"
        f"<ToUserName>{cdata(to_user)}</ToUserName>\n"
        f"<FromUserName>{cdata(from_account)}</FromUserName>\n"
        f"<CreateTime>{int(now)}</CreateTime>\n"
        "<MsgType><![CDATA[text]]></MsgType>\n"
        f"<Content>{cdata(content)}</Content>\n"
        "</xml>"
    )
