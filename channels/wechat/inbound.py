"""WeChat push XML → :class:`core.messages.InboundMessage` (protocols.md §1.5, §1.6).

The XML is read with :func:`channels.wechat.security.parse_fields` rather than ``wechatpy.parse_message``:

- safety does not hang on the installed xmltodict version (0.11–1.0.0 silently drop entities, 1.0.1
  raises ``ExpatError``, 1.0.2+ ``ValueError``; §3.4), and DOCTYPEs are refused the same way as in
  :class:`~channels.wechat.security.CallbackSecurity`;
- wechatpy 1.8.18 rewrites ``subscribe`` with a ``qrscene_`` key into ``subscribe_scan`` and strips the
  prefix, does not know the subscribe_msg_* events, and fails lazily (a non-numeric MsgId raises
  ``ValueError`` on attribute access), whereas here every field is checked once, up front;
- the mapping to :class:`InboundMessage` is a handful of field names, less than wechatpy's classes.

A message type we do not handle gives ``None``; a known one with missing or garbled fields raises
``WeChatRejected(400, ...)``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from channels.wechat.security import WeChatRejected, parse_fields
from core.messages import InboundMessage
from core.vocab import Channel

_INTEGER = re.compile(r"[0-9]{1,20}")
_UNIX_TIME = re.compile(r"[0-9]{1,10}")
_DEGREES = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{1,15})?")
_MEDIA = frozenset({"image", "voice", "video", "shortvideo"})


def parse(xml: str) -> InboundMessage | None:
    """The normalised message in a push's (plain or decrypted) XML, or ``None`` for an unknown MsgType."""
    return message_from(parse_fields(xml), xml)


def message_from(fields: Mapping[str, str], xml: str) -> InboundMessage | None:
    """:func:`parse` for XML already read into fields (as :class:`Envelope` carries it)."""
    kind = _required(fields, "MsgType")
    sender = _required(fields, "FromUserName")
    created = _required(fields, "CreateTime")
    if not _UNIX_TIME.fullmatch(created):
        raise WeChatRejected(400, "CreateTime is not a Unix time")
    sent_at = datetime.fromtimestamp(int(created), UTC)

    def message(**values: str | float) -> InboundMessage:
        return InboundMessage(
            channel=Channel.WECHAT, sender=sender, kind=kind, sent_at=sent_at, raw=xml, **values
        )

    if kind == "event":
        return _event(fields, message)
    if kind not in _MEDIA | {"text", "location", "link"}:
        return None
    platform_id = _integer(fields, "MsgId")
    if kind == "text":
        return message(text=_required(fields, "Content"), platform_id=platform_id)
    if kind in _MEDIA:
        text = fields.get("Recognition", "") if kind == "voice" else ""
        return message(text=text, media_id=_required(fields, "MediaId"), platform_id=platform_id)
    if kind == "location":
        return message(
            text=fields.get("Label", ""),
            latitude=_degrees(fields, "Location_X", 90),
            longitude=_degrees(fields, "Location_Y", 180),
            platform_id=platform_id,
        )
    # A link: the description is the sender's own blurb and stays in raw only.
    title, url = _required(fields, "Title"), _required(fields, "Url")
    return message(text=f"{title}\n{url}", platform_id=platform_id)


def _event(fields: Mapping[str, str], message: Callable[..., InboundMessage]) -> InboundMessage:
    """An event: its name lower-cased, ``EventKey`` kept as sent (``qrscene_`` prefix included).

    ``message`` fills in the fields every push has. Events not listed in protocols.md §1.6 come
    through the same way (name and key), for the caller to ignore.
    """
    event = _required(fields, "Event").lower()
    if event == "location":
        return message(
            event=event,
            latitude=_degrees(fields, "Latitude", 90),
            longitude=_degrees(fields, "Longitude", 180),
        )
    if event == "templatesendjobfinish":
        return message(event=event, event_key=fields.get("Status", ""), platform_id=_integer(fields, "MsgID"))
    return message(event=event, event_key=fields.get("EventKey", ""))


def _required(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name)
    if not value:
        raise WeChatRejected(400, f"XML field {name} missing")
    return value


def _integer(fields: Mapping[str, str], name: str) -> str:
    value = _required(fields, name)
    if not _INTEGER.fullmatch(value):
        raise WeChatRejected(400, f"XML field {name} is not a number")
    return value


def _degrees(fields: Mapping[str, str], name: str, limit: int) -> float:
    value = _required(fields, name)
    if not _DEGREES.fullmatch(value) or abs(degrees := float(value)) > limit:
        raise WeChatRejected(400, f"XML field {name} is not a coordinate")
    return degrees
