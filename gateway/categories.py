"""Categories in the database: the source of the running :class:`~core.rules.Rules`.

config.yaml's ``categories`` only seed the ``category`` table: at start-up a category whose code is not
in the table yet is added, and one already there is left as the admin pages last saved it. Each
process builds its rules from the table (the ``sla`` defaults filling the policies a category leaves
empty) at start-up, right after a change in its admin pages, and within a minute of another process's
change (:meth:`CategoryRules.refresh`, a scheduler job).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime

from aiohttp import web
from tortoise.functions import Sum

from core.deadlines import Clock, DeadlinePolicy
from core.models import Category, Unit
from core.rules import CategoryRule, Rules
from core.service import InquiryService
from gateway.settings import PolicySettings, Settings

log = logging.getLogger(__name__)
RELOAD_SECONDS = 30
"""How often the scheduler looks for another process's changes."""


def _policy(clock: Clock | None, amount: int | None, default: PolicySettings) -> DeadlinePolicy:
    return DeadlinePolicy(clock, amount) if clock is not None and amount else default.to_policy()


def category_rule(row: Category, unit_code: str, settings: Settings) -> CategoryRule:
    """The rule of one row; its empty policies are the ``sla`` defaults."""
    return CategoryRule(
        code=row.code,
        name=row.name,
        unit_code=unit_code,
        ack=_policy(row.ack_clock, row.ack_amount, settings.sla.ack),
        reply=_policy(row.reply_clock, row.reply_amount, settings.sla.reply),
        urgent=row.urgent,
        active=row.active,
    )


async def seed_categories(settings: Settings) -> int:
    """Add config.yaml's categories that the table lacks (never changing a row); how many were added.

    The config's units must be in the database already (:func:`gateway.units.sync_units`).
    """
    known = set(await Category.all().values_list("code", flat=True))
    missing = [c for c in settings.categories if c.code not in known]
    if not missing:
        return 0
    units = {u.code: u for u in await Unit.filter(code__in={c.unit for c in missing})}
    now = datetime.now(UTC)
    rows = [
        Category(
            code=c.code,
            name=c.name,
            unit=units[c.unit],
            urgent=c.urgent,
            ack_clock=c.ack.clock if c.ack else None,
            ack_amount=c.ack.amount if c.ack else None,
            reply_clock=c.reply.clock if c.reply else None,
            reply_amount=c.reply.amount if c.reply else None,
            updated_at=now,
        )
        for c in missing
    ]
    # several processes may start at once: a code another one added meanwhile is skipped
    await Category.bulk_create(rows, ignore_conflicts=True)
    log.info("added %d categories from the config: %s", len(rows), ", ".join(c.code for c in missing))
    return len(rows)


async def load_rules(settings: Settings) -> Rules:
    """The config's rules with the categories of the table, in the order they were added."""
    rows = await Category.all().order_by("id").select_related("unit")
    categories = {row.code: category_rule(row, row.unit.code, settings) for row in rows}
    return replace(settings.rules(), categories=categories)


async def table_version() -> int:
    """The sum of the rows' versions: it grows with every added or changed category."""
    rows = await Category.annotate(total=Sum("version")).values_list("total", flat=True)
    return int(rows[0] or 0) if rows else 0


class CategoryRules:
    """Keeps one service's rules in step with the category table."""

    def __init__(self, settings: Settings, service: InquiryService) -> None:
        self.settings = settings
        self.service = service
        self.version = -1

    async def reload(self) -> None:
        """Build the rules from the table and swap them into the service (a new frozen object, so a
        request half-way through keeps the rules it started with)."""
        version = await table_version()
        self.service.rules = await load_rules(self.settings)
        self.version = version

    async def refresh(self) -> bool:
        """Reload if any process changed the table since the last load; whether it did."""
        if await table_version() == self.version:
            return False
        await self.reload()
        log.info("category rules reloaded from the database")
        return True


category_rules_key = web.AppKey("category_rules", CategoryRules)
