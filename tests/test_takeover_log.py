"""An admin must see when a worker finishes what another left (it means a worker died or
was killed): the lines are warnings, shown at the default log level, and say whose rows
these are (issue 18 IT trial)."""

from __future__ import annotations

import logging

import pytest

from bot.admin_log import report_resumed
from coach.engine import Engine
from coach.mailbox import Mailbox
from tests.conftest import Clock
from tests.test_mailbox import CHANNEL, enrolled, said


async def test_resuming_after_a_crash_and_taking_over_are_warnings(
        engine: Engine, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    await enrolled(engine, "wangfang")
    dead = Mailbox(engine, CHANNEL, "host:wecom:1")
    await dead.receive("wangfang", "w1", "<xml>one</xml>")
    await dead.handle("w1", said("wangfang", "w1", "/nosuch"))
    await dead.receive("wangfang", "w2", "<xml>two</xml>")  # acknowledged, then the kill

    caplog.set_level(logging.WARNING)
    restarted = Mailbox(engine, CHANNEL, "host:wecom:1")
    report_resumed(CHANNEL, await restarted.take_pending(at_start=True), at_start=True,
                   messages="messages")
    clock.advance(minutes=6)  # the restarted one dies too; its lease runs out
    other = Mailbox(engine, CHANNEL, "host:wecom:2")
    report_resumed(CHANNEL, await other.take_pending(at_start=False), at_start=False,
                   messages="messages")
    report_resumed(CHANNEL, await other.take_pending(at_start=False), at_start=False,
                   messages="messages")  # nothing left: nothing said
    assert [(r.levelname, r.getMessage().split(" replies")[0]) for r in caplog.records] == [
        ("WARNING", "wecom: resuming 1"), ("WARNING", "wecom: taking over 1")]
    assert "left unfinished by a crash or a stop of this worker" in caplog.records[0].getMessage()
    assert "1 messages from another worker whose lease ran out" in caplog.records[1].getMessage()
