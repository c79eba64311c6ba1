"""Seed 004's classes and course unit 1's cards beyond what a transcript checks.

Every possible set of screening answers, with every role, gets exactly one class by a rule
that holds (no default), and the class agrees with the tier and the matrix: a key account
is tier A or B in a high-potential quadrant, any other customer tier C in a low one, so the
class advice and the matrix advice never pull apart. A class written as a catch-all is
refused by `repcoach check`. Coaching cards rotate: weekly nudges over a whole cycle show
every card, never the same one two weeks running. (Conversations: tests/transcripts/
screen_*.yaml, crisis_zh.yaml, joint_en.yaml, cards_zh.yaml.)"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

from coach.actions.keyaccounts import place, quadrant_of
from coach.engine import Engine
from coach.library import Library, check_directory
from coach.store.models import Account
from coach.templating import evaluate
from coach.testing import MemoryChat
from testkit.transcripts import due_nudges
from tests.conftest import Clock

ROOT = Path(__file__).resolve().parent.parent
ROLES = (None, "decision_maker", "influencer", "user", "purchaser", "recommender")
HIGH, LOW = {"invest", "develop"}, {"maintain", "minimise"}


def test_every_screening_gets_a_class_by_its_rule_and_consistent_advice(
        library: Library) -> None:
    content = library.playbooks["screen"].content
    cutoffs = library.playbooks["matrix"].content["matrix"]
    classes = {c["id"]: c for c in content["classes"]}
    seen = set()
    for scale, influence, cooperation, recognition, support in itertools.product(
            (1, 2, 3), repeat=5):
        rated = {"scale": scale, "influence": influence, "cooperation": cooperation,
                 "recognition": recognition}
        for role in ROLES:
            placed = place(content, rated, role)
            context = {**rated, "total": sum(rated.values()), "role": role}
            holding = [c for c in content["classes"] if evaluate(str(c["when"]), context)]
            seen.add(placed.klass)
            if placed.key:  # the first class whose rule holds, and that rule is shown
                assert placed.klass == holding[0]["id"]
                assert placed.rule == classes[placed.klass]["rule"]
                assert placed.also == tuple(c["id"] for c in holding[1:])
            else:  # no rule holds: not a key account, never a default class
                assert holding == [] and placed.klass == content["unclassified"]["id"]
            account = Account(potential=placed.potential, support=support)
            quadrant = quadrant_of(account, cutoffs)
            assert (placed.tier in ("A", "B")) == placed.key, (rated, role, placed)
            assert quadrant in (HIGH if placed.key else LOW), (rated, role, placed, quadrant)
    assert seen == {*classes, "general"}


def test_the_shrinking_small_customer_is_not_a_potential_customer(library: Library) -> None:
    """The case the review found: small, some influence, shrinking, known locally."""
    placed = place(library.playbooks["screen"].content,
                   {"scale": 1, "influence": 2, "cooperation": 1, "recognition": 2}, None)
    assert (placed.tier, placed.klass, placed.key, placed.potential) == ("C", "general",
                                                                          False, 1)
    grower = place(library.playbooks["screen"].content,
                   {"scale": 1, "influence": 1, "cooperation": 3, "recognition": 1}, None)
    assert (grower.klass, grower.tier, grower.potential) == ("potential", "B", 2)


def test_a_catch_all_class_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", target)
    path = target / "screen.yaml"
    text = path.read_text(encoding="utf-8")
    old = 'when: "cooperation >= 3 and scale <= 2"'
    assert old in text
    path.write_text(text.replace(old, 'when: "true"'), encoding="utf-8")
    issues = [i for i in check_directory(target) if i.code == "catch-all-class"]
    assert len(issues) == 1 and issues[0].file.endswith("screen.yaml"), issues


def _card_title(text: str) -> str:
    line = next(x for x in text.splitlines() if x.startswith("💡"))
    return line.split("·", 1)[1].strip()


def test_weekly_nudges_rotate_through_every_card(chat: MemoryChat, engine: Engine,
                                                 clock: Clock, library: Library) -> None:
    cards = library.content(library.playbooks["cards"], "zh")["cards"]
    chat.say("/start")
    chat.say("人民医院心内科周主任说科里要开会")
    chat.press("保存")
    chat.press("完成")
    clock.advance(days=91)
    titles = []
    for _week in range(len(cards) + 1):
        nudges = due_nudges(engine, [chat.channel])
        assert len(nudges) == 1
        titles.append(_card_title(nudges[0].reply.text))
        clock.advance(days=7)
    assert all(a != b for a, b in itertools.pairwise(titles)), titles
    assert set(titles) == {c["title"] for c in cards}
    assert titles[0] == titles[-1]  # a full cycle
