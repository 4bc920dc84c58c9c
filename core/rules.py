"""The city's routing and deadline rules, as the core needs them (built from config by the gateway)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.deadlines import DeadlinePolicy


@dataclass(frozen=True)
class CategoryRule:
    code: str
    name: str
    unit_code: str
    ack: DeadlinePolicy
    reply: DeadlinePolicy
    urgent: bool = False
    active: bool = True
    """Open for new inquiries; a retired category still names and times the inquiries filed under it."""


@dataclass(frozen=True)
class Rules:
    categories: Mapping[str, CategoryRule]
    """Every category, retired ones too (see :attr:`CategoryRule.active` and :meth:`offered`)."""
    conduct_unit: str
    """The discipline-inspection unit (纪委监委) that alone receives conduct complaints."""
    rating_window_days: int = 7
    extension_cap_days: int = 15
    max_reopens: int = 1
    join_window_minutes: int = 10
    """A citizen's further messages this soon after the last, while the case is still received, join it."""
    desk_signature: str = "网络问政受理中心"

    def category(self, code: str) -> CategoryRule:
        return self.categories[code]

    def offered(self) -> dict[str, CategoryRule]:
        """The categories a new inquiry may be filed under, in order."""
        return {code: rule for code, rule in self.categories.items() if rule.active}

    def deadlines_for(self, kind: str, category: str) -> CategoryRule:
        """The rule whose deadlines apply: a conduct complaint, whatever its category, is handled on
        the discipline-inspection unit's (urgent) clock, the first category routed there."""
        if kind == "conduct":
            for rule in self.categories.values():
                if rule.unit_code == self.conduct_unit:
                    return rule
        return self.categories[category]
