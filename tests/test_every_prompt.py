"""Every question of every shipped playbook, answered with every number it lists.

A rep on the console or WeCom answers by number. This walks the real engine through every
waiting step it can reach from every command (and from a note, a flagged note, a note naming
nobody, a similar name, a reminder's buttons) in both languages, and at each one types each
listed number, "skip" included, from the same saved state: none may be answered with "not
understood", "please tap a button" or "expired". It ends by checking that every question in
the playbooks was reached, so a new question cannot hide from it.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import text

from coach.engine import Engine
from coach.library import Library
from coach.settings import EngineSettings
from coach.store.database import Database
from coach.store.migrate import upgrade
from coach.testing import MemoryChat
from coach.turn.keys import ReminderKey, encode
from tests.conftest import Clock

CANNED = {"text": {"zh": "测试内容", "en": "some text"}, "date": {"zh": "明天", "en": "tomorrow"},
          "number": {"zh": "3", "en": "3"}, "account": {"zh": "李主任", "en": "Dr Li"}}
REFUSALS = ("choose_from_list", "no_choices_waiting", "invalid_date", "invalid_number",
            "number_out_of_range", "stale_button", "saved_nothing", "unknown_command")
# Questions the walk cannot reach from a rep's ordinary state, and why.
UNREACHABLE: dict[tuple[str, str], str] = {
    ("funnel", "offer"): "a manager's; tests/test_funnel.py answers it by number",
    ("funnel", "pick_rep"): "a manager's; tests/test_funnel.py answers it by number",
    ("coaching", "pick"): "a manager's question, asked only with reps in their team; "
                          "tests/test_coaching_report.py answers it by number",
}


@dataclass
class Walk:
    """A chat whose whole store can be saved and restored at any question."""

    folder: Path
    library: Library
    clock: Clock
    user: str
    visited: set[tuple[str, str]] = field(default_factory=set)  # by any entry
    explored: set[tuple[str, str]] = field(default_factory=set)  # by the current entry
    answers: int = 0
    database: Database | None = None
    chat: MemoryChat | None = None
    snapshots: int = 0

    @property
    def path(self) -> Path:
        return self.folder / "walk.sqlite3"

    def open(self) -> MemoryChat:
        self.database = Database(f"sqlite:///{self.path}")
        self.chat = MemoryChat(Engine(self.database, self.library, EngineSettings(),
                                      clock=self.clock), user_id=self.user,
                               display_name=self.user)
        return self.chat

    def close(self) -> None:
        if self.database is not None:
            self.database.dispose()
            self.database = None

    def save(self) -> Path:
        """A copy of the store as it is now."""
        self.snapshots += 1
        target = self.folder / f"snap{self.snapshots}.sqlite3"
        with sqlite3.connect(self.path) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return target

    def restore(self, snapshot: Path) -> MemoryChat:
        self.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        shutil.copy(snapshot, self.path)
        return self.open()

    def waiting(self) -> tuple[str, str] | None:
        assert self.database is not None
        with self.database.transaction() as session:
            row = session.execute(text(
                "SELECT c.playbook, c.step FROM conversations c JOIN identities i "
                "ON i.rep_id = c.rep_id WHERE i.external_id = :user"),
                {"user": self.user}).one_or_none()
        if row is None or row[1] is None:
            return None
        return str(row[0]), str(row[1])


def refusals(library: Library, locale: str) -> list[str]:
    """The first line of every "not understood" kind of answer, as the rep would read it."""
    found = []
    for key in REFUSALS:
        for count in (1, 2):
            text = library.message(key, locale, count=count, min=1, max=5, limit=2000,
                                   command="x", rep={"name": "", "locale": locale},
                                   typed="", report=False, hours=24, kind="store",
                                   deadline="")
            found.append(text.split("\n")[0][:12])
    return found


def explore(walk: Walk, snapshot: Path, locale: str, refused: list[str],
            problems: list[str], trail: str) -> None:
    """Answer every listed number at the question waiting in `snapshot`, then go on from
    each answer that leads to a question not seen yet."""
    chat = walk.restore(snapshot)
    place = walk.waiting()
    if place is None or place in walk.explored:
        return
    walk.explored.add(place)
    walk.visited.add(place)
    step = walk.library.playbooks[place[0]].step(place[1])
    assert step is not None
    answers = [str(n) for n in range(1, _shown(walk) + 1)]
    if step.input in CANNED and step.input != "account":
        answers.append(CANNED[step.input][locale])  # and a typed answer, to go on
    for answer in answers:
        chat = walk.restore(snapshot)
        replies = chat.say(answer)
        walk.answers += 1
        shown = MemoryChat.text(replies)
        bad = [r for r in refused if r and r in shown]
        if bad or "Traceback" in shown:
            problems.append(f"{trail} > {place[0]}/{place[1]}: typed {answer!r}, got {shown!r}")
            continue
        after = walk.waiting()
        if after is not None and after not in walk.explored:
            explore(walk, walk.save(), locale, refused, problems,
                    f"{trail} > {place[1]}:{answer}")


def _shown(walk: Walk) -> int:
    """How many numbered choices the rep sees now (the engine's own record of it)."""
    assert walk.database is not None
    with walk.database.transaction() as session:
        raw = session.execute(text(
            "SELECT c.engine FROM conversations c JOIN identities i ON i.rep_id = c.rep_id "
            "WHERE i.external_id = :user"), {"user": walk.user}).scalar_one()
    state = json.loads(raw) if isinstance(raw, str) else raw
    return len(state.get("shown", []))


def seed(chat: MemoryChat, locale: str) -> None:
    """A rep a few weeks in: customers, a stage, an objection, a goal with a date, a quiz, a
    due follow-up."""
    say: Callable[[str], object] = chat.say
    if locale == "en":
        say("/lang")
        chat.press("English")
        say("Dr Li at Taishan Hospital, Cardiology, wants to try it in a few patients, "
            "worried about price; bring the dosing card tomorrow")
        chat.press("Save")
        say("Dr Wang at Renji Hospital, Nephrology, had never heard of it before")
        chat.press("Save")
        say("Dr Li uses it routinely now")  # adoption: a diagnosis can move him back
        chat.press("Save")
        # goals with a date (whoever the picker lists first): a plan asks whether to keep it
        say("/plan Dr Li")
        chat.press("Keep \"Adoption\"")
        say("in 3 months")
        say("/plan Dr Wang")
        chat.press("Adoption")
        say("in 3 months")
    else:
        say("泰山医院心内科李主任说想先试几个病人，嫌贵，明天带用法卡过去")
        chat.press("保存")
        say("仁济医院肾内科王主任说第一次听说这个药")
        chat.press("保存")
        say("李主任说现在已经常规用了")  # adoption: a diagnosis can move him back
        chat.press("保存")
        # goals with a date (whoever the picker lists first): a plan asks whether to keep it
        say("/plan 李主任")
        chat.press("巩固「采纳」")
        say("3个月后")
        say("/plan 王主任")
        chat.press("采纳")
        say("3个月后")
    say("/cancel")


ENTRIES: dict[str, list[list[str]]] = {
    "zh": [["今天见了赵主任，他要新版指南"], ["科室会开得不错，下周三再去"],
           ["泰山医院心内科李晓明说想试用"], ["李医生说要是给回扣就多用我们的药"],
           ["/stage", "李主任"],
           ["/quiz", "刚见了赵主任，他要新版指南，下周三送过去", "2"],  # kept, then offered
           ["做个计划"],  # names a feature: open it, or log it after all
           ["协同拜访"],  # a playbook with no command, started by its keyword
           # a filed safety report: /today asks before it is marked forwarded
           ["泰山医院心内科李主任说有个病人用了我们的药后起了荨麻疹", "1", "/today"],
           # a retraction that does not say which of two reports: asked, with them as buttons
           ["泰山医院心内科李主任说有个病人用了我们的药后起了荨麻疹", "1",
            "仁济医院肾内科王主任说有个病人用了我们的药后头晕", "1", "是我写错了"],
           # the visit just saved was with someone else: whose, asked with one tap
           ["今天见了赵主任，他要新版指南", "1", "记错人了 刚才那条不是赵主任 是钱医生"],
           # a named customer's follow-up moved by text: none open (offered as a note), or
           # several (which one, asked)
           ["钱主任那个跟进改到下周二"],
           ["仁济医院肾内科孙主任 要医保资料 下周四发给他", "1",
            "仁济医院肾内科孙主任 想看数据 下周五带数据过去", "1", "孙主任的跟进挪到下下周一"],
           # more reports than /today lists one by one: one item opens their list
           ["有个病人用了我们的药后起了荨麻疹", "/cancel", "有个病人用了我们的药后头晕", "/cancel",
            "有个病人用了我们的药后拉肚子", "/cancel", "有个病人用了我们的药后心慌", "/cancel",
            "/today"]],
    "en": [["Saw Dr Zhao, he wants the new guideline"], ["Dept meeting went well, again next Wed"],
           ["Li Xiaoming at Taishan Hospital, Cardiology, wants to try it"],
           ["Dr Li asked for a kickback to prescribe more"], ["/stage", "Dr Li"],
           ["/quiz", "Saw Dr Zhao, he wants the new guideline, bring it next Wed", "2"],
           ["make a plan"], ["joint visit"],
           ["Dr Li at Taishan Hospital, Cardiology, said a patient got hives after taking our"
            " drug", "1", "/today"],
           ["Dr Li at Taishan Hospital, Cardiology, said a patient got hives after taking our"
            " drug", "1", "Dr Wang at Renji Hospital said a patient felt dizzy after taking our"
            " drug", "1", "I wrote that wrong"],
           ["Saw Dr Zhao, he wants the new guideline", "1",
            "wrong doctor, it was Dr Qian not Dr Zhao"],
           ["reschedule Dr Qian's follow-up to Friday"],
           ["Dr Sun at Renji Hospital, Nephrology, wants the insurance file, send it next Thu",
            "1", "Dr Sun at Renji Hospital, Nephrology, wants data, bring it next Fri", "1",
            "move Dr Sun's follow-up to next Mon"],
           ["a patient got hives after taking our drug", "/cancel",
            "a patient felt dizzy after taking our drug", "/cancel",
            "a patient had diarrhoea after taking our drug", "/cancel",
            "a patient had palpitations after taking our drug", "/cancel", "/today"]],
}


@pytest.mark.parametrize("locale", ["zh", "en"])
def test_every_listed_number_is_understood_at_every_question(
        tmp_path: Path, library: Library, locale: str) -> None:
    clock = Clock()
    walk = Walk(tmp_path, library, clock, user=f"walker-{locale}")
    upgrade(f"sqlite:///{walk.path}")
    chat = walk.open()
    seed(chat, locale)
    clock.advance(days=1, hours=2)  # the follow-up is due: /today and reminders have work
    base = walk.save()
    refused = refusals(library, locale)
    problems: list[str] = []
    entries = [[f"/{c}"] for pb in library.playbooks.values() for c in pb.commands
               if c not in ("start", "cancel")] + ENTRIES[locale]
    for entry in entries:
        chat = walk.restore(base)
        for message in entry:
            chat.say(message)
        walk.explored = set()
        explore(walk, walk.save(), locale, refused, problems, " / ".join(entry))
    walk.explored = set()
    chat = walk.restore(base)  # a follow-up reminder's "change the date" button
    due = [r for r in chat.engine.due_reminders([chat.channel]) if r.kind == "followup"]
    assert due, "the seeded follow-up should be due"
    chat.press_key(encode(ReminderKey(due[0].ref, "s")))
    explore(walk, walk.save(), locale, refused, problems, "reminder")
    walk.close()
    assert problems == [], "\n".join(problems)
    questions = {(pb.id, s.id) for pb in library.playbooks.values() for s in pb.steps if s.ask}
    missed = sorted(questions - walk.visited - set(UNREACHABLE))
    assert missed == [], f"questions never reached: {missed}"
    print(f"\n{locale}: {len(walk.visited)} questions, {walk.answers} numbered answers")
