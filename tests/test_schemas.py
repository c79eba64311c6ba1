"""The JSON Schemas an author's editor uses: generated from the models, current, referenced
from every playbook and transcript, accepting every shipped file and flagging a misspelt key
as the editor would (read with the `jsonschema` library, not with our own code)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot import schemas

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted((ROOT / "playbooks").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "transcripts").glob("*.yaml"))


def validator(file: Path) -> jsonschema.protocols.Validator:
    schema = json.loads((schemas.SCHEMA_DIR / schemas.schema_for(file)).read_text("utf-8"))
    return jsonschema.Draft202012Validator(schema)


def errors(file: Path, data: Any) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator(file).iter_errors(data)]


def test_the_shipped_schemas_are_current() -> None:
    assert schemas.stale() == [], "run `repcoach schema` and commit coach/schemas/"


def test_a_changed_model_makes_the_schema_stale_and_repcoach_schema_rewrites_it(
        tmp_path: Path) -> None:
    shutil.copytree(schemas.SCHEMA_DIR, tmp_path / "schemas")
    old = tmp_path / "schemas" / "transcript.schema.json"
    old.write_text(old.read_text("utf-8").replace('"expect"', '"expected"'), "utf-8")
    assert schemas.stale(tmp_path / "schemas") == ["transcript.schema.json"]
    assert schemas.write(tmp_path / "schemas") == ["transcript.schema.json"]
    assert schemas.stale(tmp_path / "schemas") == []


def test_repcoach_schema_check_passes_on_the_shipped_files() -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "schema", "--check", "playbooks",
                           "tests/transcripts"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("file", FILES, ids=[f"{f.parent.name}/{f.name}" for f in FILES])
def test_every_file_points_at_its_schema_and_matches_it(file: Path) -> None:
    first = file.read_text("utf-8").split("\n", 1)[0]
    assert first == schemas.modeline(file)
    assert (file.parent / first.split("$schema=", 1)[1]).resolve().is_file()
    assert errors(file, yaml.safe_load(file.read_text("utf-8"))) == []


def test_the_schema_flags_a_misspelt_playbook_key() -> None:
    file = ROOT / "playbooks" / "next.yaml"
    data = yaml.safe_load(file.read_text("utf-8"))
    data["comands"] = data.pop("commands")
    assert any("comands" in error for error in errors(file, data))


def test_the_schema_flags_a_misspelt_transcript_key() -> None:
    file = ROOT / "tests" / "transcripts" / "help.yaml"
    data = yaml.safe_load(file.read_text("utf-8"))
    data["script"][1]["expcet"] = data["script"][1].pop("expect")
    assert any("expcet" in error for error in errors(file, data))


def test_a_new_playbook_gets_its_schema_line(tmp_path: Path) -> None:
    file = tmp_path / "playbooks" / "visit.yaml"
    file.parent.mkdir()
    file.write_text("id: visit\n", encoding="utf-8")
    assert schemas.add_modeline(file)
    assert file.read_text("utf-8").startswith(schemas.modeline(file) + "\nid: visit\n")
    assert not schemas.add_modeline(file)  # once is enough
