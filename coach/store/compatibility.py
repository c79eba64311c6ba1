"""Which releases may run on the schema a database is at: old workers in a rolling release.

During a rolling release `repcoach db upgrade` (new release) moves the schema ahead while old
workers still run; a supervisor that restarts a crashed old worker must not be refused when
the new schema is one the old code works on (the migrations in between only expanded it:
new tables, nullable or defaulted columns, indexes), and must be refused when it is not.

The old code cannot read the newer migration modules, so the answer is kept in the
database:

* Each migration module may declare `compatible_with = "NNNN"`: the code of revision NNNN
  (and of every revision after it) still runs correctly on the schema as this migration
  leaves it. Expand-only relative to its predecessor means `compatible_with = down_revision`.
  A migration that declares nothing is compatible with its own code only: the safe default
  for a drop, a rename, a NOT NULL without default, or a change of what a column means.
* The declarations chain: a schema at R runs the code of R, of `compatible_with(R)`, of
  that revision's `compatible_with`, and so on until a migration declares nothing, and of
  every revision in between (`compatible_code`).
* `repcoach db upgrade` (coach/store/migrations/env.py) rewrites the table
  `schema_compatibility` (migration 0014) in the same transaction as the migrations: one row
  per code revision that may run, each naming the schema revision it was written for.
* A release starting (`Database.require_current_schema`) runs when the database is at its
  own head; runs with a warning when the database is at a newer revision whose rows name
  this release's head; and refuses, naming both revisions and what to do, when the newer
  schema is not declared compatible or the database is older than its head.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, delete, insert, inspect, select

from coach.store.models import SchemaCompatibility

__all__ = ["State", "Verdict", "compatible_code", "declared", "judge", "record"]

TABLE = SchemaCompatibility.__tablename__


def declared(script: Script) -> str:
    """The oldest code revision `script`'s migration declares able to run on its schema."""
    return str(getattr(script.module, "compatible_with", script.revision))


def compatible_code(scripts: ScriptDirectory, revision: str) -> list[str]:
    """Every code revision that runs on the schema at `revision`, newest first."""
    oldest = revision
    while (older := declared(scripts.get_revision(oldest))) != oldest:
        oldest = older
    return [s.revision for s in scripts.walk_revisions(base=oldest, head=revision)]


def record(connection: Connection, scripts: ScriptDirectory) -> None:
    """After an upgrade, in its transaction: write which code may run on the schema now.
    Nothing before migration 0014 made the table (an upgrade to an older target)."""
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is None or not inspect(connection).has_table(TABLE):
        return
    connection.execute(delete(SchemaCompatibility))
    connection.execute(insert(SchemaCompatibility), [
        {"code_revision": code, "schema_revision": revision}
        for code in compatible_code(scripts, revision)])


State = Literal["current", "older", "compatible", "incompatible"]


@dataclass(frozen=True)
class Verdict:
    """What a release whose newest migration is `code` finds in a database at `schema`:
    its own schema, an older one (run `repcoach db upgrade`), or a newer one declared
    compatible with it or not."""

    schema: str | None
    code: str
    state: State


def judge(connection: Connection, scripts: ScriptDirectory, code: str) -> Verdict:
    """Compare the database's schema with the release whose newest migration is `code`
    (`scripts`: that release's migrations)."""
    schema = MigrationContext.configure(connection).get_current_revision()
    if schema == code:
        return Verdict(schema, code, "current")
    own = {s.revision for s in scripts.walk_revisions(base="base", head=code)}
    if schema is None or schema in own:
        return Verdict(schema, code, "older")
    allowed = inspect(connection).has_table(TABLE) and connection.execute(
        select(SchemaCompatibility.code_revision).where(
            SchemaCompatibility.code_revision == code,
            SchemaCompatibility.schema_revision == schema)).first() is not None
    return Verdict(schema, code, "compatible" if allowed else "incompatible")
