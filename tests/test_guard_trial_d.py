"""Trial D's guard findings as a rep meets them: what the reply says is what the store holds.
Patient names said after 叫 or a space are not kept; patients started on the product are the
doctor's experience, not 统方, while one doctor's boxes are; a vital sign or lab value given as
a bare number after our drug starts a safety report (SQLite and PostgreSQL)."""

from __future__ import annotations

from coach.engine import Engine
from coach.store.database import Database
from coach.testing import MemoryChat
from tests.test_access import enrolled
from tests.test_safety_records import rows


def logged(rep: MemoryChat, note: str) -> str:
    """The replies to a note typed after /log, then the tap on ✅ 保存."""
    rep.say("/log")
    said = MemoryChat.text(rep.say(note))
    rep.press("保存")
    return said


def stored(database: Database) -> str:
    [(text,)] = rows(database, "SELECT text FROM notes ORDER BY id DESC LIMIT 1")
    return str(text)


def test_a_patient_named_after_jiao_or_a_space_is_not_kept(engine: Engine,
                                                          database: Database) -> None:
    rep = enrolled(engine, "林晓", "32", team="east")
    logged(rep, "省医肿瘤 张主任说那个阿姨 叫陈桂兰 用了效果挺好")
    assert stored(database) == "省医肿瘤 张主任说那个阿姨 叫[患者姓名/patient name] 用了效果挺好"
    logged(rep, "贺主任说那个姓周的老爷子 周建国 恢复得不错")
    assert stored(database) == "贺主任说那个姓周的老爷子 [患者姓名/patient name] 恢复得不错"
    logged(rep, "人民医院刘医生说那个老爷子 刘医生自己管的床 恢复得不错")  # a doctor stays
    assert "刘医生自己管的床" in stored(database)


def test_patients_started_on_it_are_no_tongfang_and_a_doctors_boxes_are(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "林晓", "32", team="east")
    said = logged(rep, "met Dr Zhang 省医 onc again, he's started 2 pts on it last wk")
    assert "统方" not in said and stored(database).endswith("he's started 2 pts on it last wk")
    said = logged(rep, "省医内分泌 李主任说她已经给3个病人用上了 反馈还可以")
    assert "统方" not in said and "给3个病人用上了" in stored(database)
    assert rows(database, "SELECT COUNT(*) FROM compliance_records") == [(0,)]
    said = logged(rep, "华西 王主任这个月 Rx ~40 boxes, top in dept")
    assert "统方" in said and "替换为 [处方数/Rx count]" in said  # and so it is:
    assert stored(database) == "华西 王主任这个月 Rx ~[处方数/Rx count] boxes, top in dept"


def test_a_bare_heart_rate_or_potassium_after_our_drug_starts_a_report(
        engine: Engine, database: Database) -> None:
    rep = enrolled(engine, "林晓", "32", team="east")
    assert "🚨" in logged(rep, "市一院罗主任 病人上了我们的药 心跳一直130多")
    assert "🚨" in logged(rep, "人民医院邓主任 pt on our drug, K+ 6.2 this morning")
    assert "🚨" not in logged(rep, "人民医院邓主任说病人用了我们的药 心率72 血压125/80 很平稳")
    reports = rows(database, "SELECT report FROM adverse_events ORDER BY id")
    assert [r[0] for r in reports] == ["市一院罗主任 病人上了我们的药 心跳一直130多",
                                      "人民医院邓主任 pt on our drug, K+ 6.2 this morning"]
