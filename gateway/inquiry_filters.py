"""The filters of inquiry lists, parsed and validated in one place for the staff API
(``GET /api/v1/inquiries``) and the inbox's queues, so both accept the same parameters and refuse the same
bad values with the same reason (:class:`InvalidInput`).

The text search (``q``) matches a case number exactly or the content as a substring. At a million
inquiries a substring scan is too slow, so matching rows are first looked up in the text index made by
migration ``0006_queue_indexes`` (see there), then re-checked with the substring test itself, so both
databases answer exactly what ``LIKE`` would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from pypika_tortoise import Query, Table
from pypika_tortoise.enums import Comparator
from pypika_tortoise.terms import BasicCriterion, Criterion, Function, ValueWrapper
from tortoise.expressions import Q
from tortoise.filters import insensitive_contains

from core.errors import InvalidInput
from core.models import Inquiry, Unit
from core.numbers import BEIJING, normalise_number
from core.rules import Rules
from core.states import State
from core.vocab import Channel, Kind

MAX_QUERY = 100
DATE_PARAMS = ("received_from", "received_to")

E = TypeVar("E", bound=Enum)


@dataclass(frozen=True)
class InquiryFilters:
    """Validated filters; ``None`` (or ``""``) where the parameter was not given."""

    state: State | None = None
    kind: Kind | None = None
    channel: Channel | None = None
    category: str | None = None
    unit: Unit | None = None
    overdue: bool | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    q: str = ""

    def where(self, now: dt.datetime) -> Q:
        """The filters as one condition (visibility is the caller's: ``gateway.api.visible_to``)."""
        where = Q()
        for name in ("state", "kind", "channel", "category"):
            if (value := getattr(self, name)) is not None:
                where &= Q(**{name: value})
        if self.unit is not None:
            where &= Q(unit_id=self.unit.id)
        if self.overdue is not None:
            where &= overdue(now) if self.overdue else ~overdue(now)
        if self.received_from is not None:
            where &= Q(created_at__gte=_beijing_midnight(self.received_from))
        if self.received_to is not None:
            where &= Q(created_at__lt=_beijing_midnight(self.received_to + dt.timedelta(days=1)))
        if self.q:
            where &= text_search(self.q)
        return where

    def params(self) -> dict[str, str]:
        """The filters as query parameters, for links that keep them."""
        values: dict[str, Any] = {
            "state": self.state,
            "kind": self.kind,
            "channel": self.channel,
            "category": self.category,
            "unit": self.unit.code if self.unit else None,
            "overdue": None if self.overdue is None else str(self.overdue).lower(),
            "received_from": self.received_from,
            "received_to": self.received_to,
            "q": self.q or None,
        }
        return {name: str(value) for name, value in values.items() if value is not None}


async def parse_filters(query: Mapping[str, str], rules: Rules) -> InquiryFilters:
    """The filters in ``query`` (a request's query string); :class:`InvalidInput` with the reason for a
    bad value. Parameters that are not filters (paging, the inbox's ``queue``) are left alone."""
    category = query.get("category") or None
    if category is not None and category not in rules.categories:
        raise InvalidInput(f"参数 category 的值 {category} 无效")
    unit = None
    if unit_code := query.get("unit"):
        unit = await Unit.get_or_none(code=unit_code)
        if unit is None:
            raise InvalidInput(f"参数 unit 的值 {unit_code} 无效")
    overdue_flag = query.get("overdue")
    if overdue_flag not in (None, "true", "false"):
        raise InvalidInput("参数 overdue 应为 true 或 false")
    received_from, received_to = (_date(query, name) for name in DATE_PARAMS)
    if received_from and received_to and received_from > received_to:
        raise InvalidInput("参数 received_from 的日期不能晚于 received_to")
    q = query.get("q", "").strip()
    if len(q) > MAX_QUERY:
        raise InvalidInput(f"搜索词不能超过 {MAX_QUERY} 字")
    if not _storable(q):
        raise InvalidInput("搜索词含有无效字符")
    return InquiryFilters(
        state=_enum(query, "state", State),
        kind=_enum(query, "kind", Kind),
        channel=_enum(query, "channel", Channel),
        category=category,
        unit=unit,
        overdue=None if overdue_flag is None else overdue_flag == "true",
        received_from=received_from,
        received_to=received_to,
        q=q,
    )


def overdue(now: dt.datetime) -> Q:
    """Past the deadline of the current step: acknowledgement while dispatched, reply while acknowledged."""
    return Q(state=State.DISPATCHED, ack_due_at__lt=now) | Q(state=State.ACKNOWLEDGED, reply_due_at__lt=now)


def text_search(q: str) -> Q:
    """The inquiry numbered ``q``, and those whose content holds ``q`` (as ``LIKE``: ASCII letters in
    either case). One character is too common to index: it is a plain scan.

    Two or more are one ``id IN (SELECT … WHERE number = … OR (<text index> AND LIKE))``: both halves
    of that ``OR`` use an index, where an ``OR`` in the outer query would test the substring on every
    row instead."""
    if len(q) < 2:
        return Q(number=normalise_number(q)) | Q(content__icontains=q)
    inquiry = Table("inquiry")
    in_content = _indexed(inquiry, q, Inquiry._meta.db.capabilities.dialect) & insensitive_contains(
        inquiry.content, q
    )
    by_number = inquiry.number == ValueWrapper(normalise_number(q))
    return Q(id__in=Query.from_(inquiry).select(inquiry.id).where(by_number | in_content))


class _Operator(Comparator):
    contains = "@>"
    match = " MATCH "


def _indexed(inquiry: Table, q: str, dialect: str) -> Criterion:
    """A condition the text index answers, true at least for every content that holds ``q``."""
    if dialect == "postgres":
        return BasicCriterion(
            _Operator.contains,
            Function("wz_bigrams", inquiry.content),
            Function("wz_bigrams", ValueWrapper(q)),
        )
    if len(q) >= 3:
        search = Table("inquiry_search")
        phrase = '"' + q.replace('"', '""') + '"'  # the trigrams of q, one after the other
        hits = Query.from_(search).select(search.rowid)
        hits = hits.where(BasicCriterion(_Operator.match, search.inquiry_search, ValueWrapper(phrase)))
    else:  # two characters: the trigrams that begin with them (each text is indexed with a space appended)
        terms = Table("inquiry_search_terms")
        low = q.lower()
        hits = Query.from_(terms).select(terms.doc)
        hits = hits.where((terms.term >= ValueWrapper(low)) & (terms.term < ValueWrapper(low + "\U0010ffff")))
    return inquiry.id.isin(hits)


def _enum(query: Mapping[str, str], name: str, kind: type[E]) -> E | None:
    value = query.get(name)
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"参数 {name} 的值 {value} 无效") from None


def _date(query: Mapping[str, str], name: str) -> dt.date | None:
    """A Beijing calendar date written YYYY-MM-DD (what ``<input type="date">`` sends); empty is none."""
    value = query.get(name)
    if not value:
        return None
    try:
        if len(value) != 10 or not value.isascii():
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"参数 {name} 应为日期，格式如 2026-11-27") from None


def _beijing_midnight(day: dt.date) -> dt.datetime:
    # in UTC, as stored: SQLite compares the times as text
    return dt.datetime.combine(day, dt.time(), tzinfo=BEIJING).astimezone(dt.UTC)


def _storable(text: str) -> bool:
    """Whether ``text`` can be a query parameter of either database: no NUL, no lone surrogate."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text
