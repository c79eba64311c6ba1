"""A rep with thousands of customers: a named customer is found among that family's
accounts, read through the name index, with the same answers as among all of them (Latin
names included: "Li Na" is a candidate for 李主任)."""

from __future__ import annotations

import random
from datetime import datetime

from sqlalchemy import event

from coach.engine import Engine
from coach.store.models import Account
from coach.store.repo import Directory, RepStore
from coach.testing import MemoryChat

OTHER_FAMILIES = "王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅"


def seeded_rep(engine: Engine, others: int) -> MemoryChat:
    engine.enroll("代表", wecom_user="many")
    chat = MemoryChat(engine, user_id="many", channel="wecom")
    chat.say("/help")
    rng = random.Random(7)
    now = datetime(2026, 11, 1)
    with engine.database.transaction() as session:
        rep = Directory(session).rep_for_identity("wecom", "many")
        assert rep is not None
        store = RepStore(session, rep)
        for n in range(others):
            store.create_account(rng.choice(OTHER_FAMILIES) + rng.choice(GIVEN)
                                 + rng.choice(GIVEN), f"第{n % 40}医院", "心内科", now)
        store.create_account("李伟", "泰山医院", "心内科", now, title="主任")
        store.create_account("李明", "仁济医院", "肿瘤科", now, title="主任")
        store.create_account("Li Na", "仁济医院", "肿瘤科", now)
    return chat


def test_a_customer_is_found_among_thousands(engine: Engine) -> None:
    chat = seeded_rep(engine, 2000)
    loaded: list[Account] = []

    def count(account: Account, _context: object) -> None:
        loaded.append(account)

    event.listen(Account, "load", count)
    try:
        got = MemoryChat.text(chat.say("泰山医院李伟主任说下周科室会可以讲十分钟"))
    finally:
        event.remove(Account, "load", count)
    assert "👤 李伟" in got and "泰山医院" in got and "新客户" not in got
    # the turn read names, not 2,000 whole customer rows (0.8 s a note at 15,000)
    assert len(loaded) < 20, len(loaded)

    chat.say("/cancel")
    got = MemoryChat.text(chat.say("李主任说下周科室会可以讲十分钟"))
    labels = [c.label for c in chat.choices()]
    assert any("李伟" in label for label in labels), got
    assert any("李明" in label for label in labels), got
    assert any("Li Na" in label for label in labels), got
    assert not any(label.startswith(tuple(OTHER_FAMILIES)) for label in labels), labels
