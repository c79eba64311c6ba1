"""Per-rep ordering holds across workers: two engines (two processes' worth of state, one
database) answering the same rep at once never lose or double an answer; 50 reps at once see
no cross-talk."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from coach.engine import Engine
from coach.library import Library
from coach.messages import Incoming
from coach.store.database import Database
from coach.store.models import QuizResult
from coach.turn.result import Outcome


def test_two_workers_answering_one_rep_serialise_on_the_database(db_url: str,
                                                                 library: Library) -> None:
    workers = [Engine(Database(db_url), library), Engine(Database(db_url), library)]
    workers[0].handle_sync(Incoming("memory", "shared", text="/quiz"))
    workers[1].handle_sync(Incoming("memory", "shared", text="1"))  # start after the intro
    items = sum(1 for s in library.playbooks["quiz"].steps
                if s.choices and any(c.scores for c in s.choices))

    def answer(n: int) -> None:
        workers[n % 2].handle_sync(Incoming("memory", "shared", text="1", message_id=f"c{n}"))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(answer, range(items)))
    with workers[0].database.transaction() as session:
        scores = session.execute(select(QuizResult.scores)).scalars().all()
    assert len(scores) == 1
    total = scores[0] if isinstance(scores[0], dict) else json.loads(scores[0])
    assert sum(total.values()) == items  # every answer counted exactly once
    for worker in workers:
        worker.database.dispose()


def test_one_message_given_to_two_workers_at_once_counts_once(db_url: str,
                                                              library: Library) -> None:
    """A platform that redelivers while the first delivery is still being handled hands the
    same message id to two workers at the same moment: one answers, the other sees a
    duplicate, and every quiz answer counts exactly once."""
    workers = [Engine(Database(db_url), library), Engine(Database(db_url), library)]
    workers[0].handle_sync(Incoming("memory", "twice", text="/quiz"))
    workers[1].handle_sync(Incoming("memory", "twice", text="1"))
    items = sum(1 for s in library.playbooks["quiz"].steps
                if s.choices and any(c.scores for c in s.choices))

    def deliver(n: int) -> list[Outcome]:
        message = Incoming("memory", "twice", text="1", message_id=f"m{n}")
        with ThreadPoolExecutor(max_workers=2) as pair:
            return list(pair.map(lambda worker: worker.handle_sync(message).outcome, workers))

    outcomes = [deliver(n) for n in range(items)]
    assert all(sorted(pair) == [Outcome.DUPLICATE, Outcome.OK] for pair in outcomes), outcomes
    with workers[0].database.transaction() as session:
        scores = session.execute(select(QuizResult.scores)).scalars().all()
    assert len(scores) == 1
    total = scores[0] if isinstance(scores[0], dict) else json.loads(scores[0])
    assert sum(total.values()) == items
    for worker in workers:
        worker.database.dispose()


# fifty different customers, one per rep: 王建国, 王志强, …, 吴文军
CUSTOMERS = [surname + given for surname in "王李张刘陈杨赵黄周吴"
             for given in ("建国", "志强", "海燕", "晓明", "文军")]


def test_fifty_reps_at_once_see_only_their_own_customers(engine: Engine) -> None:
    async def rep(n: int) -> str:
        user = f"rep-{n}"
        await engine.handle(Incoming("memory", user, text="/log"))
        await engine.handle(Incoming("memory", user, text=f"{CUSTOMERS[n]} 泰山医院"))
        result = await engine.handle(Incoming("memory", user, text="1"))  # ✅ 保存
        return "\n".join(r.text for r in result.replies)

    async def everyone() -> list[str]:
        return await asyncio.gather(*(rep(n) for n in range(50)))

    for n, text in enumerate(asyncio.run(everyone())):
        assert f"已记下{CUSTOMERS[n]}的拜访" in text
        assert not any(name in text for m, name in enumerate(CUSTOMERS) if m != n)
