"""Categories in the database: seeded from config.yaml, the running rules' source, reloaded on change."""

from __future__ import annotations

from typing import Any

import pytest
from tortoise.expressions import F

from core.actors import Actor
from core.deadlines import Clock, DeadlinePolicy
from core.errors import InvalidInput
from core.intake import IntakeRequest
from core.models import Category
from core.service import InquiryService
from core.vocab import Channel, Kind
from gateway.app import create_app
from gateway.categories import (
    CategoryRules,
    category_rules_key,
    load_rules,
    seed_categories,
    table_version,
)
from gateway.db import open_database
from gateway.scheduler import reload_category_rules
from gateway.settings import Settings
from gateway.units import sync_units


async def test_the_seeded_table_gives_the_configs_rules(db: None, settings: Settings) -> None:
    assert await seed_categories(settings) == len(settings.categories)
    rules = await load_rules(settings)
    assert rules == settings.rules()
    assert list(rules.categories) == [c.code for c in settings.categories]
    assert (await Category.get(code="shebao")).ack_clock is None  # the sla default, not a copy of it


async def test_seeding_adds_missing_categories_and_never_overwrites_an_edit(
    db: None, settings: Settings
) -> None:
    await seed_categories(settings)
    await Category.filter(code="shebao").update(name="社会保险", active=False)
    await Category.filter(code="qita").delete()
    assert await seed_categories(settings) == 1
    assert await seed_categories(settings) == 0
    shebao = await Category.get(code="shebao")
    assert (shebao.name, shebao.active) == ("社会保险", False)
    assert await Category.exists(code="qita")


async def test_retired_categories_are_closed_to_new_inquiries_but_still_resolve(
    db: None, settings: Settings, service: InquiryService
) -> None:
    await seed_categories(settings)
    await Category.filter(code="jiuye").update(active=False)
    rules = await load_rules(settings)
    assert "jiuye" not in rules.offered()
    assert list(rules.offered()) == [c.code for c in settings.categories if c.code != "jiuye"]
    assert rules.categories["jiuye"].name == "就业"
    assert not rules.category("jiuye").active
    assert rules.deadlines_for("complaint", "jiuye").unit_code == "rsj"
    assert rules.categories.get("nosuch") is None
    service.rules = rules
    request = IntakeRequest(channel=Channel.WEB, kind=Kind.COMPLAINT, category="jiuye", content="失业金")
    with pytest.raises(InvalidInput, match="没有分类 jiuye"):
        await service.intake(request, Actor.citizen())


async def test_a_change_in_another_process_is_picked_up_by_the_reload_job(
    client: Any, service: InquiryService
) -> None:
    reloader: CategoryRules = client.app[category_rules_key]
    assert service.rules.category("shebao").reply == DeadlinePolicy(Clock.working_days, 7)
    assert not await reloader.refresh()  # nothing changed: one aggregate query, no reload
    version = await table_version()
    await Category.filter(code="shebao").update(
        reply_clock=Clock.natural_hours, reply_amount=5, version=F("version") + 1
    )
    assert await table_version() == version + 1
    before = service.rules
    await reload_category_rules(client.app)
    assert service.rules is not before
    assert service.rules.category("shebao").reply == DeadlinePolicy(Clock.natural_hours, 5)
    assert not await reloader.refresh()


async def test_start_up_runs_on_the_tables_rules(
    settings: Settings, service: InquiryService, aiohttp_client: Any
) -> None:
    """A category edited while the gateway was down is the rule once it starts again."""
    async with open_database(settings.database_url):
        await sync_units(settings.units)
        await seed_categories(settings)
        await Category.filter(code="gongnuan").update(name="冬季供暖")
    await aiohttp_client(create_app(settings, service))
    assert service.rules.category("gongnuan").name == "冬季供暖"
