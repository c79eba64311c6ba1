"""Conversation transcripts: a chat written as a script, run against the real engine and store.

A transcript reads like a chat: the rep says or presses something, the bot's reply must contain
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

The format is a pydantic model, so a misspelt key (`expcet:`) is an error with file and line
instead of a step that silently checks nothing; the same model gives the JSON Schema editors
use. `repcoach test` and the pytest suite run transcripts through the `Script` below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from coach.engine import Engine
from coach.issues import Issue, LineList, LineMap
from coach.library import Library
from coach.loader import read_positioned, shape_issues
from coach.nudges import DueNudge
from coach.settings import EngineSettings
from coach.store.database import Database
from testkit.channel_drivers import CHANNELS, Driver, Seen
from testkit.clock import Clock

TABLES = ("reps", "identities", "accounts", "notes", "stage_history", "quiz_results",
          "style_assessments", "suggestions", "followups", "conversations", "lessons",
          "objections", "screenings", "goals", "plans", "adverse_events", "processed_messages")
Table = Literal[TABLES]  # type: ignore[valid-type]
ChannelName = Literal[CHANNELS]  # type: ignore[valid-type]
ACTIONS = ("say", "press", "press_nth", "repeat", "clock", "restart", "remind", "rows", "row")
REPLY_ACTIONS = ("say", "press", "press_nth", "remind")
LOCALES = {"zh": "Chinese", "en": "English"}  # the rep's locales, reps.locale
_REP_LOCALE = text("SELECT reps.locale FROM reps JOIN identities ON identities.rep_id = reps.id "
                   "WHERE identities.channel = :channel AND identities.external_id = :user")


def _as_text(value: Any) -> Any:
    """`expect: [2026-12-02]` is a date to YAML and a text to the author: keep it a text."""
    return value.isoformat() if isinstance(value, date) else value


Text = Annotated[str, BeforeValidator(_as_text)]


class _Strict(BaseModel):
    """Every transcript object refuses keys it does not know: a typo is an error."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class ClockMove(_Strict):
    """How far to move the clock; the parts add up."""

    days: float = 0
    hours: float = 0
    minutes: float = 0


class RowCheck(_Strict):
    """At least one row of `table` matching `where` holds each value in `has`."""

    table: Table
    where: dict[str, Any] = Field(default_factory=dict)
    has: dict[str, Any] = Field(default_factory=dict)


class Step(_Strict):
    """One line of the chat: exactly one action, plus what its replies must (not) show."""

    say: Text | None = Field(None, description="The rep types this text.")
    press: Text | None = Field(
        None, description="Press the newest button whose label contains this text.")
    press_nth: int | None = Field(
        None, ge=0, description="Press the newest buttons' Nth one (0 is the first).")
    repeat: int | None = Field(None, ge=1, description="Run `steps` this many times.")
    steps: list[Step] | None = Field(None, description="The steps `repeat` runs.")
    clock: ClockMove | None = Field(None, description="Move the clock forward.")
    restart: bool | None = Field(
        None, description="A new engine on the same database, as after a process restart.")
    remind: bool | None = Field(
        None, description="The runner's pass: due reminders and nudges are delivered now.")
    rows: dict[Table, int] | None = Field(None, description="Exact row counts per table.")
    row: RowCheck | None = Field(None, description="A stored row holds these values.")
    expect: list[Text] = Field(
        default_factory=list, description="Every text must appear in the bot's replies.")
    reject: list[Text] = Field(
        default_factory=list, description="No text may appear in the bot's replies.")
    buttons: list[Text] = Field(
        default_factory=list, description="Buttons offered in these replies (label parts).")
    _line: int = PrivateAttr(default=0)

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        present = [name for name in ACTIONS if getattr(self, name) is not None]
        if len(present) != 1:
            raise ValueError(f"a step has exactly one of {', '.join(ACTIONS)}; "
                             f"this one has {', '.join(present) or 'none'}")
        if (self.steps is None) != (self.repeat is None):
            raise ValueError("`repeat` and `steps` go together")
        if present[0] not in REPLY_ACTIONS and (self.expect or self.reject or self.buttons):
            raise ValueError(f"`{present[0]}` has no reply to check: expect, reject and "
                             f"buttons go with {', '.join(REPLY_ACTIONS)}")
        return self

    @property
    def action(self) -> str:
        return next(name for name in ACTIONS if getattr(self, name) is not None)

    @property
    def line(self) -> int:
        return self._line

    def describe(self) -> str:
        """The step as the author wrote it, e.g. `say: 李主任`."""
        value = getattr(self, self.action)
        if isinstance(value, BaseModel):
            value = value.model_dump(exclude_defaults=True)
        return f"{self.action}: {value}"


class Transcript(_Strict):
    """A conversation test: which playbooks it covers, where it runs and the chat itself."""

    covers: list[str] = Field(
        default_factory=list, description="Playbook ids this conversation exercises.")
    channels: list[ChannelName] = Field(
        default_factory=lambda: ["memory"],
        description="Channels to run through: memory (the engine alone), console, telegram, "
                    "wecom (loopback fakes of the real platforms).")
    settings: EngineSettings = Field(
        default_factory=EngineSettings, description="Engine settings for this conversation.")
    script: list[Step] = Field(min_length=1, description="The chat, step by step.")


def _number(steps: list[Step], raw: Any) -> None:
    """Give each step the line it starts on, nested `repeat` steps included."""
    if not isinstance(raw, LineList):
        return
    for step, line, raw_step in zip(steps, raw.item_lines, raw, strict=False):
        step._line = line
        if step.steps is not None and isinstance(raw_step, LineMap):
            _number(step.steps, raw_step.get("steps"))


def load_transcript(file: Path, display: str) -> tuple[Transcript | None, list[Issue]]:
    """Parse and check one transcript; every problem comes back as `file:line`."""
    raw, issues = read_positioned(file, display)
    if raw is None or issues:
        return None, issues
    if not isinstance(raw, LineMap):
        return None, [Issue(display, 1, "not-a-mapping", "a transcript is a mapping")]
    try:
        transcript = Transcript.model_validate(raw)
    except ValidationError as exc:
        return None, shape_issues(display, raw, exc, Transcript)
    _number(transcript.script, raw.get("script"))
    return transcript, []


@dataclass(frozen=True)
class Failure:
    """A step whose replies or rows were not what the transcript says."""

    file: str
    line: int
    step: str
    expected: str
    actual: str

    def __str__(self) -> str:
        actual = "\n".join(f"    {line}" for line in self.actual.splitlines()) or "    (nothing)"
        return (f"{self.file}:{self.line}: {self.step}\n  expected: {self.expected}\n"
                f"  actual:\n{actual}")


class StepFailed(AssertionError):
    """Raised by `Script` at the first step that does not hold; later steps depend on it."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(str(failure))
        self.failure = failure


def due_nudges(engine: Engine, channels: list[str]) -> list[DueNudge]:
    """The weekly nudges due now, claimed rep by rep as bot/runner.py claims them, but
    handed to the caller instead of an outbox."""
    return [nudge for rep_id in engine.reps_due_for_nudge()
            for nudge in engine.claim_nudge(rep_id, channels, lambda _session, item: item)]


class Script:
    """One transcript being run: an engine on a throwaway database, a channel driver, a clock."""

    def __init__(self, db_url: str, library: Library, settings: EngineSettings,
                 clock: Clock, driver: Driver, file: str = "",
                 show: Callable[[str], None] | None = None) -> None:
        self.db_url = db_url
        self.show = show  # `repcoach test --show`: every step's reply, passing or not
        self.last_seen: Seen | None = None  # the latest reply, shown when a row check fails
        self.library = library
        self.settings = settings
        self.clock = clock
        self.database = Database(db_url)
        self.engine = Engine(self.database, library, settings, clock=clock)
        self.driver = driver
        self.file = file
        self.current: Step | None = None  # the step running now, for a crash report
        self.checked_locales: set[str] = set()  # locales in which a reply was checked

    def rep_locale(self) -> str | None:
        """The locale of the rep this chat belongs to, as the engine reads it (reps.locale:
        the engine's default_locale when the rep was created, then whatever /lang set);
        None before the rep exists or after /forget."""
        with self.database.engine.connect() as connection:
            locale = connection.execute(_REP_LOCALE, {"channel": self.driver.channel,
                                                      "user": self.driver.user_id}).scalar()
        return None if locale is None else str(locale)

    async def restart(self) -> None:
        self.database.dispose()
        self.database = Database(self.db_url)
        self.engine = Engine(self.database, self.library, self.settings, clock=self.clock)
        await self.driver.restart(self.engine)

    async def run(self, steps: list[Step]) -> None:
        for step in steps:
            await self.step(step)

    async def step(self, step: Step) -> None:
        """Run one step; a reply checked (expect or buttons) while the rep's locale stayed
        the same counts for that locale, so the step that switches language counts for
        neither and a transcript counts for both only when it checks replies in both."""
        checks = step.action in REPLY_ACTIONS and bool(step.expect or step.buttons)
        before = self.rep_locale() if checks else None
        await self._step(step)
        if checks:
            after = self.rep_locale()
            if after is not None and before in (None, after):
                self.checked_locales.add(after)

    async def _step(self, step: Step) -> None:
        self.current = step
        seen: Seen | None = None
        if step.say is not None:
            seen = await self.driver.say(step.say)
        elif step.press is not None:
            seen = await self._press(step, step.press)
        elif step.press_nth is not None:
            seen = await self.driver.press_nth(step.press_nth)
        elif step.repeat is not None and step.steps is not None:
            for _ in range(step.repeat):
                await self.run(step.steps)
            self.current = step
        elif step.clock is not None:
            self.clock.advance(days=step.clock.days, hours=step.clock.hours,
                               minutes=step.clock.minutes)
        elif step.restart is not None:
            await self.restart()
        elif step.remind is not None:
            seen = await self.deliver_reminders()
        elif step.rows is not None:
            for table, expected in step.rows.items():
                actual = self.count(table)
                if actual != expected:
                    self._fail(step, f"{expected} row(s) in {table}", f"{actual} row(s)")
        elif step.row is not None:
            self.check_row(step, step.row)
        if seen is not None:
            self.last_seen = seen
            if self.show is not None:
                self.show(f"  {self.file}:{step.line}: {step.describe()}\n"
                          + _indented(_shown(seen)))
            self.check_replies(seen, step)

    async def _press(self, step: Step, label: str) -> Seen:
        try:
            return await self.driver.press(label)
        except AssertionError as exc:  # the driver found no such button
            self._fail(step, f"a button with {label!r}", str(exc))

    def _fail(self, step: Step, expected: str, actual: str) -> NoReturn:
        if (step.rows is not None or step.row is not None) and self.last_seen is not None:
            # a row check reads the database: the last reply often says why it differs
            actual += "\n(the bot's last reply:)\n" + _shown(self.last_seen)
        raise StepFailed(Failure(self.file, step.line, step.describe(), expected, actual))

    def check_replies(self, seen: Seen, step: Step) -> None:
        shown = _shown(seen)
        for wanted in step.expect:
            if wanted not in seen.text:
                self._fail(step, f"{wanted!r} in the reply", shown)
        for unwanted in step.reject:
            if unwanted in seen.text:
                self._fail(step, f"no {unwanted!r} in the reply", shown)
        for wanted in step.buttons:
            if not any(wanted in label for label in seen.labels):
                self._fail(step, f"a button with {wanted!r}",
                           "buttons: " + (" | ".join(seen.labels) or "(none)"))

    async def deliver_reminders(self) -> Seen:
        """What the channel runner does on its interval: due follow-up reminders, then the
        weekly re-evaluation nudge (each claimed as it is handed out), delivered through the
        channel."""
        channel, user = self.driver.channel, self.driver.user_id
        due = self.engine.due_reminders([channel])
        replies = [r.reply for r in due if r.user_id == user]
        replies += [n.reply for n in due_nudges(self.engine, [channel]) if n.user_id == user]
        return await self.driver.push(replies)

    def count(self, table: str) -> int:
        assert table in TABLES  # the schema allows no other; never interpolate anything else
        with self.database.engine.connect() as connection:
            return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())

    def check_row(self, step: Step, spec: RowCheck) -> None:
        assert spec.table in TABLES
        conditions = spec.where
        sql = f"SELECT * FROM {spec.table}"
        if conditions:
            sql += " WHERE " + " AND ".join(f"{column} = :{column}" for column in conditions)
        with self.database.engine.connect() as connection:
            try:
                rows = connection.execute(text(sql), conditions).mappings().all()
            except SQLAlchemyError as exc:  # an unknown column: the author's mistake, said plainly
                self._fail(step, f"a row in {spec.table} where {conditions}",
                           str(exc).splitlines()[0])
        if not rows:
            self._fail(step, f"a row in {spec.table} where {conditions}", "no such row")
        for column, expected in spec.has.items():
            if column not in rows[0]:
                self._fail(step, f"a column {column} in {spec.table}",
                           "columns: " + ", ".join(rows[0].keys()))
            values = [row[column] for row in rows]
            if expected not in values:
                self._fail(step, f"{spec.table}.{column} = {expected!r}", f"{values}")


def _shown(seen: Seen) -> str:
    """A reply as the author reads it: its text, then its buttons."""
    return seen.text + ("\n[buttons: " + " | ".join(seen.labels) + "]" if seen.labels else "")


def _indented(text: str) -> str:
    return "\n".join(f"      {line}" for line in text.splitlines()) or "      (nothing)"


async def play(transcript: Transcript, file: str, db_url: str, library: Library,
               clock: Clock, driver: Driver,
               show: Callable[[str], None] | None = None) -> set[str]:
    """Run `transcript` through `driver` on a migrated database; raise StepFailed at the first
    step that does not hold (`show` gets each step's reply as it comes). Shared by
    `repcoach test` and the pytest suite. Gives back the locales in which the transcript
    checked replies (see `Script.step`)."""
    script = Script(db_url, library, transcript.settings, clock, driver, file, show)
    await driver.start(script.engine)
    try:
        await script.run(transcript.script)
        return script.checked_locales
    except StepFailed:
        raise
    except Exception as exc:  # the bot crashed: the author sees where, not a traceback
        step = script.current
        raise StepFailed(Failure(file, step.line if step else 1,
                                 step.describe() if step else "(start)",
                                 "a reply", f"the bot raised {type(exc).__name__}: {exc}")) from exc
    finally:
        await driver.close()
        script.database.dispose()
