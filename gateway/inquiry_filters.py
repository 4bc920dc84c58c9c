"""The filters of inquiry lists, parsed and validated in one place for the staff API
(``GET /api/v1/inquiries``) and the inbox's queues, so both accept the same parameters and refuse the same
bad values with the same reason (:class:`InvalidInput`).

The text search (``q``, two characters or more) matches a case number exactly or the content as a
substring. At a million inquiries a substring scan is too slow, so matching rows are first looked up in
the text index made by migration ``0006_queue_indexes`` (see there), then re-checked with the substring
test itself, so both databases answer exactly what ``LIKE`` would. How depends on how common the text
is (:func:`text_search`); one character is refused: it is in too many inquiries for any index to help.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from pypika_tortoise import Query, Table
from pypika_tortoise.enums import Comparator
from pypika_tortoise.queries import QueryBuilder
from pypika_tortoise.terms import BasicCriterion, Criterion, Function, ValueWrapper
from tortoise.expressions import Q, ResolveContext
from tortoise.query_utils import QueryModifier

from core.errors import InvalidInput
from core.models import Inquiry, Unit
from core.numbers import BEIJING, normalise_number
from core.rules import Rules
from core.states import State
from core.vocab import Channel, Kind

MAX_QUERY = 100
MIN_QUERY = 2
FEW_HITS = 500
"""A text the index finds in at most this many inquiries is looked up by their ids; a commoner one is
tested along the queue's own index, newest first (see :func:`text_search`)."""
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
    search: Q | None = None
    """The condition of ``q``, from :func:`text_search` (it reads the text index, so it is made once
    when the filters are parsed)."""

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
        if self.search is not None:
            where &= self.search
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
        if not storable_text(unit_code):  # a NUL would reach the query: PostgreSQL refuses it (a 500)
            raise InvalidInput("参数 unit 的值含有无效字符")
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
    if 0 < len(q) < MIN_QUERY:
        raise InvalidInput(f"搜索词至少 {MIN_QUERY} 个字：单个字出现在太多诉求里，请输入词语或诉求编号")
    if not storable_text(q):
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
        search=await text_search(q) if q else None,
    )


def overdue(now: dt.datetime) -> Q:
    """Past the deadline of the current step: acknowledgement while dispatched, reply while acknowledged."""
    return Q(state=State.DISPATCHED, ack_due_at__lt=now) | Q(state=State.ACKNOWLEDGED, reply_due_at__lt=now)


async def text_search(q: str) -> Q:
    """The inquiry numbered ``q``, and those whose content holds ``q`` (as ``LIKE``: ASCII letters in
    either case); ``q`` has two characters or more.

    The text index is asked first for at most :data:`FEW_HITS` + 1 candidates (a millisecond or a few).
    A rare text then becomes ``id IN (<those ids>) AND LIKE``: a few hundred rows by primary key, however
    the queue and the filters select. A common one would make that list tens of thousands long, each
    row read and re-checked for the page and again for every tab's count; instead the rows are read
    along the queue's own index, newest first, which stops once the page or the capped count is full:

    - SQLite: ``id+0 IN (<text index>) AND LIKE``. The ``+0`` keeps the planner from driving the query
      by the candidates; membership is checked on the index entry, so only members are read and
      re-checked.
    - PostgreSQL: ``<the first two characters' bigram> AND LIKE``. The bigram index can only hand over
      all of its rows (a bitmap), so the planner combines it with the queue's index (``BitmapAnd``)
      and reads only the rows in both, or walks the queue's index when the text is common enough. One
      bigram, not all of ``q``'s: the planner's estimate for several multiplies their frequencies as if
      independent, takes a common phrase for a rare one and reads its 20,000 rows.
    """
    inquiry = Table("inquiry")
    db = Inquiry._meta.db
    dialect = db.capabilities.dialect
    probe = _candidates(db.query_class, q, dialect).limit(FEW_HITS + 1)
    sql, params = probe.get_parameterized_sql()
    hits = [row["id"] for row in await db.execute_query_dict(sql, params)]
    numbered = await Inquiry.filter(number=normalise_number(q)).values_list("id", flat=True)
    # without letters that have a case (Chinese, digits, signs) the case-blind test is the plain one,
    # which spares upper-casing every row it reads (most of a walk's cost on PostgreSQL)
    in_content = Q(content__contains=q) if q.upper() == q.lower() else Q(content__icontains=q)
    by_number = Q(id__in=numbered)
    if len(hits) <= FEW_HITS:  # one id list drives the query, the number's row included
        return Q(id__in=[*hits, *numbered]) & (in_content | by_number if numbered else in_content)
    if dialect == "postgres":
        matches = Condition(_bigrams_contain(inquiry, q[:2])) & in_content
    else:
        matches = Condition((inquiry.id + 0).isin(_candidates(Query, q, dialect))) & in_content
    return matches | by_number if numbered else matches


class Condition(Q):
    """A condition written in SQL terms (pypika), for what the ORM's field lookups cannot say."""

    __slots__ = ("criterion",)

    def __init__(self, criterion: Criterion) -> None:
        super().__init__()
        self.criterion = criterion

    def resolve(self, resolve_context: ResolveContext) -> QueryModifier:
        return QueryModifier(where_criterion=self.criterion)

    def __invert__(self) -> Q:
        return Condition(self.criterion.negate())


def _bigrams_contain(inquiry: Table, q: str) -> Criterion:
    """PostgreSQL: the content holds every two-character run of ``q`` (the bigram index answers it)."""
    return BasicCriterion(
        _Operator.contains, Function("wz_bigrams", inquiry.content), Function("wz_bigrams", ValueWrapper(q))
    )


class _Operator(Comparator):
    contains = "@>"
    match = " MATCH "


def _candidates(query: type[Query], q: str, dialect: str) -> QueryBuilder:
    """The ids (column ``id``) the text index gives for ``q``: at least every inquiry whose content
    holds it."""
    if dialect == "postgres":
        inquiry = Table("inquiry")
        return query.from_(inquiry).select(inquiry.id).where(_bigrams_contain(inquiry, q))
    if len(q) >= 3:
        search = Table("inquiry_search")
        phrase = '"' + q.replace('"', '""') + '"'  # the trigrams of q, one after the other
        matched = BasicCriterion(_Operator.match, search.inquiry_search, ValueWrapper(phrase))
        return query.from_(search).select(search.rowid.as_("id")).where(matched)
    # two characters: the trigrams that begin with them (each text is indexed with a space appended)
    terms = Table("inquiry_search_terms")
    low = q.lower()
    prefixed = (terms.term >= ValueWrapper(low)) & (terms.term < ValueWrapper(low + "\U0010ffff"))
    return query.from_(terms).select(terms.doc.as_("id")).distinct().where(prefixed)  # a row per instance


def _enum(query: Mapping[str, str], name: str, kind: type[E]) -> E | None:
    """The member named by ``query[name]``; absent or empty is none (as for ``category`` and ``unit``:
    a form's "any" option sends the parameter empty)."""
    value = query.get(name)
    if not value:
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


def storable_text(text: str) -> bool:
    """Whether ``text`` can be stored or be a query parameter on either database: no NUL (PostgreSQL
    refuses it in text), no lone surrogate such as "\\ud800" (not encodable as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text
