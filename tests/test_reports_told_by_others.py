"""A side effect told by an UNNAMED second person (trial F finding 2): "…旁边护士长林姐说有个
病人用了以后一直头晕", "科里一个护士说…", "their pharmacist mentioned a patient with a rash"
was filed under the customer, as if he had said it, and the other person's 她 made the
customer 她 in the tips.

Behaviour, consistent with the named case (tests/test_reports_of_others.py): a report in
the part of the note told by someone else is not the customer's. A named person (吴医生)
can have a visit logged, and the report waits for it. A person with no name to log a visit
for (护士长林姐, "a nurse", "their pharmacist") cannot, so the report is stored (never lost)
without a customer, exactly like a report waiting for a visit, and:
- the save reply says it was told by that person, not in the customer's own words, and
  that it is not filed under the customer;
- it stays in /today ("还没关联客户"), where the rep can forward it, dismiss it, or log it
  under a customer (📝 记下这条报告) if it was the customer after all;
- its clock runs from the note, as any report's.
A report in the customer's own part is still his. Pronouns in another person's part (她
after 护士长林姐) never set the customer's pronoun: a pronoun speaks of the person named
last before it.
"""

from __future__ import annotations

import pytest

from coach.store.database import Database
from coach.testing import MemoryChat
from tests.test_reports_of_others import report_owner


def _saved(chat: MemoryChat, note: str) -> str:
    assert "🚨" in MemoryChat.text(chat.say(note))
    return MemoryChat.text(chat.press("✅ 保存"))


@pytest.mark.parametrize(("note", "teller"), [
    ("仁济心内周主任，他说我们的药科里常规在用了。旁边护士长林姐说有个病人用了以后一直头晕",
     "护士长"),
    ("瑞金内分泌钱主任 他对价格还是有顾虑 科里一个护士说有个病人打了我们的针以后起皮疹了",
     "护士"),
    ("Dr. Zhou at Renji, he is keen on our drug. Their pharmacist mentioned a patient "
     "on our drug with a rash", "pharmacist"),
])
def test_a_report_told_by_an_unnamed_other_is_not_the_customers(
        chat: MemoryChat, database: Database, note: str, teller: str) -> None:
    saved = _saved(chat, note)
    assert report_owner(database) == [(None,)], saved
    assert teller in saved and ("不是这位客户" in saved or "not the customer" in saved), saved
    today = MemoryChat.text(chat.say("/today"))
    assert "还没关联客户" in today or "no customer yet" in today, today


def test_the_other_persons_she_does_not_make_the_customer_she(chat: MemoryChat) -> None:
    _saved(chat, "仁济心内周主任，他说我们的药科里常规在用了，下周三再去。"
                 "旁边护士长林姐说有个病人用了以后一直头晕，她说已经停药了，她自己也会盯着")
    chat.press("完成")
    chat.say("/stage 周主任")
    second = MemoryChat.text(chat.press_nth(0))
    assert "2/8 他向你要过什么？" in second, second


def test_the_customers_own_report_is_still_his(chat: MemoryChat, database: Database) -> None:
    _saved(chat, "仁济心内周主任说有个病人用了我们的药以后一直头晕。旁边护士长林姐说她们会盯着")
    assert report_owner(database) == [("周主任",)]


def test_the_customer_passing_on_what_a_nurse_saw_is_still_his(
        chat: MemoryChat, database: Database) -> None:
    """He tells it ("周主任说他们科一个护士反映…"): his report, as any he tells."""
    _saved(chat, "仁济心内周主任说他们科一个护士反映有个病人用了我们的药以后一直头晕")
    assert report_owner(database) == [("周主任",)]
