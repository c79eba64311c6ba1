"""Access and isolation: enrollment codes, roles, revocation, and reps who try to reach
another rep's accounts, notes, plans or buttons through every entry point."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from coach.engine import Engine
from coach.store.database import Database
from coach.store.models import AdverseEvent, FollowUp, Identity, Note, Rep
from coach.testing import MemoryChat
from tests.conftest import Clock

ROOT = Path(__file__).resolve().parent.parent


def enrolled(engine: Engine, name: str, user_id: str, **kwargs: str) -> MemoryChat:
    """A rep on a channel that needs a code (like Telegram), enrolled with /start CODE."""
    chat = MemoryChat(engine, user_id=user_id, channel="telegram", display_name=name)
    code = engine.enroll(name, **kwargs)
    assert "开通成功" in MemoryChat.text(chat.say(f"/start {code}"))
    return chat


def log(chat: MemoryChat, note: str) -> None:
    """Log a visit the way a rep does: one note naming the customer (and any follow-up
    date), then one tap on the proposal."""
    chat.say("/log")
    chat.say(note)
    chat.press("保存")


def count(database: Database, model: type) -> int:
    with database.transaction() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_strangers_get_told_how_and_nothing_is_stored(engine: Engine,
                                                      database: Database) -> None:
    stranger = MemoryChat(engine, user_id="999", channel="telegram")
    for text in ("你好", "/start", "/start WRONG1", "/log"):
        reply = MemoryChat.text(stranger.say(text))
        assert "开通" in reply
    assert count(database, Rep) == 0 and count(database, Identity) == 0


def test_codes_are_single_use_and_expire(engine: Engine, database: Database,
                                         clock: Clock) -> None:
    code = engine.enroll("王芳")
    first = MemoryChat(engine, user_id="1", channel="telegram")
    assert "开通成功" in MemoryChat.text(first.say(f"/start {code}"))
    second = MemoryChat(engine, user_id="2", channel="telegram")
    assert "无效或已过期" in MemoryChat.text(second.say(f"/start {code}"))
    late = engine.enroll("李雷")
    clock.advance(days=8)
    assert "无效或已过期" in MemoryChat.text(second.say(f"/start {late}"))
    with database.transaction() as session:
        assert session.execute(select(Identity.external_id)).scalars().all() == ["1"]


def test_revoked_rep_loses_access_but_data_is_kept(engine: Engine, database: Database) -> None:
    chat = enrolled(engine, "王芳", "11")
    log(chat, "泰山医院李主任，关心数据")
    assert engine.revoke(name="王芳")
    assert "开通" in MemoryChat.text(chat.say("/log"))
    assert count(database, Note) == 1


def test_another_reps_buttons_and_ids_reach_nothing(engine: Engine, database: Database,
                                                    clock: Clock) -> None:
    alice = enrolled(engine, "Alice", "21")
    bob = enrolled(engine, "Bob", "22")
    log(alice, "青松医院钱主任：有病人用药后出现皮疹，明天再去")
    clock.advance(days=2)
    reminders = engine.due_reminders(["telegram"])
    alice_keys = [c.key for r in reminders for c in r.reply.choices if r.user_id == "21"]
    assert alice_keys  # a follow-up reminder and an adverse-event reminder for Alice
    with database.transaction() as session:
        account_id = session.execute(select(Note.account_id)).scalar_one()
        reminded = (session.execute(select(FollowUp.status)).scalars().all(),
                    session.execute(select(AdverseEvent.status)).scalars().all())
    assert reminded == (["sent"], ["reminded"])
    for key in [*alice_keys, f"n{account_id}", f"r{account_id}.l", "a1.f"]:
        replies = bob.press_key(key)
        assert len(replies) == 1 and replies[0].toast, key
    # typing Alice's customer finds nothing of hers; /export and /plan show nothing of hers
    bob.say("/plan")
    found = bob.say("钱主任")
    assert "没找到" in MemoryChat.text(found)
    assert not any("青松医院" in c.label for r in found for c in r.choices)
    exported = b"".join(r.attachment.data for r in bob.say("/export") if r.attachment)
    assert "青松医院".encode() not in exported and "皮疹".encode() not in exported
    with database.transaction() as session:  # Bob's presses changed nothing of Alice's
        assert (session.execute(select(FollowUp.status)).scalars().all(),
                session.execute(select(AdverseEvent.status)).scalars().all()) == reminded


def test_manager_sees_the_team_read_only_and_nobody_else(engine: Engine) -> None:
    manager = enrolled(engine, "赵经理", "31", role="manager", team="east")
    member = enrolled(engine, "王芳", "32", team="east")
    outsider = enrolled(engine, "李雷", "33", team="west")
    log(member, "泰山医院李主任说这个月开了30盒，还有病人出现皮疹")
    log(outsider, "人民医院张主任：另一个团队的记录，提到回扣")
    overview = MemoryChat.text(manager.say("/team"))
    assert "王芳" in overview and "统方" in overview and "皮疹" in overview
    assert "李雷" not in overview and "另一个团队" not in overview
    assert "30盒" not in overview  # the count was never stored
    assert "经理" in MemoryChat.text(member.say("/team"))  # reps are refused


def admin_cli(tmp_path: Path, url: str | None = None
              ) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`repcoach ARGS…` as an admin runs it, with a config for `url` (default: a SQLite file
    in `tmp_path`)."""
    config = tmp_path / "config.yaml"
    config.write_text(f"database: {{url: '{url or f'sqlite:///{tmp_path}/db.sqlite3'}'}}\n"
                      f"playbooks: {{dir: '{ROOT / 'playbooks'}'}}\n", encoding="utf-8")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", "--config", str(config), *args],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
    return cli


def test_revoke_command_line(tmp_path: Path) -> None:
    cli = admin_cli(tmp_path)
    assert cli("db", "upgrade").returncode == 0
    enroll = cli("enroll", "--name", "王芳", "--manager-of", "east")
    assert enroll.returncode == 0 and "manager" in enroll.stdout
    code = enroll.stdout.strip().splitlines()[-1]  # the code is the last line
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}", code), code
    assert cli("revoke", "--name", "王芳").returncode == 0
    missing = cli("revoke", "--name", "王芳")
    assert missing.returncode == 1 and "no active rep" in missing.stderr


def test_a_button_with_a_huge_id_is_stale_not_an_error(engine: Engine) -> None:
    rep = enrolled(engine, "王芳", "32", team="east")
    for key in ("r99999999999999999.l", "a9999999999.f", "n99999999999", "9999999999.1"):
        replies = rep.press_key(key)
        assert len(replies) == 1 and replies[0].toast, key
        assert "系统" not in replies[0].text, key


def test_enroll_wecom_users_from_the_command_line_and_a_csv(tmp_path: Path) -> None:
    cli = admin_cli(tmp_path)
    database = tmp_path / "db.sqlite3"
    assert cli("db", "upgrade").returncode == 0
    one = cli("enroll", "--name", "赵经理", "--wecom-user", "ZhaoJL", "--manager-of", "east")
    assert one.returncode == 0 and "WeCom user ZhaoJL is bound" in one.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("name,wecom_user,team,manager_of\n王芳,wangf,east,\n,lil,east,\n"
                   "李雷,wangf,east,\n", encoding="utf-8")
    refused = cli("enroll", "--csv", str(bad))
    assert refused.returncode == 1
    assert f"{bad}:3: name and wecom_user are required" in refused.stderr
    assert f"{bad}:4: wecom_user wangf appears twice" in refused.stderr
    good = tmp_path / "team.csv"
    good.write_text("name,wecom_user,team,manager_of\n王芳,wangf,east,\n李雷,LiLei,east,\n",
                    encoding="utf-8")
    assert cli("enroll", "--csv", str(good)).returncode == 0
    with sqlite3.connect(database) as connection:
        bound = connection.execute(
            "SELECT i.external_id, r.name, r.role, r.team FROM identities i "
            "JOIN reps r ON r.id = i.rep_id ORDER BY r.id").fetchall()
    assert bound == [("ZhaoJL", "赵经理", "manager", "east"), ("wangf", "王芳", "rep", "east"),
                     ("LiLei", "李雷", "rep", "east")]


def test_guessing_codes_stops_after_a_few_tries(engine: Engine, database: Database,
                                                clock: Clock) -> None:
    code = engine.enroll("王芳")
    guesser = MemoryChat(engine, user_id="41", channel="telegram", display_name="guess")
    for attempt in range(5):
        assert "无效或已过期" in MemoryChat.text(guesser.say(f"/start AAAAA-AAAA{attempt}"))
    # the right code no longer works for this identity within the hour
    assert "试错次数太多" in MemoryChat.text(guesser.say(f"/start {code}"))
    clock.advance(hours=2)
    readable = code.lower().replace("-", "")  # neither case nor the dash matters
    assert "开通成功" in MemoryChat.text(guesser.say(f"/start {readable}"))
