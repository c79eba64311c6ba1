"""A reason typed at "why is this not an adverse event?" (trial F finding 1).

/today → a report → 🙅 不是不良事件 asks why, with one button per reason. A rep who types the
reason instead ("是疗效改善，Hb升高不是不良反应") used to have it guarded like any note: it
opened a NEW report and the first stayed open. Now text typed at that step is the reason for
dismissing the report asked about: the report is kept, marked not_ae, with the typed words
(personal data removed) as its reason, as a button's reason is kept. It is still guarded
first: text that tells a different event (another patient, another reaction, a new symptom)
opens its own report, is not taken as the reason, and the reason is asked again, saying
why. "不是不良反应" in a note typed anywhere else suppresses nothing
(tests/data/trial7_guard_fp.yaml and the guard sets measure the guard itself).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from coach.engine import Engine
from coach.store.database import Database
from coach.testing import MemoryChat
from tests.conftest import Clock
from tests.test_access import admin_cli, enrolled
from tests.test_safety_records import rows

HB_UP = "省医何主任说有个病人用了我们的药以后Hb升高了"


def reports(database: Database) -> list[Any]:
    return rows(database, "SELECT status, dismissed_reason, dismissed_note, phrase "
                          "FROM adverse_events ORDER BY id")


def asked_why(engine: Engine) -> MemoryChat:
    """A rep with one report and no customer, asked in /today why it is not one."""
    rep = enrolled(engine, "林晓", "32", team="east")
    rep.say(HB_UP)
    rep.say("/cancel")
    rep.say("/today")
    rep.say("1")
    asked = MemoryChat.text(rep.press("🙅 不是不良事件"))
    assert "为什么不是不良事件" in asked, asked
    return rep


def test_a_typed_reason_about_the_same_event_dismisses_it(
        engine: Engine, database: Database) -> None:
    rep = asked_why(engine)
    done = MemoryChat.text(rep.say("是疗效改善，Hb升高不是不良反应"))
    assert "已标记为“代表确认不是不良事件”" in done, done
    assert "是疗效改善，Hb升高不是不良反应" in done
    assert "🚨" not in done  # no new report
    [(status, reason, note, _)] = reports(database)
    assert (status, reason, note) == ("not_ae", "typed", "是疗效改善，Hb升高不是不良反应")
    assert "Hb升高" not in MemoryChat.text(rep.say("/today"))


def test_a_reason_with_no_event_words_is_taken_as_typed(
        engine: Engine, database: Database) -> None:
    rep = asked_why(engine)
    rep.say("主任后来说那个病人本来就是贫血，升上去是好事")
    [(status, reason, note, _)] = reports(database)
    assert (status, reason) == ("not_ae", "typed") and "好事" in note


def test_text_telling_a_new_event_opens_its_own_report_and_is_no_reason(
        engine: Engine, database: Database) -> None:
    rep = asked_why(engine)
    said = MemoryChat.text(rep.say("不是，另外有个病人用了以后一直头晕"))
    assert "🚨 可能的不良事件" in said, said
    assert "没有当作原因" in said and "为什么不是不良事件" in said, said
    first, second = reports(database)
    assert first[:3] == ("open", None, None)  # the first one is not dismissed
    assert second[0] == "open" and "头晕" in second[3]
    # the reason asked again can still be given
    rep.say("Hb升高是疗效")
    first, second = reports(database)
    assert first[:2] == ("not_ae", "typed") and second[0] == "open"


def test_a_new_event_in_a_note_about_someone_else_is_read_as_that_note(
        engine: Engine, database: Database) -> None:
    """Named with a hospital: a visit note of its own, its report taken at the door, and
    said not to be the reason; the first report stays open."""
    rep = asked_why(engine)
    said = MemoryChat.text(rep.say("不是，华东医院邓主任那边有个病人用了我们的药以后一直头晕"))
    assert "没有当作原因" in said and "🚨 可能的不良事件" in said and "这样记下" in said, said
    first, second = reports(database)
    assert first[0] == "open" and second[0] == "open" and "头晕" in second[3]


def test_another_patient_with_the_same_reaction_is_a_new_report(
        engine: Engine, database: Database) -> None:
    rep = asked_why(engine)
    rep.say("这个是疗效，不过还有一个病人用了我们药以后Hb也升高了")
    first, second = reports(database)
    assert first[0] == "open" and second[0] == "open"


def test_an_empty_reason_is_asked_again_and_a_long_one_is_kept_whole(
        engine: Engine, database: Database) -> None:
    rep = asked_why(engine)
    again = MemoryChat.text(rep.say("   "))
    assert reports(database)[0][0] == "open", again
    long = "主任解释说这个病人本来就是肾性贫血，" + "用药以后血红蛋白慢慢回升是治疗目标，" * 40
    done = MemoryChat.text(rep.say(long))
    assert "已标记为“代表确认不是不良事件”" in done, done
    assert len(done) < 1500  # the reply quotes the reason cut short
    [(status, reason, note, _)] = reports(database)
    assert (status, reason, note) == ("not_ae", "typed", long.strip())


def test_a_button_reason_still_works_and_text_after_it_is_a_note(
        engine: Engine, database: Database) -> None:
    rep = asked_why(engine)
    rep.press("没有发生事件（只是评价、比较或担心）")
    assert reports(database)[0][:2] == ("not_ae", "no_event")
    shown = MemoryChat.text(rep.say("市一院李主任说有个病人用了我们的药以后皮疹"))
    assert "🚨 可能的不良事件" in shown
    assert [r[0] for r in reports(database)] == ["not_ae", "open"]


def test_a_visit_note_sent_instead_of_a_reason_is_read_as_a_note(
        engine: Engine, database: Database) -> None:
    """A report is never closed by words not meant for it: a note naming another customer
    or a follow-up date is a note, and the report stays open."""
    rep = asked_why(engine)
    shown = MemoryChat.text(rep.say("中山医院内分泌吴主任，聊了指南，下周三再去"))
    assert "这样记下" in shown, shown
    assert reports(database)[0][0] == "open"


def test_a_reason_typed_long_after_the_question_is_a_note(
        engine: Engine, database: Database, clock: Clock) -> None:
    rep = asked_why(engine)
    clock.advance(hours=2)
    rep.say("Hb升高是疗效")
    assert reports(database)[0][0] == "open"


def test_the_reason_may_name_the_reaction_its_own_way(
        engine: Engine, database: Database) -> None:
    """说心慌 / 心慌 are the report's event, not a new one."""
    rep = enrolled(engine, "林晓", "32", team="east")
    rep.say("华东医院心内冯主任说有个病人用了我们的药后心慌")
    rep.say("/cancel")
    rep.say("/today")
    rep.say("1")
    rep.press("🙅 不是不良事件")
    rep.say("主任后来说心慌是病人自己喝了太多咖啡，跟用药没关系")
    [(status, reason, note, _)] = reports(database)
    assert (status, reason) == ("not_ae", "typed") and "咖啡" in note


def test_the_manager_and_the_safety_team_read_the_typed_reason(
        engine: Engine, database: Database, tmp_path: Path) -> None:
    manager = enrolled(engine, "赵经理", "31", role="manager", team="east")
    rep = asked_why(engine)
    rep.say("是疗效改善，Hb升高不是不良反应")
    assert "代表写明：是疗效改善，Hb升高不是不良反应" in MemoryChat.text(manager.say("/team"))
    exported = admin_cli(tmp_path, database.url)("ae", "export", "--all", "--format", "json")
    [report] = json.loads(exported.stdout)
    assert (report["dismissed_reason"], report["dismissed_note"]) == (
        "typed", "是疗效改善，Hb升高不是不良反应")


def test_a_reason_typed_from_the_notice_in_a_visit_note_shows_the_visit_again(
        chat: MemoryChat, database: Database) -> None:
    chat.say("市一院心内科王主任说有个病人用药后头晕，下周二再去")
    chat.press("🙅 这不是不良事件")
    done = MemoryChat.text(chat.say("头晕是那个病人原来就有的毛病，跟用药无关"))
    assert "已标记为“代表确认不是不良事件”" in done and "这样记下" in done, done
    assert reports(database)[0][:2] == ("not_ae", "typed")
    saved = MemoryChat.text(chat.press("✅ 保存"))
    assert "已记下王主任的拜访" in saved, saved
