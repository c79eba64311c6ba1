"""A known rep who types `/start CODE` with a manager's code gets the manager's view, as a
stranger with the code does on Telegram or WeCom: on the console (where everyone is enrolled
on first contact) that is the only way to reach the manager path. The link that enrolled a
rep, pressed again, is just /start; a wrong code is said to be wrong."""

from __future__ import annotations

import re
from pathlib import Path

from coach.engine import Engine
from coach.testing import MemoryChat
from tests.test_access import log
from tests.test_console import _cli, chat, rows, workdir

__all__ = ["workdir"]  # the console test's fixture, used here


def test_a_console_user_given_a_manager_code_becomes_the_manager(engine: Engine) -> None:
    member = MemoryChat(engine, user_id="wang", channel="telegram", display_name="王芳")
    member_code = engine.enroll("王芳", team="east")
    member.say(f"/start {member_code}")
    log(member, "泰山医院李主任说还有病人出现皮疹，下周三再去")
    you = MemoryChat(engine, user_id="console", channel="console", display_name="console")
    you.say("/menu")  # known on first contact, as a rep with no team
    assert "经理" in MemoryChat.text(you.say("/team"))  # refused: not a manager yet
    code = engine.enroll("赵经理", role="manager", team="east")
    shown = MemoryChat.text(you.say(f"/start {code}"))
    assert "开通成功，赵经理！" in shown
    overview = MemoryChat.text(you.say("/team"))
    assert "王芳" in overview and "皮疹" in overview


def test_a_wrong_code_from_a_known_rep_is_said_to_be_wrong(engine: Engine) -> None:
    you = MemoryChat(engine, user_id="console", channel="console", display_name="console")
    you.say("/menu")
    assert "这个开通码无效或已过期" in MemoryChat.text(you.say("/start ABCDE-FGHIJ"))
    code = engine.enroll("赵经理", role="manager", team="east")
    you.say(f"/start {code}")
    again = MemoryChat.text(you.say(f"/start {code}"))  # the same link pressed again
    assert "无效" not in again and "开通成功" not in again


def test_start_with_a_manager_code_through_the_console(workdir: Path) -> None:
    chat(workdir, ["/menu"])  # alice, known from here on
    enroll = _cli(workdir, "enroll", "--name", "赵经理", "--manager-of", "east")
    assert enroll.returncode == 0, enroll.stderr
    code = re.search(r"[A-Z0-9]{5}-[A-Z0-9]{5}", enroll.stdout)
    assert code is not None, enroll.stdout
    shown = chat(workdir, [f"/start {code.group()}", "/team"])
    assert "开通成功，赵经理！" in shown
    assert rows(workdir, "SELECT r.name, r.role FROM identities i JOIN reps r "
                         "ON r.id = i.rep_id WHERE i.external_id = 'alice'") == [
        ("赵经理", "manager")]
