"""Settings from `config.yaml`, each channel validating its own section.

Secrets never live in the file: `${NAME}` (or `${NAME:-default}`) is replaced by the
environment variable, and `REPCOACH_DATABASE_URL` overrides `database.url` so a deployment or
a test run can point the same file at PostgreSQL.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from coach.settings import DigestSettings, EngineSettings
from coach.validation_cache import OFF, ValidationCache, default_cache_dir

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(ValueError):
    """The configuration cannot be used; the message says what to fix. A ValueError, like
    the ones a channel raises when its section lacks a value."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseConfig(Section):
    url: str = "sqlite:///data/repcoach.sqlite3"
    # PostgreSQL: connections each of a worker's two pools (turns; background passes and
    # admin commands) keeps open, and up to twice as many more while busy: at most
    # 6 x pool_size per worker (coach/store/database.py postgres_pool).
    pool_size: int = Field(10, ge=1, le=100)


class PlaybooksConfig(Section):
    dir: str = "playbooks"
    # where a worker remembers that these playbook files passed validation, so the next start
    # on the same files skips it (coach/validation_cache.py): "" = the usual cache folder
    # ($CACHE_DIRECTORY, $XDG_CACHE_HOME/repcoach or ~/.cache/repcoach); "off" = validate
    # in full at every start
    cache_dir: str = ""


class CoachConfig(Section):
    suggestions_per_day: int = Field(5, ge=1, le=50)
    dismiss_cooldown_days: int = Field(30, ge=0)
    max_text_chars: int = Field(2000, ge=100, le=20000)
    reminder_hour: int = Field(9, ge=0, le=23)
    utc_offset_hours: int = Field(8, ge=-12, le=14)
    enroll_code_days: int = Field(7, ge=1, le=90)
    adverse_event_hours: int = Field(24, ge=1, le=168)
    adverse_event_remind_before_hours: int = Field(4, ge=0, le=48)
    review_days: int = Field(90, ge=7, le=730)
    stalled_visits: int = Field(5, ge=2, le=50)


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class DigestConfig(Section):
    """The weekly digest: day and time in company time (`coach.utc_offset_hours`)."""

    enabled: bool = True
    day: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                 "sunday"] = "monday"
    time: str = "08:30"
    stalled_visit_days: int = Field(21, ge=1, le=365)
    stalled_stage_weeks: int = Field(6, ge=1, le=104)

    @field_validator("time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
        if match is None:
            raise ValueError("time must be HH:MM on a 24-hour clock, e.g. 08:30")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    def settings(self) -> DigestSettings:
        hour, minute = (int(part) for part in self.time.split(":"))
        return DigestSettings(enabled=self.enabled, weekday=WEEKDAYS.index(self.day),
                              hour=hour, minute=minute,
                              stalled_visit_days=self.stalled_visit_days,
                              stalled_stage_weeks=self.stalled_stage_weeks)


class ConsoleConfig(Section):
    enabled: bool = True


class TelegramConfig(Section):
    enabled: bool = False
    token: str = ""
    base_url: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    listen: str = "127.0.0.1"
    port: int = 8443
    path: str = "/telegram"
    public_url: str | None = None
    secret_token: str = ""
    poll_timeout: int = Field(20, ge=0, le=60)
    reminder_interval: float = Field(30.0, gt=0)
    # How long a worker owns the messages it stored and the replies and reminders it is
    # sending (coach/mailbox.py): a dead worker's are taken up by another after this.
    lease_seconds: float = Field(300.0, ge=1)

    @field_validator("secret_token")
    @classmethod
    def _secret_alphabet(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("secret_token must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value


class WecomConfig(Section):
    enabled: bool = False
    corp_id: str = ""
    agent_id: int = 0
    secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    api_base_url: str = "https://qyapi.weixin.qq.com"
    listen: str = "0.0.0.0"
    port: int = 8080
    path: str = "/wecom/callback"
    allow_users: list[str] = Field(default_factory=list)
    # Enroll any member of the corp on their first message, without a code. Off by default:
    # with it on, every member who finds the app has full access and no team (so no
    # manager sees their flags or safety reports) until an admin sets one.
    auto_enroll: bool = False
    reminder_interval: float = Field(30.0, gt=0)
    lease_seconds: float = Field(300.0, ge=1)  # as for Telegram

    def missing(self) -> list[str]:
        """The keys the channel cannot run without that are empty (or agent_id 0)."""
        empty = [k for k in ("corp_id", "secret", "token", "encoding_aes_key")
                 if not getattr(self, k)]
        return empty + ([] if self.agent_id else ["agent_id"])


class DocumentsConfig(Section):
    """Plans and reports as pages behind signed, expiring links (`repcoach run`). Off, they
    go out as files. `public_url` is how a phone reaches `listen:port` + `path` (through the
    deployment's HTTPS proxy); `secret` signs the links (empty: one kept in `dir`)."""

    enabled: bool = False
    public_url: str = ""
    listen: str = "127.0.0.1"
    port: int = 8090
    path: str = "/d"
    dir: str = "data/documents"
    secret: str = ""
    valid_hours: int = Field(72, ge=1, le=24 * 30)

    @field_validator("path")
    @classmethod
    def _path_shape(cls, value: str) -> str:
        if not re.fullmatch(r"(/[A-Za-z0-9_-]+)+", value):
            raise ValueError("path must look like /d or /docs/view")
        return value


class ChannelsConfig(Section):
    console: ConsoleConfig = Field(default_factory=ConsoleConfig)
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    wecom: WecomConfig = Field(default_factory=WecomConfig)


class AppConfig(Section):
    locale: Literal["zh", "en"] = "zh"
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    playbooks: PlaybooksConfig = Field(default_factory=PlaybooksConfig)
    coach: CoachConfig = Field(default_factory=CoachConfig)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    documents: DocumentsConfig = Field(default_factory=DocumentsConfig)
    base_dir: str = "."
    # dotted key -> the environment variable it named that is not set (`${NAME}`)
    _unset: dict[str, str] = PrivateAttr(default_factory=dict)
    _source: str = PrivateAttr(default="config")  # the file, for error messages

    def unset_variable(self, key: str) -> str | None:
        """The environment variable `key` (e.g. "channels.wecom.secret") was to come from,
        when that variable is not set: what an admin must export."""
        return self._unset.get(key)

    def channel_error(self, section: str, problem: ValueError) -> ConfigError:
        """What a channel refused in its section (`channels.wecom is missing: secret`, a
        bad EncodingAESKey) as a ConfigError naming the file and, for each empty key whose
        `${NAME}` is unset, the variable to export."""
        text = str(problem)
        if not text.startswith("channels."):
            text = f"{section}: {text}"
        keys = re.findall(r"[a-z_]+", text.partition("missing:")[2])
        unset = [f"{name} (for {key})" for key in keys
                 if (name := self.unset_variable(f"{section}.{key}"))]
        if unset:
            text += f"; environment variable not set: {', '.join(unset)}"
        return ConfigError(f"{self._source}: {text}")

    @property
    def documents_dir(self) -> Path:
        return (Path(self.base_dir) / self.documents.dir).resolve()

    @property
    def playbook_dir(self) -> Path:
        return (Path(self.base_dir) / self.playbooks.dir).resolve()

    def validation_cache(self) -> ValidationCache | None:
        """Where clean validation verdicts are kept; None when `playbooks.cache_dir` is off."""
        folder = self.playbooks.cache_dir.strip()
        if folder == OFF:
            return None
        if not folder:
            return ValidationCache(default_cache_dir())
        return ValidationCache((Path(self.base_dir) / folder).resolve())

    def secrets(self) -> list[str]:
        """Every secret value in the configuration, for the log filter (bot/logsafe.py); the
        database URL's password too."""
        telegram, wecom = self.channels.telegram, self.channels.wecom
        found = [telegram.token, telegram.secret_token, wecom.secret, wecom.token,
                 wecom.encoding_aes_key, self.documents.secret]
        password = re.search(r"://[^:/@]+:([^@]+)@", self.database.url)
        if password:
            found.append(password.group(1))
        return [s for s in found if s]

    def engine_settings(self) -> EngineSettings:
        """Engine knobs. Telegram and WeCom users enroll with a code (`/start CODE`, or an
        admin's `repcoach enroll --wecom-user`); WeCom members are enrolled on first contact
        only with `channels.wecom.auto_enroll: true`."""
        wecom = self.channels.wecom
        trusted = {"console", "memory"} | ({"wecom"} if wecom.enabled and wecom.auto_enroll
                                           else set())
        return EngineSettings(default_locale=self.locale, auto_enroll_channels=frozenset(trusted),
                              digest=self.digest.settings(), **self.coach.model_dump())


def _substitute(value: Any, unset: dict[str, str], key: str = "") -> Any:
    """`value` with `${NAME}` replaced from the environment; an unset NAME without a
    default becomes "" and is noted in `unset` under its dotted key, so the error about the
    empty value can name the variable."""
    if isinstance(value, str):
        def replace(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            found = os.environ.get(name)
            if found is None:
                if default is None:
                    unset.setdefault(key, name)
                    return ""
                return default
            return found

        return _ENV.sub(replace, value)
    if isinstance(value, dict):
        return {k: _substitute(v, unset, f"{key}.{k}" if key else str(k))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, unset, key) for v in value]
    return value


#: the driver installed for PostgreSQL: what `postgres://` and `postgresql://` (the URLs
#: hosting providers hand out) mean here
POSTGRES_DRIVER = "postgresql+psycopg"


def database_url(url: str, where: str, unset: str | None) -> str:
    """The configured database URL, checked before anything connects: empty (an unset
    variable), unparsable or naming a driver that is not installed is a ConfigError saying
    what to write; `postgres://` and `postgresql://` mean the installed psycopg driver."""
    if not url.strip():
        if unset:
            raise ConfigError(f"{where}: database.url is empty: the environment variable "
                              f"{unset} is not set; export it (e.g. {unset}=postgresql://"
                              "USER:PASSWORD@HOST:5432/DBNAME)")
        raise ConfigError(f"{where}: database.url is empty; write e.g. "
                          "postgresql://USER:PASSWORD@HOST:5432/DBNAME or sqlite:///FILE")
    try:
        parsed = make_url(url.strip())
    except ArgumentError as exc:
        raise ConfigError(f"{where}: database.url is not a database URL; write e.g. "
                          "postgresql://USER:PASSWORD@HOST:5432/DBNAME or sqlite:///FILE"
                          ) from exc
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername=POSTGRES_DRIVER)
    try:
        parsed.get_dialect().import_dbapi()
        supported = parsed.get_backend_name() in ("postgresql", "sqlite")
    except (NoSuchModuleError, ImportError):
        supported = False
    if not supported:
        raise ConfigError(f"{where}: database.url: {parsed.drivername}:// is not supported "
                          "here; write postgresql://USER:PASSWORD@HOST:5432/DBNAME "
                          "(PostgreSQL) or sqlite:///FILE")
    return render_url(parsed, hide_password=False)


def render_url(url: str | URL, *, hide_password: bool = True) -> str:
    """`url` as text, the password as *** unless asked for: what admin output shows."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=hide_password)


def _absolute_sqlite(url: str, base: Path) -> str:
    """A relative SQLite path is relative to the config file, not to the current folder."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return url
    if parsed.database == ":memory:" or Path(parsed.database).is_absolute():
        return url
    return parsed.set(database=str((base / parsed.database).resolve())).render_as_string(
        hide_password=False
    )


def load_config(path: Path | None) -> AppConfig:
    """Read `path` (or defaults when None), substitute the environment, validate."""
    raw: dict[str, Any] = {}
    unset: dict[str, str] = {}
    base = Path.cwd()
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping")
        raw = _substitute(loaded, unset)
        base = path.resolve().parent
    env_url = os.environ.get("REPCOACH_DATABASE_URL")
    if env_url:
        raw.setdefault("database", {})["url"] = env_url
        unset.pop("database.url", None)
    raw["base_dir"] = str(base)
    try:
        config = AppConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path or 'config'}: {problems}") from exc
    config._unset = unset
    config._source = str(path or "config")
    where = str(path or "config")
    config.database.url = _absolute_sqlite(
        database_url(config.database.url, where, unset.get("database.url")), base)
    if config.documents.enabled and not config.documents.public_url:
        raise ConfigError(f"{path or 'config'}: documents.public_url is required when "
                          "documents.enabled is true (the address phones open links at)")
    return config
