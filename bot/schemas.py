"""JSON Schemas for the files authors write, generated from the pydantic models that read them.

An editor with a YAML language server (VS Code's YAML extension, for one) reads the
`# yaml-language-server: $schema=...` line at the top of each playbook and transcript, then
completes keys and flags a misspelt or misplaced one while the author types. The schemas are
generated, never written by hand, so they say exactly what `repcoach check` and
`repcoach test` accept; `repcoach schema` rewrites them and tests/test_schemas.py fails when
the shipped ones are stale.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel

import coach
from coach.playbook import Catalog, Playbook
from testkit.transcripts import Transcript

SCHEMA_DIR = Path(coach.__file__).resolve().parent / "schemas"  # shipped as package data
DIALECT = "https://json-schema.org/draft/2020-12/schema"
MODELINE = "# yaml-language-server: $schema="
MODELS: dict[str, tuple[type[BaseModel], str]] = {
    "playbook.schema.json": (Playbook, "A RepCoach playbook (playbooks/*.yaml)"),
    "catalog.schema.json": (Catalog, "The RepCoach message catalog (playbooks/system.yaml)"),
    "transcript.schema.json": (Transcript, "A RepCoach conversation transcript "
                                           "(tests/transcripts/*.yaml, `repcoach test`)"),
}


def generate() -> dict[str, str]:
    """Each schema file's name and its text, as it should be on disk."""
    texts = {}
    for name, (model, title) in MODELS.items():
        schema: dict[str, Any] = {"$schema": DIALECT, **model.model_json_schema()}
        schema["title"] = title
        texts[name] = json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return texts


def stale(directory: Path = SCHEMA_DIR) -> list[str]:
    """The schema files that are missing or differ from what the models say."""
    return [name for name, text in generate().items()
            if not (directory / name).is_file()
            or (directory / name).read_text(encoding="utf-8") != text]


def write(directory: Path = SCHEMA_DIR) -> list[str]:
    """Rewrite the stale schema files; return their names."""
    changed = stale(directory)
    texts = generate()
    directory.mkdir(parents=True, exist_ok=True)
    for name in changed:
        (directory / name).write_text(texts[name], encoding="utf-8")
    return changed


def schema_for(file: Path) -> str:
    """Which schema a YAML file is written against: system.yaml is the catalog."""
    if file.parent.name == "transcripts":
        return "transcript.schema.json"
    return "catalog.schema.json" if file.name == "system.yaml" else "playbook.schema.json"


INSTALL_ROOT = SCHEMA_DIR.parent.parent  # the checkout or site-packages holding `coach`


def inside_install(path: Path) -> bool:
    """Whether `path` is part of the installed RepCoach (the shipped playbooks)."""
    return path.resolve().is_relative_to(INSTALL_ROOT)


def modeline(file: Path, directory: Path = SCHEMA_DIR) -> str:
    """The first line that points an editor at the schema: relative to the file for the
    shipped files (they move with the checkout), the installed schema's absolute path for an
    author's copy elsewhere (a relative one would point nowhere once copied)."""
    schema = directory / schema_for(file)
    if inside_install(file):
        return f"{MODELINE}{Path(os.path.relpath(schema, file.resolve().parent)).as_posix()}"
    return f"{MODELINE}{schema.resolve().as_posix()}"


def has_modeline(file: Path) -> bool:
    """Whether `file` starts with a schema line naming its schema, wherever it points (an
    author may have copied the files, or keep the schemas elsewhere)."""
    first = file.read_text(encoding="utf-8").split("\n", 1)[0].rstrip()
    return first.startswith(MODELINE) and (
        first[len(MODELINE):].replace("\\", "/").rsplit("/", 1)[-1] == schema_for(file))


def add_modeline(file: Path, directory: Path = SCHEMA_DIR) -> bool:
    """Put (or correct) the schema line at the top of `file`; True when it changed."""
    text = file.read_text(encoding="utf-8")
    wanted = modeline(file, directory)
    lines = text.split("\n")
    if lines and lines[0].startswith(MODELINE):
        if lines[0] == wanted:
            return False
        lines[0] = wanted
    else:
        lines.insert(0, wanted)
    file.write_text("\n".join(lines), encoding="utf-8")
    return True
