"""Schema migrations through Alembic, driven from code so `repcoach db upgrade` needs no
alembic.ini beside the install."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str, directory: Path = MIGRATIONS_DIR) -> Config:
    """An Alembic config pointing at the packaged migrations (or `directory`) and at `url`."""
    config = Config()
    config.set_main_option("script_location", str(directory))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", directory: Path = MIGRATIONS_DIR) -> None:
    """Bring the database at `url` to `revision`, keeping every row it holds, and record
    which releases may run on it (coach/store/compatibility.py)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url, directory), revision)


def scripts(directory: Path = MIGRATIONS_DIR) -> ScriptDirectory:
    return ScriptDirectory(str(directory))


def head_revision() -> str | None:
    return scripts().get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
