"""config.yaml + WENZHENG_* environment → validated, frozen settings (product.md §9).

A bad config stops start-up with :class:`ConfigError`, whose message is one line naming the key.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from channels.chat.commands import interpret
from channels.chat.responder import ChatOptions
from channels.wechat.menu import PLACEHOLDERS, MenuButton, MenuError, menu_body
from core.deadlines import Clock, DayCounting, DeadlinePolicy
from core.rules import CategoryRule, Rules
from core.vocab import Kind

ENV_PREFIX = "WENZHENG_"
# Variables with the prefix that are not config keys.
NOT_CONFIG = ("WENZHENG_CONFIG", "WENZHENG_TEST_")
SECRET_KEYS = frozenset(
    {
        ("secret_key",),
        ("channels", "wechat", "token"),
        ("channels", "wechat", "app_secret"),
        ("channels", "wechat", "encoding_aes_key"),
        ("channels", "wechat", "previous_encoding_aes_key"),
        ("channels", "weibo", "app_secret"),
        ("channels", "weibo", "access_token"),
        ("open311", "api_keys"),
    }
)


TEMPLATE_PLACEHOLDERS = {
    "receipt": ("number", "query_code", "promised", "link"),
    "joined": ("number",),
    "help": ("web",),
    "rated": (),
    "unsatisfied": (),
}
"""The citizen texts the channels fill in, and the placeholders each may use."""


class ConfigError(Exception):
    """The configuration is unusable; ``str(error)`` is one line that names the key."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(Section):
    url: str = ""


class RedisSettings(Section):
    url: str = ""


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)


class ApiSettings(Section):
    token_hours: int = Field(12, ge=1, le=24 * 30)


class RateLimit(Section):
    per_minute: int = Field(5, ge=1)
    per_day: int = Field(50, ge=1)


class LoginThrottle(Section):
    """Failed sign-ins allowed per account (username) and per client address; more get 429."""

    account_per_minute: int = Field(5, ge=1)
    account_per_day: int = Field(30, ge=1)
    address_per_minute: int = Field(20, ge=1)
    address_per_day: int = Field(200, ge=1)


class LiveSettings(Section):
    """The inbox's live updates (server-sent events at ``/inbox/events``)."""

    poll_ms: int = Field(250, ge=20, le=10_000)
    """How often each process reads new audit events for its open pages."""
    heartbeat_seconds: float = Field(15, gt=0, le=300)
    """A comment line this often keeps proxies from closing an idle stream."""
    max_per_staff: int = Field(8, ge=1, le=100)
    """Open streams per staff member (about one per open inbox tab); more get 429."""
    max_connections: int = Field(1000, ge=1)
    """Open streams per process; more get 429."""
    replay_limit: int = Field(500, ge=1, le=10_000)
    """Events replayed to a reconnecting page at most; past it the page reloads its data instead."""


class InboxSettings(Section):
    session_hours: int = Field(10, ge=1, le=24 * 30)
    """Lifetime of a staff inbox session from sign-in."""
    login_throttle: LoginThrottle = LoginThrottle()
    live: LiveSettings = LiveSettings()


class WebChannelSettings(Section):
    enabled: bool = True
    max_content_chars: int = Field(5000, ge=10, le=20000)
    rate_limit: RateLimit = RateLimit()


def _chat_commands(value: dict[str, str]) -> dict[str, str]:
    for key, text in value.items():
        if interpret(text) is None:
            raise ValueError(f"{key}: {text!r} is not a chat command (查询, 查询 编号, 帮助)")
    return value


MenuKeys = Annotated[dict[str, str], AfterValidator(_chat_commands)]
"""Menu click key → the chat command it stands for."""


class MenuButtonSettings(Section):
    """One button of the custom menu: click (key), view (url) or a group (sub_button)."""

    name: str
    type: str = ""
    key: str = ""
    url: str = ""
    sub_button: tuple[MenuButtonSettings, ...] = ()

    def to_button(self) -> MenuButton:
        subs = tuple(sub.to_button() for sub in self.sub_button)
        return MenuButton(name=self.name, type=self.type, key=self.key, url=self.url, sub_buttons=subs)


class ChatChannelSettings(Section):
    """What the chat channels (WeChat, Weibo) have alike: how pushes are checked, what an inquiry they
    open is filed as, which menu keys are commands, how often their outbox is drained."""

    enabled: bool = False
    replay_window_seconds: int = Field(300, ge=0)
    delivery_seconds: int = Field(5, ge=1, le=3600)
    default_kind: Kind = Kind.COMPLAINT
    default_category: str = "qita"
    menu_keys: MenuKeys = {}
    """Menu click key → the chat command it stands for."""


class WeChatSettings(ChatChannelSettings):
    token: str = ""
    app_id: str = ""
    app_secret: str = ""
    encoding_aes_key: str = ""
    previous_encoding_aes_key: str = ""
    api_base: str = "https://api.weixin.qq.com"
    template_ids: dict[str, str] = {}
    menu_keys: MenuKeys = {"MY_CASES": "查询", "HELP": "帮助"}
    """Menu CLICK EventKey → the chat command it stands for."""
    menu: tuple[MenuButtonSettings, ...] = ()
    """The custom menu pushed by ``wenzheng wechat-menu``."""
    oauth_base: str = "https://open.weixin.qq.com"
    """Where web-page authorisation's authorize page is (the simulator's in the demo)."""

    @model_validator(mode="after")
    def _menu_is_valid(self) -> WeChatSettings:
        if not self.menu:
            return self
        buttons = self.menu_buttons()
        try:
            menu_body(buttons, dict.fromkeys(PLACEHOLDERS, "https://example.invalid"))
        except MenuError as error:
            raise ValueError(f"menu: {error}") from None
        keys = {sub.key for button in buttons for sub in (button, *button.sub_buttons) if sub.type == "click"}
        if unmapped := sorted(keys - self.menu_keys.keys()):
            raise ValueError(f"menu: click key {unmapped[0]} has no entry in menu_keys")
        return self

    def menu_buttons(self) -> tuple[MenuButton, ...]:
        return tuple(button.to_button() for button in self.menu)


class WeiboSettings(ChatChannelSettings):
    app_key: str = ""
    app_secret: str = ""
    """Signs the fans-service pushes; without it /channels/weibo is not served."""
    access_token: str = ""
    """For polling mentions and writing comments and private replies; without it neither runs."""
    account_uid: Annotated[
        str, BeforeValidator(lambda value: str(value) if isinstance(value, int) else value)
    ] = ""
    """The account's uid (digits; an environment value reads as a number)."""
    api_base: str = "https://api.weibo.com"
    messages_base: str = "https://m.api.weibo.com"
    rip: str = ""
    """The operator's public IP, which comments/create asks for (``rip``); empty leaves it out."""
    poll: bool = True
    """Poll mentions in this process (turn off in all but one process of a deployment)."""
    poll_seconds: int = Field(180, ge=5)
    page_size: int = Field(50, ge=1, le=200)
    max_backoff_seconds: int = Field(1800, ge=5)
    first_poll_hours: float = Field(24, ge=0)
    """How far back the first poll (no cursor yet) files mentions; older ones are left alone."""
    delivery_seconds: int = Field(10, ge=1, le=3600)


class ChannelsSettings(Section):
    web: WebChannelSettings = WebChannelSettings()
    wechat: WeChatSettings = WeChatSettings()
    weibo: WeiboSettings = WeiboSettings()


class PolicySettings(Section):
    clock: Clock
    amount: int = Field(gt=0, le=366)

    def to_policy(self) -> DeadlinePolicy:
        return DeadlinePolicy(clock=self.clock, amount=self.amount)


class SlaSettings(Section):
    ack: PolicySettings = PolicySettings(clock=Clock.working_hours, amount=8)
    reply: PolicySettings = PolicySettings(clock=Clock.working_days, amount=7)
    rating_window_days: int = Field(7, ge=1, le=60)
    extension_cap_days: int = Field(15, ge=0, le=60)
    max_reopens: int = Field(1, ge=0, le=5)
    join_window_minutes: int = Field(10, ge=0, le=24 * 60)
    day_counting: DayCounting = DayCounting.next_day


class SeasonSettings(Section):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    starts: str = Field(alias="from", pattern=r"^\d\d-\d\d$")
    windows: list[str]


class CalendarSettings(Section):
    overrides_file: str = ""
    office_hours: list[SeasonSettings] = []


class UnitSettings(Section):
    code: str = Field(pattern=r"^[a-z0-9_]{1,32}$")
    name: str = Field(min_length=1, max_length=100)


class CategorySettings(Section):
    code: str = Field(pattern=r"^[a-z0-9_]{1,32}$")
    name: str = Field(min_length=1, max_length=32)
    unit: str
    urgent: bool = False
    ack: PolicySettings | None = None
    reply: PolicySettings | None = None


class AssessmentSettings(Section):
    weights: dict[str, float] = {"response": 30, "on_time_reply": 35, "satisfaction": 35}
    bands: dict[str, float] = {"excellent": 90, "good": 80, "pass": 60}
    min_sample: int = Field(5, ge=1)


class SchedulerSettings(Section):
    enabled: bool = True
    sweep_seconds: int = Field(60, ge=1, le=3600)


class Open311Settings(Section):
    api_keys: list[str] = []


class Settings(Section):
    data_dir: Path = Path("./data")
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    public_base_url: str = "http://127.0.0.1:8080"
    server: ServerSettings = ServerSettings()
    secret_key: str = ""
    api: ApiSettings = ApiSettings()
    inbox: InboxSettings = InboxSettings()
    channels: ChannelsSettings = ChannelsSettings()
    sla: SlaSettings = SlaSettings()
    calendar: CalendarSettings = CalendarSettings()
    conduct_unit: str
    units: list[UnitSettings] = Field(min_length=1)
    categories: list[CategorySettings] = Field(min_length=1)
    assessment: AssessmentSettings = AssessmentSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    templates: dict[str, str] = {}
    open311: Open311Settings = Open311Settings()
    config_dir: Path = Path(".")
    """Directory of the config file; relative paths in it are resolved against this."""

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _references(self) -> Settings:
        codes = [u.code for u in self.units]
        duplicates = {c for c in codes if codes.count(c) > 1}
        if duplicates:
            raise ValueError(f"units: duplicate code {sorted(duplicates)[0]}")
        category_codes = [c.code for c in self.categories]
        if len(set(category_codes)) != len(category_codes):
            raise ValueError("categories: duplicate code")
        for category in self.categories:
            if category.unit not in codes:
                raise ValueError(f"categories.{category.code}.unit: no unit with code {category.unit}")
        if self.conduct_unit not in codes:
            raise ValueError(f"conduct_unit: no unit with code {self.conduct_unit}")
        wechat, weibo = self.channels.wechat, self.channels.weibo
        for name, chat in (("wechat", wechat), ("weibo", weibo)):
            if chat.default_category not in category_codes:
                raise ValueError(f"channels.{name}.default_category: no category {chat.default_category}")
        if wechat.enabled and not (wechat.token and wechat.app_id):
            raise ValueError(
                "channels.wechat: enabled, so token (from the environment) and app_id are required"
            )
        if weibo.enabled and not (weibo.app_secret or weibo.access_token):
            raise ValueError(
                "channels.weibo: enabled, so app_secret (fans-service push) or access_token (mentions), "
                "from the environment, is required"
            )
        for name, placeholders in TEMPLATE_PLACEHOLDERS.items():
            template = self.templates.get(name)
            if template is None:
                raise ValueError(f"templates.{name}: missing")
            try:
                template.format(**dict.fromkeys(placeholders, ""))
            except (KeyError, IndexError, ValueError) as error:
                raise ValueError(f"templates.{name}: unknown placeholder or bad braces ({error})") from None
        return self

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite://{self.data_path / 'wenzheng.sqlite3'}"

    @property
    def data_path(self) -> Path:
        return self.data_dir if self.data_dir.is_absolute() else Path.cwd() / self.data_dir

    def resolve(self, path: str) -> Path:
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.config_dir / candidate

    def chat_options(self, channel: ChatChannelSettings) -> ChatOptions:
        """How a chat channel (``channels.wechat``, ``channels.weibo``) answers citizens."""
        return ChatOptions(
            public_base_url=self.public_base_url,
            templates=self.templates,
            default_kind=channel.default_kind,
            default_category=channel.default_category,
            menu_keys=channel.menu_keys,
        )

    def rules(self) -> Rules:
        categories = {
            c.code: CategoryRule(
                code=c.code,
                name=c.name,
                unit_code=c.unit,
                ack=(c.ack or self.sla.ack).to_policy(),
                reply=(c.reply or self.sla.reply).to_policy(),
                urgent=c.urgent,
            )
            for c in self.categories
        }
        return Rules(
            categories=categories,
            conduct_unit=self.conduct_unit,
            rating_window_days=self.sla.rating_window_days,
            extension_cap_days=self.sla.extension_cap_days,
            max_reopens=self.sla.max_reopens,
            join_window_minutes=self.sla.join_window_minutes,
        )


def default_config_path() -> Path:
    return Path(os.environ.get("WENZHENG_CONFIG") or "config.yaml")


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``path`` (default: $WENZHENG_CONFIG or ./config.yaml), apply the environment, validate."""
    path = path or default_config_path()
    environ = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"cannot read config file {path}: {error.strerror or error}") from None
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    _refuse_committed_secrets(document, path)
    for name, value in environ.items():
        if name.startswith(ENV_PREFIX) and not name.startswith(NOT_CONFIG):
            _set_path(document, name[len(ENV_PREFIX) :].lower().split("__"), _scalar(value))
    document["config_dir"] = str(path.resolve().parent)
    try:
        return Settings.model_validate(document)
    except ValidationError as error:
        raise ConfigError(_one_line(error)) from None


def _refuse_committed_secrets(document: dict[str, Any], path: Path) -> None:
    for key in SECRET_KEYS:
        node: Any = document
        for part in key:
            node = node.get(part) if isinstance(node, dict) else None
        if node:
            dotted = ".".join(key)
            env = ENV_PREFIX + "__".join(key).upper()
            raise ConfigError(f"{dotted}: secrets must come from the environment ({env}), not from {path}")


def _scalar(value: str) -> Any:
    try:
        return yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        return value


def _set_path(document: dict[str, Any], parts: list[str], value: Any) -> None:
    node = document
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(p) for p in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    return f"{location}: {message}" if location else message


def ensure_secret_key(settings: Settings) -> Settings:
    """``settings`` with a secret key: configured, else kept in ``<data_dir>/secret_key`` (made once)."""
    if settings.secret_key:
        return settings
    path = settings.data_path / "secret_key"
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
            path.chmod(0o600)
        key = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigError(
            f"data_dir: cannot keep the secret key in {path}: {error.strerror or error}"
        ) from None
    return settings.model_copy(update={"secret_key": key})
