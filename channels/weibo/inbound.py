"""Weibo payloads → :class:`core.messages.InboundMessage` (protocols.md §4.5, §4.6).

Two sources, both pure parsing:

- a fans-service push (a private message or an event), read with :func:`push_message`. Pushes carry no
  message id, and Weibo deduplicates its own retries on ``sender_id + created_at``; so a non-event push
  gets ``platform_id = "<unix seconds>:<type>:<digest of its content>"``, which makes its dedupe key
  sender + time + type + content: a retry (the same push again) has the same key, while two different
  pushes in the same second, of one type or two, stay apart. Events keep the core's default key, sender +
  time + event + key. Weibo's ``position`` becomes the core's ``location`` kind; the fixed labels Weibo
  puts in ``text`` of positions, images, voices and events ("发送了一个位置", "关注事件消息") are dropped
  (``raw`` keeps them). Image and voice carry a file id (``tovfid``, the receiver's copy, or else
  ``vfid``); no API we may call downloads it, so it is not a ``media_id`` to fetch (which would wait
  for ever): ``raw`` keeps it, for staff to find the file in Weibo's own back office, and the key's
  digest includes it, so two photos in one second stay apart.
- an @-mention polled from ``statuses/mentions`` or ``comments/mentions``, read with
  :func:`status_mention` and :func:`comment_mention`, which also return the :class:`MentionTarget` a
  reply goes to. A mention is named platform-wide (``unique_id = "status:<id>"`` or
  ``"comment:<id>"``) so whoever it reaches us through, it is stored once. A repost that adds nothing
  of its own (empty, "转发微博", mentions only, or just the ``//@…`` chain) stands for its original: the
  message is the original status (author, text, time, id) and replies go there, so one problem
  reposted by many is one inquiry. A repost with words of its own is its own message (the original
  stays in ``raw``).

Ids are kept as strings (``idstr``, else the integer ``id``, which Python's json reads exactly). The
``raw`` of a polled item is the item re-serialised compactly (the page it came in is not kept per
item); values, big ids included, survive the round trip. Required fields that are missing or garbled
raise ``WeiboRejected(400, ...)``; optional ones (a status's ``geo``) are ignored when garbled. An
unknown push type gives ``None``; unknown event subtypes come through for the caller to ignore.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from channels.weibo.security import WeiboRejected
from core.messages import InboundMessage
from core.vocab import Channel

TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"
"""Weibo's ``created_at``, e.g. ``Fri Nov 27 18:09:20 +0800 2026``."""

_ID = re.compile(r"[0-9]{1,20}")
_DEGREES = re.compile(r"-?[0-9]{1,3}(?:\.[0-9]{1,15})?")
_PUSH_KINDS = {"text": "text", "position": "location", "image": "image", "voice": "voice"}
_CHAIN = "//@"
_MENTION = re.compile(r"@[\w\-]+")
_REPOST_WORDS = re.compile(r"转发微博|Repost")
_NOTHING = re.compile(r"[\s\W_]*")


@dataclass(frozen=True)
class MentionTarget:
    """Where a reply to a mention goes: a comment on ``status_id``, or a reply to ``comment_id`` on it."""

    status_id: str
    comment_id: str | None = None


def push_message(payload: Mapping[str, Any], raw: str) -> InboundMessage | None:
    """The message in a fans-service push (its JSON ``payload`` as read from the body ``raw``, as
    :class:`~channels.weibo.security.Push` carries it), or ``None`` for a push type we do not handle."""
    push_type = _string(payload, "type")
    sender = _id(payload, "sender_id")
    sent_at = _time(payload)
    data = payload.get("data", {})
    if not isinstance(data, Mapping):
        raise WeiboRejected(400, "push field data is not an object")
    if push_type == "event":
        return InboundMessage(
            channel=Channel.WEIBO,
            sender=sender,
            kind="event",
            sent_at=sent_at,
            raw=raw,
            event=_string(data, "subtype").lower(),
            event_key=str(data.get("key") or ""),
        )
    kind = _PUSH_KINDS.get(push_type)
    if kind is None:
        return None
    values: dict[str, Any] = {}
    file_id = ""
    if kind == "text":
        values["text"] = _string(payload, "text")
    elif kind == "location":
        values["latitude"] = _degrees(data.get("latitude"), 90, "latitude")
        values["longitude"] = _degrees(data.get("longitude"), 180, "longitude")
    else:
        file_id = _id(data, "tovfid" if data.get("tovfid") else "vfid")
    content = hashlib.sha1(repr([*sorted(values.items()), file_id]).encode()).hexdigest()[:12]
    return InboundMessage(
        channel=Channel.WEIBO,
        sender=sender,
        kind=kind,
        sent_at=sent_at,
        raw=raw,
        platform_id=f"{int(sent_at.timestamp())}:{push_type}:{content}",
        **values,
    )


def status_mention(item: Mapping[str, Any]) -> tuple[InboundMessage, MentionTarget]:
    """A status from ``statuses/mentions``; a bare repost is read as its original (see the module doc)."""
    status = item
    original = item.get("retweeted_status")
    if (
        isinstance(original, Mapping)
        and isinstance(original.get("user"), Mapping)
        and _adds_nothing(str(item.get("text") or ""))
    ):
        status = original
    status_id = item_id(status)
    latitude, longitude = _geo(status.get("geo"))
    message = InboundMessage(
        channel=Channel.WEIBO,
        sender=_user(status),
        kind="text",
        sent_at=_time(status),
        raw=_raw(item),
        text=_string(status, "text"),
        latitude=latitude,
        longitude=longitude,
        platform_id=status_id,
        unique_id=f"status:{status_id}",
    )
    return message, MentionTarget(status_id)


def comment_mention(item: Mapping[str, Any]) -> tuple[InboundMessage, MentionTarget]:
    """A comment from ``comments/mentions``; a reply goes to the comment, on the status it is under."""
    comment_id = item_id(item)
    status = item.get("status")
    if not isinstance(status, Mapping):
        raise WeiboRejected(400, "comment without its status")
    status_id = item_id(status)
    message = InboundMessage(
        channel=Channel.WEIBO,
        sender=_user(item),
        kind="text",
        sent_at=_time(item),
        raw=_raw(item),
        text=_string(item, "text"),
        platform_id=comment_id,
        unique_id=f"comment:{comment_id}",
    )
    return message, MentionTarget(status_id, comment_id)


def item_id(item: Mapping[str, Any]) -> str:
    """The id of a status or comment as a string: ``idstr``, else the integer ``id``."""
    return _id(item, "idstr" if item.get("idstr") else "id")


def _adds_nothing(text: str) -> bool:
    """Whether a repost's own text is empty once the ``//@`` chain, mentions and "转发微博" are gone."""
    own = text.split(_CHAIN, 1)[0]
    own = _REPOST_WORDS.sub("", _MENTION.sub("", own))
    return _NOTHING.fullmatch(own) is not None


def _raw(item: Mapping[str, Any]) -> str:
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def _string(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value:
        raise WeiboRejected(400, f"field {name} missing or not a string")
    return value


def _id(fields: Mapping[str, Any], name: str) -> str:
    """A numeric id as a string; JSON integers and digit strings are accepted, floats and bools not."""
    value = fields.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if isinstance(value, str) and _ID.fullmatch(value):
        return value
    raise WeiboRejected(400, f"field {name} missing or not an id")


def _user(item: Mapping[str, Any]) -> str:
    user = item.get("user")
    if not isinstance(user, Mapping):
        raise WeiboRejected(400, "field user missing")
    return item_id(user)


def _time(fields: Mapping[str, Any]) -> datetime:
    value = _string(fields, "created_at")
    try:
        return datetime.strptime(value, TIME_FORMAT).astimezone(UTC)
    except ValueError:
        raise WeiboRejected(400, f"created_at {value!r} is not a Weibo time") from None


def _degrees(value: Any, limit: int, name: str) -> float:
    """A coordinate; Weibo sends them as strings, a number is taken too."""
    text = str(value) if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
    if not _DEGREES.fullmatch(text) or abs(degrees := float(text)) > limit:
        raise WeiboRejected(400, f"{name} is not a coordinate")
    return degrees


def _geo(geo: Any) -> tuple[float | None, float | None]:
    """A status's ``{"type": "Point", "coordinates": [latitude, longitude]}``, or no position."""
    if not isinstance(geo, Mapping) or not isinstance(points := geo.get("coordinates"), list):
        return None, None
    try:
        latitude, longitude = points
        return _degrees(latitude, 90, "latitude"), _degrees(longitude, 180, "longitude")
    except (ValueError, WeiboRejected):
        return None, None
