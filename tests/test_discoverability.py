"""Every feature can be found: /help lists every command in a group, the 客户经营 submenu
holds every key-account tool, and a short message naming a feature offers it while a visit
note that mentions one stays a note. (Conversations: tests/transcripts/discover_*.yaml.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coach.actions.features import feature_named
from coach.library import Library, check_directory

ROOT = Path(__file__).resolve().parent.parent
KEY_ACCOUNTS = "客户经营"


def _groups(library: Library) -> dict[str, list[str]]:
    return {group["title"]["zh"]: group["commands"]
            for group in library.playbooks["help"].content["groups"]}


def test_help_groups_every_command(library: Library) -> None:
    """A playbook with a command must be placed in a /help group (else it shows under 其他)."""
    listed = {c for commands in _groups(library).values() for c in commands}
    missing = sorted(pb.id for pb in library.playbooks.values()
                     if pb.commands and not listed & set(pb.commands))
    assert missing == [], f"put these in a group of playbooks/help.yaml: {missing}"
    engine = {c.name for c in library.catalog.commands}
    unknown = sorted(c for c in listed if c not in library.by_command and c not in engine)
    assert unknown == [], f"help.yaml names commands nothing handles: {unknown}"


def test_the_key_account_submenu_holds_every_key_account_command(library: Library) -> None:
    step = library.playbooks["manage"].step("pick")
    assert step is not None and step.choices
    targets = {c.next[1:] for c in step.choices if c.next and c.next.startswith("@")}
    wanted = {library.by_command[c].id for c in _groups(library)[KEY_ACCOUNTS]}
    assert wanted <= targets, f"missing from the 客户经营 menu: {sorted(wanted - targets)}"
    menu = library.playbooks["menu"].step("pick")
    assert menu is not None and menu.choices
    assert {"@manage", "@today"} <= {c.next for c in menu.choices}


@pytest.mark.parametrize(("text", "feature"), [
    ("做个计划", "plan"), ("帮我做一份计划书", "plan"), ("计划书？", "plan"),
    ("矩阵", "matrix"), ("矩阵图", "matrix"), ("看看矩阵", "matrix"),
    ("客户分级", "screen"), ("看看我的客户", "accounts"), ("我的客户列表", "accounts"),
    ("今天有什么要做的", "today"), ("决策链", "chain"), ("看看决策链", "chain"),
    ("查一下案例", "cases"), ("客户需求", "needs"), ("下一步怎么办", "next"),
    ("记录一下", "log"), ("客户经营", "manage"),
    ("make a plan", "plan"), ("show me my customers", "accounts"), ("what's next?", "next"),
    ("the matrix", "matrix"), ("open the decision chain", "chain"), ("my plan", "plan"),
])
def test_a_short_message_naming_a_feature_offers_it(library: Library, text: str,
                                                     feature: str) -> None:
    found = feature_named(library, text)
    assert found is not None and found.id == feature, (text, found and found.id)


@pytest.mark.parametrize("text", [
    "李主任说想看计划书的数据，下周再去", "今天见了仁济医院王主任，聊了决策链", "客户说贵",
    "今天没去", "李主任的计划书", "王主任阶段", "下周三再去", "李主任明天再去",
    "Dr Li asked for the plan data, see him again next week", "next week", "plan for Dr Li",
    "Dr Wang wants the matrix data", "见了泰山医院心内科李主任",
])
def test_a_visit_note_that_mentions_a_feature_stays_a_note(library: Library,
                                                          text: str) -> None:
    found = feature_named(library, text)
    assert found is None, (text, found and found.id)


def _edited_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """The shipped playbooks, copied, with one text in `name` replaced."""
    target = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", target)
    path = target / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return target


def test_a_keyword_of_two_playbooks_is_refused(tmp_path: Path) -> None:
    target = _edited_copy(tmp_path, "matrix.yaml", "keywords: {zh: [矩阵,",
                          "keywords: {zh: [计划书, 矩阵,")
    issues = [i for i in check_directory(target) if i.code == "duplicate-keyword"]
    assert [i.file.endswith(("matrix.yaml", "plan.yaml")) for i in issues] == [True], issues


def test_a_jump_chosen_at_run_time_is_checked_as_a_template(tmp_path: Path) -> None:
    target = _edited_copy(tmp_path, "offer.yaml", 'next: "@{{ feature.id }}"',
                          'next: "@{{ nowhere.id }}"')
    issues = [(i.file.rsplit("/", 1)[-1], i.code) for i in check_directory(target)]
    assert issues == [("offer.yaml", "unknown-variable")]
