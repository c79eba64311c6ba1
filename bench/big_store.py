"""Part 6: a rep with thousands of customers.

Reading a visit note matches the names it mentions against every live customer of the rep,
and that runs on the event loop, where every other rep waits. A security review found 0.4-0.5 s
a note for a rep with 15,000 accounts (0.8 s measured here before the fix). The lookup of a
named customer now reads only that family's accounts through the (rep_id, name_key) index;
what stays linear is finding customers the note names without a title ("古丽娜尔"), which
reads every live customer's name once a turn. Here the same note turn (a new note naming a customer,
then /cancel) is timed through the real engine on SQLite for one rep with 50, 1,000 and
15,000 accounts, and reported as a ratio to the 50-account rep measured in the same run.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime
from pathlib import Path

from bench.report import Check, Part, Row
from coach.engine import Engine
from coach.library import Library
from coach.messages import Incoming
from coach.store.database import Database
from coach.store.migrate import upgrade
from coach.store.repo import Directory, RepStore

TITLE = "6. A rep with thousands of customers"
SIZES = (50, 1_000, 15_000)
TURNS = 40
TARGET_MS = 150.0  # median note turn at 15,000 accounts (was 812 ms before the index)
FAMILIES = ("李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董"
            "萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅"


def note_turns(library: Library, workdir: Path, accounts: int) -> list[float]:
    """Seconds per note turn for one rep owning `accounts` live customers."""
    path = workdir / f"big-store-{accounts}.sqlite3"
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    upgrade(url)
    database = Database(url)
    engine = Engine(database, library)
    try:
        engine.enroll("代表", wecom_user="big")
        engine.handle_sync(Incoming("wecom", "big", text="/help", message_id="m0"))
        rng = random.Random(accounts)
        with database.transaction() as session:
            rep = Directory(session).rep_for_identity("wecom", "big")
            assert rep is not None
            store = RepStore(session, rep)
            for n in range(accounts):
                store.create_account(rng.choice(FAMILIES) + rng.choice(GIVEN)
                                     + rng.choice(GIVEN), f"第{n % 60}医院", "心内科",
                                     datetime(2026, 12, 1))
        times = []
        for k in range(TURNS):
            started = time.perf_counter()
            engine.handle_sync(Incoming(
                "wecom", "big", text=f"第{k % 60}医院{FAMILIES[k % len(FAMILIES)]}主任说下周"
                "科室会可以讲十分钟", message_id=f"n{k}"))
            times.append(time.perf_counter() - started)
            engine.handle_sync(Incoming("wecom", "big", text="/cancel", message_id=f"c{k}"))
        return times[2:]  # the first turns warm caches every later turn shares
    finally:
        database.dispose()
        path.unlink(missing_ok=True)


def run(library: Library, workdir: Path) -> Part:
    part = Part(TITLE)
    part.add("One rep; a note naming a customer, then /cancel, through the engine on SQLite. "
             "Milliseconds per note turn; the ratio is to the 50-account rep in this run.", "")
    measured = {size: note_turns(library, workdir, size) for size in SIZES}
    base = statistics.median(measured[SIZES[0]])
    body = []
    for size, times in measured.items():
        times = sorted(times)
        p50, p90 = statistics.median(times), times[int(len(times) * 0.9)]
        part.rows.append(Row(f"big_store/{size}", {"p50_ms": round(p50 * 1e3, 2),
                                                   "p90_ms": round(p90 * 1e3, 2),
                                                   "ratio": round(p50 / base, 1)}))
        body.append([f"{size:,}", f"{p50 * 1e3:.1f}", f"{p90 * 1e3:.1f}", f"{p50 / base:.1f}×"])
    part.table(["accounts", "p50 ms", "p90 ms", "p50 vs 50 accounts"], body)
    biggest = statistics.median(measured[SIZES[-1]]) * 1e3
    part.checks.append(Check(f"median note turn at 15,000 accounts < {TARGET_MS:.0f} ms",
                             f"{biggest:.1f} ms", biggest < TARGET_MS))
    return part
