"""Units from config.yaml only add; an import file also renames; neither reactivates nor deletes."""

from __future__ import annotations

from pathlib import Path

from core.models import Unit
from gateway.settings import Settings, UnitSettings
from gateway.units import ImportedUnit, read_units_file, sync_units, unit_options, units_by_id


async def test_the_config_adds_missing_units_and_keeps_an_admins_rename_and_deactivation(
    db: None, settings: Settings
) -> None:
    await Unit.filter(code="rsj").update(name="市人社局", active=False)
    await Unit.filter(code="jwjw").delete()
    assert await sync_units(settings.units) == 1
    assert await sync_units(settings.units) == 0
    rsj = await Unit.get(code="rsj")
    assert (rsj.name, rsj.active) == ("市人社局", False)
    assert (await Unit.get(code="jwjw")).name == "市纪委监委"


async def test_an_import_renames_but_does_not_reactivate(db: None) -> None:
    await Unit.filter(code="rsj").update(active=False)
    changed = await sync_units(
        [ImportedUnit("rsj", "市人社局"), ImportedUnit("lyj", "市林业局"), ImportedUnit("jyj", "市教育局")]
    )
    assert changed == 2
    rsj = await Unit.get(code="rsj")
    assert (rsj.name, rsj.active) == ("市人社局", False)
    assert (await Unit.get(code="lyj")).name == "市林业局"


async def test_config_units_never_rename(db: None) -> None:
    assert await sync_units([UnitSettings(code="rsj", name="别的名字")]) == 0
    assert (await Unit.get(code="rsj")).name == "市人力资源和社会保障局"


async def test_a_unit_field_offers_the_active_units_and_the_saved_one_though_deactivated(db: None) -> None:
    await Unit.filter(code="rsj").update(active=False)
    rsj = await Unit.get(code="rsj")
    offered = await unit_options()
    assert "rsj" not in dict(offered)
    assert len(offered) == await Unit.filter(active=True).count()
    assert dict(await unit_options(rsj))["rsj"] == "市人力资源和社会保障局（已停用）"


async def test_units_by_id_keeps_deactivated_units_for_the_cases_that_name_them(db: None) -> None:
    await Unit.filter(code="rsj").update(active=False)
    units = await units_by_id()
    assert list(units) == sorted(units)
    assert {unit.code for unit in units.values()} == {unit.code for unit in await Unit.all()}


def test_a_units_file_is_an_import(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text("code,name\nLYJ,市林业局\n", encoding="utf-8")
    assert read_units_file(path) == [ImportedUnit("lyj", "市林业局")]
