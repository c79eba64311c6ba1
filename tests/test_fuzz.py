"""Property tests: whatever a rep (or an attacker) sends, the answer is clear and nothing
breaks: random text, emoji, control characters, huge notes, random buttons and commands."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from coach.engine import Engine
from coach.library import Library
from coach.messages import Incoming
from coach.store.database import Database
from coach.store.models import Note
from coach.turn.door import GUARDED_CHARS
from coach.turn.result import Outcome, TurnResult

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300)
# the points a random message arrives at: the menu, a quiz item, the log flow's first
# question, its one-message proposal and its "who did you see?", the customer list
SETUPS = (("/menu",), ("/quiz",), ("/log",), ("/log", "泰山医院李主任说想看数据，下周三再去"),
          ("/log", "说想看数据"), ("/accounts",))


def assert_clear(engine: Engine, library: Library, result: TurnResult) -> None:
    failure = tuple(library.message("saved_nothing", locale, typed="", report=False,
                                    hours=24, kind="store", deadline="")[:12]
                    for locale in ("zh", "en"))
    assert result.outcome is not Outcome.NOT_SAVED, "an internal error reached the rep"
    replies = result.replies
    assert replies, "every message gets an answer"
    for reply in replies:
        text = getattr(reply, "text", "")
        assert text.strip(), "no empty bubbles"
        assert not text.startswith(failure), "an internal error reached the rep"
        assert "Traceback" not in text


@FUZZ
@given(message=texts)
def test_any_text_at_any_point_gets_a_clear_reply(engine: Engine, library: Library,
                                                  message: str) -> None:
    for setup in SETUPS:
        for text in setup:
            engine.handle_sync(Incoming("memory", "fuzz", text=text))
        assert_clear(engine, library, engine.handle_sync(Incoming("memory", "fuzz",
                                                                  text=message)))


@FUZZ
@given(key=st.one_of(st.text(max_size=80), st.from_regex(r"r?\d{1,6}\.[0-9a-z]{1,3}",
                                                         fullmatch=True)))
def test_random_button_keys_are_refused_or_honoured(engine: Engine, library: Library,
                                                    key: str) -> None:
    engine.handle_sync(Incoming("memory", "fuzz", text="/quiz"))
    assert_clear(engine, library, engine.handle_sync(Incoming("memory", "fuzz", button=key)))


@FUZZ
@given(name=st.from_regex(r"[a-z_]{1,20}", fullmatch=True), argument=texts)
def test_random_commands_and_arguments(engine: Engine, library: Library, name: str,
                                       argument: str) -> None:
    result = engine.handle_sync(Incoming("memory", "fuzz", text=f"/{name} {argument}"))
    assert_clear(engine, library, result)


def test_a_100k_character_note_is_refused_and_not_stored(engine: Engine, library: Library,
                                                         database: Database) -> None:
    engine.handle_sync(Incoming("memory", "fuzz", text="/menu"))
    result = engine.handle_sync(Incoming("memory", "fuzz", text="很" * 100_000))
    assert_clear(engine, library, result)
    assert str(GUARDED_CHARS) in result.replies[0].text  # longer than the guard reads
    with database.transaction() as session:
        assert session.execute(select(func.count()).select_from(Note)).scalar() == 0
