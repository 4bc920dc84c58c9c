"""The chat commands a citizen may type to the Official Account or the Weibo account (product.md §2).

:func:`interpret` is pure: it tells a command from an ordinary message, which becomes or joins an
inquiry. Full-width characters are folded to half-width first, so 「？」, 「３」 and a case number typed
with a Chinese input method are recognised too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from core.vocab import Rating


class CommandName(StrEnum):
    HELP = "help"
    LIST = "list"
    """查询: the citizen's recent inquiries."""
    SHOW = "show"
    """查询 <编号>: one inquiry."""
    RATE = "rate"


@dataclass(frozen=True)
class Command:
    name: CommandName
    number: str = ""
    """SHOW: the case number, upper case without spaces."""
    rating: Rating | None = None
    """RATE: the rating given."""


HELP_WORDS = frozenset({"帮助", "help", "?"})
QUERY_WORD = "查询"
CASE_NUMBER = re.compile(r"WZ\d{8}-\d{5}")
RATING_WORDS = {
    "1": Rating.SATISFIED,
    "满意": Rating.SATISFIED,
    "2": Rating.BASICALLY_SATISFIED,
    "基本满意": Rating.BASICALLY_SATISFIED,
    "3": Rating.UNSATISFIED,
    "不满意": Rating.UNSATISFIED,
}
TRAILING_PUNCTUATION = "。.!！~～"


def interpret(text: str) -> Command | None:
    """The command ``text`` is, or None for an ordinary message."""
    folded = unicodedata.normalize("NFKC", text).strip()
    if folded.lower() in HELP_WORDS:
        return Command(CommandName.HELP)
    if folded.startswith(QUERY_WORD):
        number = "".join(folded[len(QUERY_WORD) :].split()).upper()
        if not number:
            return Command(CommandName.LIST)
        if CASE_NUMBER.fullmatch(number):
            return Command(CommandName.SHOW, number=number)
        return None
    rating = RATING_WORDS.get(folded.rstrip(TRAILING_PUNCTUATION).strip())
    return Command(CommandName.RATE, rating=rating) if rating is not None else None
