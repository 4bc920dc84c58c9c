"""Loading config.yaml with environment overrides; every bad config is one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.deadlines import Clock, DeadlinePolicy
from gateway.app import build_service
from gateway.settings import ConfigError, ensure_secret_key, load_settings

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config.yaml"


def test_the_shipped_config_is_the_default_city() -> None:
    settings = load_settings(CONFIG, environ={})
    assert len(settings.units) >= 20
    names = "社保 就业 医疗 住房 交通 城管 教育 环保 供暖 供水 市场监管 政风行风 其他"
    assert [c.name for c in settings.categories] == names.split()
    assert settings.conduct_unit == "jwjw"
    assert "纪委监委" in next(u.name for u in settings.units if u.code == "jwjw")
    rules = settings.rules()
    assert rules.category("shebao").ack == DeadlinePolicy(Clock.working_hours, 8)
    assert rules.category("shebao").reply == DeadlinePolicy(Clock.working_days, 7)
    assert rules.category("gongnuan").ack == DeadlinePolicy(Clock.natural_hours, 2)
    assert settings.database_url.endswith("data/wenzheng.sqlite3")
    build_service(settings)  # calendar file and office hours load


def test_environment_overrides_nested_keys_with_yaml_scalars() -> None:
    settings = load_settings(
        CONFIG,
        environ={
            "WENZHENG_DATABASE__URL": "postgres://u:p@db:5432/wz",
            "WENZHENG_SERVER__PORT": "9000",
            "WENZHENG_CHANNELS__WECHAT__ENABLED": "true",
            "WENZHENG_CHANNELS__WECHAT__APP_SECRET": "s3cret",
            "WENZHENG_CHANNELS__WECHAT__TOKEN": "tok",
            "WENZHENG_CHANNELS__WECHAT__APP_ID": "wx123",
            "WENZHENG_CONFIG": "ignored: not a key",
            "WENZHENG_TEST_DATABASE_URL": "ignored too",
            "OTHER": "x",
        },
    )
    assert settings.database_url == "postgres://u:p@db:5432/wz"
    assert settings.server.port == 9000
    assert settings.channels.wechat.enabled is True
    assert settings.channels.wechat.app_secret == "s3cret"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG.read_text(encoding="utf-8") + text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extra", "environ", "message"),
    [
        ("", {"WENZHENG_SERVER__PORT": "eighty"}, "server.port: Input should be a valid integer"),
        ("", {"WENZHENG_SERVER__PROT": "80"}, "server.prot: Extra inputs are not permitted"),
        ("", {"WENZHENG_CONDUCT_UNIT": "nope"}, "conduct_unit: no unit with code nope"),
        (
            "",
            {"WENZHENG_PUBLIC_BASE_URL": "example.org"},
            "public_base_url: must start with http:// or https://",
        ),
        ("", {"WENZHENG_SLA__ACK__CLOCK": "lunar"}, "sla.ack.clock: Input should be"),
        ("", {"WENZHENG_SLA__REPLY__AMOUNT": "0"}, "sla.reply.amount: Input should be greater than 0"),
        (
            "\nsecret_key: committed\n",
            {},
            "secret_key: secrets must come from the environment (WENZHENG_SECRET_KEY)",
        ),
        ("", {"WENZHENG_CHANNELS__WECHAT__ENABLED": "true"}, "channels.wechat: enabled, so token"),
        (
            "",
            {"WENZHENG_CHANNELS__WECHAT__DEFAULT_CATEGORY": "x"},
            "channels.wechat.default_category: no category x",
        ),
        ("", {"WENZHENG_TEMPLATES__JOINED": "已补充到 {case}"}, "templates.joined: unknown placeholder"),
        (
            "",
            {"WENZHENG_CHANNELS__WECHAT__MENU_KEYS": "{MY_CASES: 查询}"},
            "channels.wechat: menu: click key HELP has no entry in menu_keys",
        ),
        (
            "",
            {"WENZHENG_CHANNELS__WECHAT__MENU": "[{name: 我要问政, type: view, url: '{home}'}]"},
            "channels.wechat: menu: button '我要问政': unknown placeholder {home}",
        ),
        (
            "",
            {"WENZHENG_CHANNELS__WECHAT__MENU": "[{name: 问政, type: click, kee: HELP}]"},
            "channels.wechat.menu.0.kee: Extra inputs are not permitted",
        ),
    ],
)
def test_bad_config_is_one_line_naming_the_key(
    tmp_path: Path, extra: str, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path, extra), environ=environ)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_a_committed_wechat_secret_is_refused(tmp_path: Path) -> None:
    text = CONFIG.read_text(encoding="utf-8").replace(
        'app_secret: ""         # secret\n    encoding', 'app_secret: "abc"\n    encoding', 1
    )
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"channels.wechat.app_secret: secrets must come from the environment"
    ):
        load_settings(path, environ={})


def test_a_category_routed_to_an_unknown_unit(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        CONFIG.read_text(encoding="utf-8").replace("unit: rsj}", "unit: rsjj}", 1), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match=r"categories\.shebao\.unit: no unit with code rsjj"):
        load_settings(path, environ={})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a: [1,", "not valid YAML"),
        ("- just\n- a list\n", "the top level must be a mapping"),
    ],
)
def test_unreadable_config_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(path, environ={})
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "missing.yaml", environ={})


def test_bad_office_hours_and_calendar_files_stop_start_up(tmp_path: Path) -> None:
    hours = load_settings(
        CONFIG, environ={"WENZHENG_CALENDAR__OFFICE_HOURS": '[{"from": "05-01", "windows": ["14:00-10:00"]}]'}
    )
    with pytest.raises(ConfigError, match=r"calendar\.office_hours: "):
        build_service(hours)
    broken = tmp_path / "overrides.yaml"
    broken.write_text(
        "years:\n  2027:\n    days:\n      - {date: 2027-02-30, kind: holiday, name: x}\n", encoding="utf-8"
    )
    calendar = load_settings(CONFIG, environ={"WENZHENG_CALENDAR__OVERRIDES_FILE": str(broken)})
    with pytest.raises(ConfigError, match=r"calendar\.overrides_file: .*overrides\.yaml"):
        build_service(calendar)


def test_the_secret_key_is_made_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings(CONFIG, environ={"WENZHENG_DATA_DIR": str(tmp_path)})
    first = ensure_secret_key(settings).secret_key
    assert len(first) >= 48
    assert ensure_secret_key(settings).secret_key == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_a_weibo_uid_from_the_environment_stays_a_string() -> None:
    settings = load_settings(CONFIG, environ={"WENZHENG_CHANNELS__WEIBO__ACCOUNT_UID": "7000000001"})
    assert settings.channels.weibo.account_uid == "7000000001"
