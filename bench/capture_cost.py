"""Part 5: how many messages a rep needs to log a visit, over the labelled notes.

Every note of tests/data/capture_*.yaml is logged through the real engine (SQLite) by a
simulated rep who owns the set's customers and knows what they meant (the labels): they send
the note, then act on what the bot shows. A proposal with the right customer and date gets
one tap (✅ 保存); a wrong customer costs 👤 换客户 and picking or typing the right one; a
wrong date costs 📅 改日期 and typing it (or 跳过). "Which one?" and "who?" questions save with
the tap that answers them. A note that names nobody is answered with one tap on the customer
(the rep's recent customers are listed). Messages are counted until the visit is saved.

Also timed: reading a note (coach.capture.read_note), against the compliance guard on the
same notes, both pure per-note work, as a ratio.
"""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.procs import ROOT
from bench.report import Check, Part, Row
from coach.capture import read_note
from coach.capture.evaluation import LabelledSet, load_set
from coach.engine import Engine
from coach.library import Library
from coach.messages import Reply
from coach.names import name_key
from coach.settings import EngineSettings
from coach.store.database import Database
from coach.store.migrate import upgrade
from coach.store.repo import Directory, RepStore
from coach.testing import MemoryChat

TITLE = "5. Logging a visit: messages per note"
MAX_MESSAGES = 10
TARGET_MEDIAN = 2


@dataclass
class Logged:
    messages: int
    saved: bool


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _texts(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


class Rep:
    """A rep who knows which customer and date they meant, and taps accordingly."""

    def __init__(self, chat: MemoryChat, note: dict[str, Any], accounts: dict[str, str]) -> None:
        self.chat = chat
        self.note = note
        self.accounts = accounts  # label id -> account name as stored
        self.messages = 0

    def send(self, text: str) -> list[Reply]:
        self.messages += 1
        return self.chat.say(text)

    def tap(self, label_part: str) -> list[Reply]:
        self.messages += 1
        return self.chat.press(label_part)

    def labels(self) -> list[str]:
        return [c.label for c in self.chat.choices()]

    @property
    def wanted(self) -> str | None:
        """The customer's name as the buttons show it."""
        match = self.note.get("match")
        if match in self.accounts:
            return self.accounts[str(match)]
        return str(self.note["customer"]) if self.note.get("customer") else None

    def wanted_date(self) -> str | None:
        due = self.note.get("date")
        return due.isoformat() if isinstance(due, date) else due

    def pick_customer(self) -> list[Reply]:
        """At a customer question: tap them, or type their name and tap what comes."""
        wanted = self.wanted
        if wanted is None:  # the note named nobody: the rep taps whom they saw
            return self.tap(self.labels()[0])
        match = self.note.get("match")
        for label in self.labels():
            if label.split(" · ")[0] == wanted:
                return self.tap(label)
        if match == "new":
            for label in self.labels():
                if label.startswith(("新建", "Add")) and name_key(wanted) in name_key(label):
                    return self.tap(label)
        replies = self.send(wanted)
        if "✅" in _texts(replies) or "这样记下" in _texts(replies):
            return replies
        for label in self.labels():
            if label.split(" · ")[0] == wanted or label.startswith(("新建", "Add")):
                return self.tap(label)
        return replies

    def log(self) -> Logged:
        replies = self.send(str(self.note["text"]))
        for _ in range(MAX_MESSAGES):
            shown = _texts(replies)
            if "✅ 已记下" in shown or "这条记录要改一下吗" in shown:
                return Logged(self.messages, True)  # saved (a flagged note may be edited)
            if "这样记下？" in shown:
                replies = self.review(shown)
            elif "见了谁？" in shown or "是下面哪一位" in shown or "是哪位客户" in shown:
                replies = self.pick_customer()
            elif "哪天跟进？" in shown:
                due = self.wanted_date()
                replies = self.send(due) if due else self.tap("跳过")
            else:
                return Logged(self.messages, False)
        return Logged(self.messages, False)

    def review(self, shown: str) -> list[Reply]:
        """The proposal: fix the customer, then the date, then save."""
        wanted = self.wanted
        first = shown.split("👤 ", 1)[1].split("\n", 1)[0] if "👤 " in shown else ""
        proposed = first.split(" · ")[0].split("（")[0].strip()
        if wanted is not None and proposed != wanted and name_key(proposed) != name_key(
                wanted):
            return self.tap("换客户")
        due = self.wanted_date()
        shows_date = "⏰ 跟进：" in shown
        right_date = due is not None and self._shown_date(shown) == due
        if (due is None and shows_date) or (due is not None and not right_date):
            return self.tap("日期")
        return self.tap("✅ 保存")

    def _shown_date(self, shown: str) -> str | None:
        if "⏰ 跟进：" not in shown:
            return None
        text = shown.split("⏰ 跟进：", 1)[1]
        written = re.match(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日", text)
        if written is None:
            return None
        today = self.chat.engine.clock().date()
        year_text, month, day = written.groups()
        year = int(year_text) if year_text else today.year
        return date(year, int(month), int(day)).isoformat()


def _seed(chat: MemoryChat, labelled: LabelledSet, now: datetime) -> dict[str, str]:
    """The rep and their customers, as the set describes them."""
    chat.say("/start")
    database = chat.engine.database
    names: dict[str, str] = {}
    with database.transaction() as session:
        directory = Directory(session)
        rep = directory.rep_for_identity(chat.channel, chat.user_id)
        assert rep is not None
        store = RepStore(session, rep)
        for account in labelled.accounts:
            created = store.create_account(account.name, account.hospital, account.department,
                                           now - timedelta(days=7))
            names[account.id] = created.name
    return names


def simulate(library: Library, labelled: LabelledSet, workdir: Path) -> list[Logged]:
    path = workdir / "capture.sqlite3"
    path.unlink(missing_ok=True)
    upgrade(f"sqlite:///{path}")
    database = Database(f"sqlite:///{path}")
    now = datetime.combine(labelled.today, datetime.min.time()) + timedelta(hours=2)
    clock = Clock(now)
    engine = Engine(database, library, EngineSettings(), clock=clock)
    results = []
    try:
        for index, note in enumerate(labelled.notes):
            chat = MemoryChat(engine, user_id=f"bench-{index}", display_name=f"rep {index}")
            accounts = _seed(chat, labelled, now)
            results.append(Rep(chat, note, accounts).log())
    finally:
        database.dispose()
    return results


def _per_note_seconds(work: Any, notes: list[str], rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for text in notes:
            work(text)
        best = min(best, (time.perf_counter() - started) / len(notes))
    return best


def run(library: Library, workdir: Path, progress: Any) -> Part:
    started = time.monotonic()
    part = Part(TITLE)
    part.add("Each labelled note is logged through the engine by a simulated rep who taps what "
             "they meant (bench/capture_cost.py explains the rules). Messages include the note "
             "itself.", "")
    body = []
    all_counts: list[int] = []
    for path in sorted((ROOT / "tests" / "data").glob("capture_*.yaml")):
        labelled = load_set(path)
        progress(f"capture: logging {len(labelled.notes)} notes of {path.name}")
        logged = simulate(library, labelled, workdir)
        counts = [r.messages for r in logged]
        all_counts += counts
        spread = Counter(min(c, 5) for c in counts)
        saved = sum(r.saved for r in logged)
        body.append([path.name, str(len(counts)), f"{statistics.median(counts):g}",
                     f"{statistics.mean(counts):.2f}",
                     f"{100 * sum(c <= 2 for c in counts) / len(counts):.0f} %",
                     " / ".join(f"{spread[n]}" for n in (2, 3, 4, 5)), f"{saved}"])
        part.rows.append(Row(f"capture/{path.stem}", {
            "notes": len(counts), "median": statistics.median(counts),
            "mean": round(statistics.mean(counts), 3), "saved": saved}))
    part.table(["set", "notes", "median", "mean", "≤ 2 messages", "2 / 3 / 4 / 5+",
                "saved"], body)
    median = statistics.median(all_counts)
    part.checks.append(Check(f"median messages to log a visit ≤ {TARGET_MEDIAN}",
                             f"{median:g} over {len(all_counts)} notes",
                             median <= TARGET_MEDIAN))
    notes = [str(n["text"]) for p in sorted((ROOT / "tests" / "data").glob("capture_*.yaml"))
             for n in load_set(p).notes]
    guard = library.guard
    assert guard is not None
    today = date(2026, 12, 10)
    reading = _per_note_seconds(lambda t: read_note(library.lexicon, t, today), notes)
    guarding = _per_note_seconds(guard.check, notes)
    part.add(f"Reading a note takes {reading * 1e3:.2f} ms, {reading / guarding:.1f}× the "
             f"compliance guard on the same notes ({guarding * 1e3:.2f} ms), best of 5 passes "
             f"over {len(notes)} notes.", "")
    part.rows.append(Row("capture/read_ms", {"read_ms": round(reading * 1e3, 3),
                                             "guard_ms": round(guarding * 1e3, 3)}))
    part.seconds = time.monotonic() - started
    return part
