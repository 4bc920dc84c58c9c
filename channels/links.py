"""Where a citizen reads their inquiry: the web channel's case page, linked from every channel's
receipts, answers and notices."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from core.models import Inquiry


def case_path(number: str, code: str, **extra: str) -> str:
    """The case page of inquiry ``number``, opened with its query ``code``."""
    return f"/cases/{quote(number, safe='')}?{urlencode({'code': code, **extra})}"


def case_link(public_base_url: str, inquiry: Inquiry) -> str:
    """The full address of ``inquiry``'s case page, for messages sent to the citizen."""
    return public_base_url + case_path(inquiry.number, inquiry.query_code)
