"""Conversation scripts in `tests/transcripts/*.yaml`, run against the real engine and store,
and, for scripts that list `channels: [memory, console, telegram, wecom]`, through each of
those channels as a person on it would (testkit/channel_drivers.py).

A script reads like a chat: the rep says or presses something, the bot's reply must contain
some text (or offer some buttons), and the store must hold some rows. Steps:

    - say: 李主任 泰山医院            # the rep types this
      expect: [见了谁]                # every string must appear in the bot's replies
      reject: [Traceback]             # none may appear
      buttons: [新建]                 # buttons offered in these replies (label substrings)
    - press: 新建                     # press the newest button whose label contains this
    - press_nth: 0                    # press the newest buttons' first one
    - repeat: 16                      # run the nested steps 16 times
      steps: [{press_nth: 0}]
    - clock: {days: 2}                # move the clock
    - restart: true                   # a new engine on the same database (a process restart)
    - remind: true                    # the runner's pass: due reminders and nudges arrive now
    - rows: {notes: 1}                # exact row counts
    - row: {table: accounts, where: {name: 李主任}, has: {stage: trial}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from coach.engine import Engine
from coach.library import Library
from coach.settings import EngineSettings
from coach.store.database import Database
from testkit.channel_drivers import CHANNELS, Driver, Seen, driver_for
from tests.conftest import Clock

SCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.yaml"))
TABLES = {"reps", "identities", "accounts", "notes", "stage_history", "quiz_results",
          "style_assessments", "suggestions", "followups", "conversations", "lessons", "objections",
          "screenings", "goals", "plans", "adverse_events", "processed_messages"}


class Script:
    def __init__(self, db_url: str, library: Library, settings: EngineSettings,
                 clock: Clock, driver: Driver) -> None:
        self.db_url = db_url
        self.library = library
        self.settings = settings
        self.clock = clock
        self.database = Database(db_url)
        self.engine = Engine(self.database, library, settings, clock=clock)
        self.driver = driver

    async def restart(self) -> None:
        self.database.dispose()
        self.database = Database(self.db_url)
        self.engine = Engine(self.database, self.library, self.settings, clock=self.clock)
        await self.driver.restart(self.engine)

    async def run(self, steps: list[dict[str, Any]], where: str) -> None:
        for number, step in enumerate(steps, start=1):
            await self.step(step, f"{where} step {number}")

    async def step(self, step: dict[str, Any], where: str) -> None:
        seen: Seen | None = None
        if "say" in step:
            seen = await self.driver.say(str(step["say"]))
        elif "press" in step:
            seen = await self.driver.press(str(step["press"]))
        elif "press_nth" in step:
            seen = await self.driver.press_nth(int(step["press_nth"]))
        elif "repeat" in step:
            for round_number in range(int(step["repeat"])):
                await self.run(step["steps"], f"{where} round {round_number + 1}")
            return
        elif "clock" in step:
            self.clock.advance(**step["clock"])
            return
        elif "restart" in step:
            await self.restart()
            return
        elif "remind" in step:
            seen = await self.deliver_reminders()
        elif "rows" in step:
            for table, expected in step["rows"].items():
                assert table in TABLES, f"{where}: unknown table {table}"
                assert self.count(table) == expected, f"{where}: {table}"
            return
        elif "row" in step:
            self.check_row(step["row"], where)
            return
        else:
            raise AssertionError(f"{where}: unknown step {step}")
        self.check_replies(seen, step, where)

    def check_replies(self, seen: Seen, step: dict[str, Any], where: str) -> None:
        for wanted in step.get("expect", []):
            assert str(wanted) in seen.text, f"{where}: expected {wanted!r} in:\n{seen.text}"
        for unwanted in step.get("reject", []):
            assert str(unwanted) not in seen.text, (
                f"{where}: did not expect {unwanted!r}:\n{seen.text}")
        for wanted in step.get("buttons", []):
            assert any(str(wanted) in label for label in seen.labels), (
                f"{where}: no button with {wanted!r} in {seen.labels}"
            )

    async def deliver_reminders(self) -> Seen:
        """What the channel runner does on its interval: due follow-up reminders, then the
        weekly re-evaluation nudge, delivered through the channel."""
        channel, user = self.driver.channel, self.driver.user_id
        due = self.engine.due_reminders([channel])
        replies = [r.reply for r in due if r.user_id == user]
        self.engine.mark_reminded(due)
        nudges = self.engine.due_nudges([channel])
        replies += [n.reply for n in nudges if n.user_id == user]
        return await self.driver.push(replies)

    def count(self, table: str) -> int:
        with self.database.engine.connect() as connection:
            return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())

    def check_row(self, spec: dict[str, Any], where: str) -> None:
        table = spec["table"]
        assert table in TABLES, f"{where}: unknown table {table}"
        conditions = spec.get("where", {})
        sql = f"SELECT * FROM {table}"
        if conditions:
            sql += " WHERE " + " AND ".join(f"{column} = :{column}" for column in conditions)
        with self.database.engine.connect() as connection:
            rows = connection.execute(text(sql), conditions).mappings().all()
        assert rows, f"{where}: no row in {table} where {conditions}"
        for column, expected in spec.get("has", {}).items():
            values = [row[column] for row in rows]
            assert expected in values, f"{where}: {table}.{column} is {values}, not {expected!r}"

def _runs() -> list[tuple[Path, str]]:
    """Each script on the engine alone, and on the channels its `channels:` names."""
    runs = []
    for path in SCRIPTS:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        for channel in spec.get("channels", ["memory"]):
            assert channel in CHANNELS, f"{path.name}: unknown channel {channel}"
            runs.append((path, channel))
    return runs


@pytest.mark.parametrize(("path", "channel"), _runs(),
                         ids=[f"{p.stem}-{c}" for p, c in _runs()])
async def test_transcript(path: Path, channel: str, db_url: str, library: Library,
                          clock: Clock, tmp_path: Path) -> None:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    settings = EngineSettings(**spec.get("settings", {}))
    script = Script(db_url, library, settings, clock, driver_for(channel, tmp_path))
    await script.driver.start(script.engine)
    try:
        await script.run(spec["script"], f"{path.name} ({channel})")
    finally:
        await script.driver.close()
        script.database.dispose()


def test_there_are_transcripts_for_every_playbook(library: Library) -> None:
    covered = set()
    for path in SCRIPTS:
        covered.update(yaml.safe_load(path.read_text(encoding="utf-8")).get("covers", []))
    assert set(library.playbooks) <= covered, sorted(set(library.playbooks) - covered)
