"""A generator of realistic stores, loaded in bulk straight into the tables of
`coach/store/models.py` after `coach.store.migrate.upgrade(url)`.

Every rep gets the same book (`StoreSize`: 50 accounts, 4 notes per account, stage history,
suggestions, follow-ups, style assessments, a quiz result, processed message ids, and a
conversation row in the middle of the quiz), so a small store and a full one differ only in
how many reps there are: per-rep work is the same and only the size of the tables grows.

Rows are emitted slot-major (the k-th account of every rep, then the (k+1)-th ...), so each
rep's rows are spread over the whole table as they would be after a year of reps working in
parallel, not packed together on a few pages. Timestamps grow with the slot, as inserts would.

Loading: SQLite gets `executemany` on one connection with journal and sync off, and its
secondary indexes are dropped before and rebuilt after the load; PostgreSQL gets `COPY ...
FROM STDIN` with foreign-key triggers skipped (`session_replication_role = replica`: the
generator's keys are consistent by construction), indexes rebuilt after, sequences moved past
the seeded ids, then `VACUUM (ANALYZE)` and a `CHECKPOINT`: what autovacuum and the
checkpointer would have done long before anyone looks at a year-old store. Measured without
them, the engine's PostgreSQL turns shared the machine with autovacuum and a checkpointer
flushing the load, and with reads that set the hint bits of every freshly loaded row they
touched; their p99 was 2-2.5x their p50 against 1.5-1.8x on SQLite. SQLite is not analysed:
RepCoach never runs ANALYZE there, so its planner works without statistics in production too.
"""

from __future__ import annotations

import io
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateIndex

from bench.sizes import StoreSize
from coach.library import load_library
from coach.names import name_key
from coach.store.conversation import EngineState, Prompt, ShownChoice
from coach.store.migrate import upgrade
from coach.store.models import Base
from coach.turn.keys import ChoiceKey, encode

Row = tuple[Any, ...]

TG_USER_BASE = 7_000_000  # Telegram user id (= private chat id) of rep r is TG_USER_BASE + r
STAGES = ("awareness", "interest", "evaluation", "trial", "adoption")
STYLES = ("A", "B", "C", "D")
QUIZ_STEP = "q05"  # where every seeded conversation waits
QUIZ_SEQ = 6  # its prompt number: /quiz asks the intro (1), then q01 (2) … q05 (6)
PLAYBOOKS = Path(__file__).resolve().parent.parent / "playbooks"
_CHUNK = 20_000

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
)
GIVEN = "伟芳娜敏静丽强磊洋勇艳杰娟涛明超秀霞平刚桂英华建国文红玉兰志德海波宁晓东亮林斌雪琳峰晨"
TITLES = ("主任", "医生", "教授", "主任医师", "副主任", "药师", "老师")
CITIES = ("泰山", "济南", "青岛", "烟台", "潍坊", "临沂", "淄博", "济宁", "聊城", "德州", "滨州",
          "菏泽", "枣庄", "日照", "威海", "东营", "莱芜", "章丘", "平阴", "长清")
HOSPITAL_KINDS = ("医院", "市第一人民医院", "市中心医院", "中医院", "妇幼保健院", "肿瘤医院",
                  "人民医院", "第二人民医院", "社区卫生服务中心", "附属医院")
DEPARTMENTS = ("心内科", "肿瘤科", "内分泌科", "神经内科", "呼吸科", "消化科", "药剂科", "肾内科",
               "风湿免疫科", "血液科")
NOTE_TEXTS = (
    "今天见了{n}，他对新版指南很感兴趣，要了两篇文献",
    "{n}说科里有两个病人想试试，下周带用法说明过去",
    "科室会改期，只和{n}打了个招呼",
    "{n}关心安全性数据，特别是老年患者，答应下次带研究摘要",
    "{n}很忙，只聊了三分钟，约了下周三下午再来",
    "和{n}讨论了病例，他觉得现有方案够用，暂时不想换",
    "{n}问到医保报销的情况，需要确认后回复",
    "参加了科室晨会，{n}提到下个月有学术会议",
    "{n}说上次的资料很有用，想要更多真实世界数据",
    "{n}对随访项目感兴趣，想了解患者教育材料",
    "送了会议邀请，{n}说看时间安排，可能会来",
    "{n}反馈试用的两位病人效果不错，没有不良反应",
)
EVIDENCE = ("主动询问用法用量", "要了文献", "说先观望", "已经在部分病人身上试用", "提到同行的经验",
            "问了不良反应", "请我们安排科室会")
ACTIONS = ("送指南更新", "约科室会", "带研究摘要", "确认医保政策", "介绍患者教育项目", None)
REASONS = ("not_fit", "done", "timing", "resources", "other")
TACTICS = (
    "aw_evidence_hook", "aw_short_agenda", "aw_patient_question", "aw_field_trend",
    "in_ask_what_evidence", "in_qa_sheet", "in_peer_voice", "ev_subgroup_match", "ev_try_plan",
    "tr_observe_points", "tr_followup_rhythm", "ad_evidence_update", "ad_keep_in_touch",
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "reps": ("id", "name", "locale", "role", "team", "active", "created_at"),
    "identities": ("id", "rep_id", "channel", "external_id", "created_at"),
    "accounts": ("id", "rep_id", "kind", "name", "name_key", "hospital", "department", "stage",
                 "stage_confidence", "style", "style_confidence", "archived", "merged_into",
                 "created_at", "updated_at"),
    "notes": ("id", "rep_id", "account_id", "text", "created_at"),
    "stage_history": ("id", "rep_id", "account_id", "stage", "previous_stage", "confidence",
                      "evidence", "playbook_version", "created_at"),
    "style_assessments": ("id", "rep_id", "account_id", "scores", "letters", "confidence",
                          "evidence", "playbook_version", "created_at"),
    "suggestions": ("id", "rep_id", "account_id", "tactic_id", "status", "reason", "offered_at",
                    "answered_at"),
    "followups": ("id", "rep_id", "account_id", "note_id", "action", "due_date", "remind_at",
                  "status", "sent_at", "created_at"),
    "quiz_results": ("id", "rep_id", "playbook_id", "playbook_version", "scores", "dominant",
                     "created_at"),
    "conversations": ("rep_id", "playbook", "step", "vars", "engine", "seq", "updated_at"),
    "processed_messages": ("channel", "message_key", "rep_id", "created_at"),
}
SERIAL_TABLES = ("reps", "identities", "accounts", "notes", "stage_history", "style_assessments",
                 "suggestions", "followups", "quiz_results")


def memory_user(rep_id: int) -> str:
    """The `memory`-channel identity of a seeded rep (engine-alone benchmarks)."""
    return f"r{rep_id}"


def telegram_user(rep_id: int) -> int:
    return TG_USER_BASE + rep_id


@dataclass
class SeedReport:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    load_seconds: float = 0.0  # inserts / COPY
    index_seconds: float = 0.0  # dropping and rebuilding secondary indexes, VACUUM ANALYZE

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds if self.seconds else 0.0


def _stamp(moment: datetime) -> str:
    """SQLAlchemy's SQLite storage format; PostgreSQL reads it as well."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.000000")


class Generator:
    """Deterministic rows for `size` (same seed, same rows)."""

    def __init__(self, size: StoreSize, now: datetime, seed: int = 20261122) -> None:
        self.size = size
        self.now = now.replace(microsecond=0)
        self.rng = random.Random(seed)
        # a year of timestamps, oldest first; slot-major rows pick later ones for later slots
        self.stamps = [_stamp(self.now - timedelta(seconds=int(s)))
                       for s in sorted(range(0, 365 * 86400, 1571), reverse=True)]
        rng = random.Random(seed + 1)
        names: list[str] = []
        for _ in range(4000):
            surname = rng.choice(SURNAMES)
            if rng.random() < 0.4:
                names.append(surname + rng.choice(TITLES))
            else:
                names.append(surname + "".join(rng.choice(GIVEN)
                                               for _ in range(rng.choice((1, 2)))))
        self.names = names
        self.name_keys = {n: name_key(n) for n in names}
        self.hospitals = [c + k for c in CITIES for k in HOSPITAL_KINDS]
        self.rep_hospitals = [[rng.randrange(len(self.hospitals)) for _ in range(5)]
                              for _ in range(size.reps + 1)]
        self.note_texts = [t.format(n=n) for t in NOTE_TEXTS for n in ("李主任", "王医生", "他")]
        # pools of pre-formatted values: formatting a datetime per row would dominate
        self.updated_pool = [_stamp(self._recent(180)) for _ in range(5000)]
        self.evidence_pool = [json.dumps([e], ensure_ascii=False) for e in EVIDENCE]
        self.scores_pool = [json.dumps({s: int(rng.random() * 5) for s in STYLES})
                            for _ in range(64)]
        self.letters_pool = [max(json.loads(s).items(), key=lambda kv: kv[1])[0]
                             for s in self.scores_pool]
        offered = [self._recent(60, not_today=True) for _ in range(5000)]
        self.offered_pool = [(_stamp(o), _stamp(o + timedelta(minutes=2))) for o in offered]
        self.followup_pool = [self._followup_times(future=i % 10 < 3) for i in range(5000)]

    # helpers ------------------------------------------------------------------------------
    def _stamp_at(self, slot: int, slots: int) -> str:
        """A timestamp that grows with `slot` (of `slots`), with a little jitter."""
        last = len(self.stamps) - 1
        base = int(last * slot / max(slots, 1))
        return self.stamps[min(last, base + int(self.rng.random() * 40))]

    def _recent(self, days: float, not_today: bool = False) -> datetime:
        lower = 1.0 if not_today else 0.0
        return self.now - timedelta(days=lower + self.rng.random() * days)

    def _rid(self, slot: int, rep: int) -> int:
        return slot * self.size.reps + rep

    # tables -------------------------------------------------------------------------------
    def tables(self) -> Iterator[tuple[str, Iterator[Row]]]:
        yield "reps", self.reps()
        yield "identities", self.identities()
        yield "accounts", self.accounts()
        yield "notes", self.notes()
        yield "stage_history", self.stage_history()
        yield "style_assessments", self.style_assessments()
        yield "suggestions", self.suggestions()
        yield "followups", self.followups()
        yield "quiz_results", self.quiz_results()
        yield "conversations", self.conversations()
        yield "processed_messages", self.processed_messages()

    def reps(self) -> Iterator[Row]:
        created = _stamp(self.now - timedelta(days=400))
        for rep in range(1, self.size.reps + 1):
            yield (rep, self.rng.choice(self.names), "zh", "rep", f"team{rep % 40}", True,
                   created)

    def identities(self) -> Iterator[Row]:
        created = _stamp(self.now - timedelta(days=400))
        for rep in range(1, self.size.reps + 1):
            yield (2 * rep - 1, rep, "memory", memory_user(rep), created)
            yield (2 * rep, rep, "telegram", str(telegram_user(rep)), created)

    def accounts(self) -> Iterator[Row]:
        slots = self.size.accounts_per_rep
        rnd = self.rng.random
        for slot in range(slots):
            for rep in range(1, self.size.reps + 1):
                name = self.names[int(rnd() * len(self.names))]
                hospital = self.hospitals[self.rep_hospitals[rep][int(rnd() * 5)]]
                department = DEPARTMENTS[int(rnd() * len(DEPARTMENTS))] if rnd() < 0.7 else None
                stage = STAGES[int(rnd() * 5)] if rnd() < 0.8 else None
                style = (STYLES[int(rnd() * 4)] + (STYLES[int(rnd() * 4)] if rnd() < 0.3 else "")
                         if rnd() < 0.6 else None)
                created = self._stamp_at(slot, slots)
                updated = self.updated_pool[int(rnd() * 5000)]
                yield (self._rid(slot, rep), rep, "doctor" if rnd() < 0.9 else "department",
                       name, self.name_keys[name], hospital, department, stage,
                       round(rnd(), 2) if stage else None, style,
                       round(rnd(), 2) if style else None, rnd() < 0.02, None, created, updated)

    def _account_of(self, rep: int) -> int:
        return self._rid(int(self.rng.random() * self.size.accounts_per_rep), rep)

    def notes(self) -> Iterator[Row]:
        slots = self.size.accounts_per_rep * self.size.notes_per_account
        texts = self.note_texts
        rnd = self.rng.random
        for slot in range(slots):
            for rep in range(1, self.size.reps + 1):
                yield (self._rid(slot, rep), rep, self._account_of(rep),
                       texts[int(rnd() * len(texts))], self._stamp_at(slot, slots))

    def stage_history(self) -> Iterator[Row]:
        slots = self.size.accounts_per_rep * self.size.stage_changes_per_account
        rnd = self.rng.random
        for slot in range(slots):
            for rep in range(1, self.size.reps + 1):
                stage = STAGES[int(rnd() * 5)]
                previous = STAGES[int(rnd() * 5)] if rnd() < 0.5 else None
                evidence = self.evidence_pool[int(rnd() * len(EVIDENCE))]
                yield (self._rid(slot, rep), rep, self._account_of(rep), stage, previous,
                       round(rnd(), 2), evidence, 1, self._stamp_at(slot, slots))

    def style_assessments(self) -> Iterator[Row]:
        slots = self.size.style_assessments_per_rep
        rnd = self.rng.random
        for slot in range(slots):
            for rep in range(1, self.size.reps + 1):
                pick = int(rnd() * len(self.scores_pool))
                yield (self._rid(slot, rep), rep, self._account_of(rep), self.scores_pool[pick],
                       self.letters_pool[pick], round(rnd(), 2), self.evidence_pool[0], 1,
                       self._stamp_at(slot, slots))

    def suggestions(self) -> Iterator[Row]:
        slots = self.size.suggestions_per_rep
        rnd = self.rng.random
        for slot in range(slots):
            for rep in range(1, self.size.reps + 1):
                offered, answered = self.offered_pool[int(rnd() * 5000)]
                status = ("accepted", "later", "dismissed", "offered")[int(rnd() * 4)]
                reason = REASONS[int(rnd() * 5)] if status == "dismissed" else None
                yield (self._rid(slot, rep), rep, self._account_of(rep),
                       TACTICS[int(rnd() * len(TACTICS))], status, reason, offered,
                       answered if status != "offered" else None)

    def _followup_times(self, future: bool) -> tuple[bool, str, str, str | None, str]:
        """(future, due date, remind_at, sent_at, created_at) of one follow-up."""
        rnd = self.rng.random
        due = (self.now + timedelta(days=2 + rnd() * 30) if future
               else self._recent(300, not_today=True))
        remind = _stamp(due.replace(hour=1, minute=0, second=0))
        return (future, due.date().isoformat(), remind, None if future else remind,
                _stamp(due - timedelta(days=3)))

    def followups(self) -> Iterator[Row]:
        """Done, sent or dropped in the past, or open in the future: nothing is due, so a
        bot started on this store sends no reminders."""
        slots = self.size.followups_per_rep
        notes_per_rep = self.size.accounts_per_rep * self.size.notes_per_account
        rnd = self.rng.random
        for slot in range(slots):
            for rep in range(1, self.size.reps + 1):
                future, due, remind, sent, created = self.followup_pool[int(rnd() * 5000)]
                status = "open" if future else ("done", "sent", "dropped")[int(rnd() * 3)]
                note_id = self._rid(int(rnd() * notes_per_rep), rep) if notes_per_rep else None
                yield (self._rid(slot, rep), rep, self._account_of(rep), note_id,
                       ACTIONS[int(rnd() * len(ACTIONS))], due, remind, status, sent, created)

    def quiz_results(self) -> Iterator[Row]:
        for rep in range(1, self.size.reps + 1):
            scores = {s: float(int(self.rng.random() * 8)) for s in STYLES}
            dominant = max(scores, key=lambda s: scores[s])
            yield (rep, rep, "quiz", 1, json.dumps(scores), dominant,
                   _stamp(self._recent(200, not_today=True)))

    def conversations(self) -> Iterator[Row]:
        """Every rep is in the middle of the quiz, waiting at question 5."""
        state = json.dumps(quiz_engine_state(), ensure_ascii=False)
        variables = json.dumps({"command_args": ""})  # what /quiz left there
        updated = _stamp(self.now - timedelta(hours=1))
        for rep in range(1, self.size.reps + 1):
            yield (rep, "quiz", QUIZ_STEP, variables, state, QUIZ_SEQ, updated)

    def processed_messages(self) -> Iterator[Row]:
        slots = self.size.processed_messages_per_rep
        for slot in range(slots):
            stamp = self._stamp_at(slot, slots)
            for rep in range(1, self.size.reps + 1):
                yield ("telegram", f"s{rep}.{slot}", rep, stamp)


def quiz_engine_state() -> dict[str, Any]:
    """`conversations.engine` of a rep waiting at QUIZ_STEP, as the engine leaves it after
    /quiz, 开始 and four answers: the running scores and answers, the question on screen
    (its buttons carry QUIZ_SEQ) and the numbered list the rep sees, so a typed "1" or a
    pressed button answers it (the engine state of such a turn, field for field)."""
    quiz = load_library(PLAYBOOKS).playbooks["quiz"]
    answered = [("intro", 0), *((f"q0{n}", n % 4) for n in range(1, 5))]
    scores: dict[str, float] = {}
    for step_id, index in answered:
        step = quiz.step(step_id)
        assert step is not None and step.choices, step_id
        for dimension, points in step.choices[index].scores.items():
            scores[dimension] = scores.get(dimension, 0) + points
    waiting = quiz.step(QUIZ_STEP)
    assert waiting is not None and waiting.ask is not None and waiting.choices
    shown = [ShownChoice(key=encode(ChoiceKey(QUIZ_SEQ, str(i))), label=str(c.label.get("zh")))
             for i, c in enumerate(waiting.choices)]
    return EngineState(prompt=Prompt(text=str(waiting.ask.get("zh")), choices=shown),
                       shown=shown, scores=scores, answers=answered).dump()


def _chunks(rows: Iterator[Row], size: int = _CHUNK) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _secondary_indexes() -> list[Any]:
    return [index for table in Base.metadata.sorted_tables for index in table.indexes]


def seed(url: str, size: StoreSize, *, now: datetime | None = None,
         progress: Callable[[str], None] | None = None) -> SeedReport:
    """Migrate `url` (an empty database) to the current schema, then fill it."""
    started = time.perf_counter()
    upgrade(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        generator = Generator(size, now or datetime.utcnow())
        if engine.dialect.name == "sqlite":
            report = _seed_sqlite(engine, generator, progress)
        else:
            report = _seed_postgres(engine, generator, progress)
    finally:
        engine.dispose()
    report.seconds = time.perf_counter() - started
    return report


def _seed_sqlite(engine: Engine, generator: Generator,
                 progress: Callable[[str], None] | None) -> SeedReport:
    report = SeedReport()
    raw = engine.raw_connection()
    try:
        dbapi: Any = raw.driver_connection
        dbapi.isolation_level = None
        cursor = dbapi.cursor()
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-400000",
                       "temp_store=MEMORY", "locking_mode=EXCLUSIVE", "foreign_keys=OFF"):
            cursor.execute(f"PRAGMA {pragma}")
        indexes = _secondary_indexes()
        started = time.perf_counter()
        cursor.execute("BEGIN")
        for index in indexes:
            cursor.execute(f'DROP INDEX IF EXISTS "{index.name}"')
        for table, rows in generator.tables():
            columns = COLUMNS[table]
            sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
                   f"VALUES ({', '.join('?' * len(columns))})")
            count = 0
            for chunk in _chunks(rows):
                cursor.executemany(sql, chunk)
                count += len(chunk)
            report.rows[table] = count
            if progress:
                progress(f"sqlite {table}: {count} rows")
        report.load_seconds = time.perf_counter() - started
        started = time.perf_counter()
        for index in indexes:
            cursor.execute(str(CreateIndex(index).compile(dialect=engine.dialect)))
        cursor.execute("COMMIT")
        cursor.execute("PRAGMA journal_mode=WAL")  # what the app uses
        report.index_seconds = time.perf_counter() - started
        cursor.close()
    finally:
        raw.close()
    return report


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def _copy_block(rows: Sequence[Row]) -> bytes:
    """Rows in COPY text format. The generator's strings hold no tab, newline or backslash."""
    out = io.StringIO()
    for row in rows:
        out.write("\t".join([_copy_value(v) for v in row]))
        out.write("\n")
    return out.getvalue().encode("utf-8")


def _seed_postgres(engine: Engine, generator: Generator,
                   progress: Callable[[str], None] | None) -> SeedReport:
    report = SeedReport()
    raw = engine.raw_connection()
    try:
        connection: Any = raw.driver_connection
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")  # skip FK triggers
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute("SET synchronous_commit = off")
            indexes = _secondary_indexes()
            started = time.perf_counter()
            for index in indexes:
                cursor.execute(f'DROP INDEX IF EXISTS "{index.name}"')
            for table, rows in generator.tables():
                columns = COLUMNS[table]
                count = 0
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for chunk in _chunks(rows):
                        copy.write(_copy_block(chunk))
                        count += len(chunk)
                report.rows[table] = count
                if progress:
                    progress(f"postgres {table}: {count} rows")
            connection.commit()
            report.load_seconds = time.perf_counter() - started
            started = time.perf_counter()
            for index in indexes:
                cursor.execute(str(CreateIndex(index).compile(dialect=engine.dialect)))
            for table in SERIAL_TABLES:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
                )
            connection.commit()
            connection.autocommit = True
            cursor.execute("VACUUM (ANALYZE)")
            cursor.execute("CHECKPOINT")
            report.index_seconds = time.perf_counter() - started
    finally:
        raw.close()
    return report


def create_postgres_database(server_url: str, name: str) -> str:
    """A new empty database on the server of `server_url`; returns its URL."""
    admin = create_engine(make_url(server_url).set(database="postgres"),
                          isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def sample_account(engine: Engine, rep_id: int, rng: random.Random) -> tuple[str, str]:
    """(name, hospital) of one of the rep's live accounts, for a fuzzy lookup."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT name, hospital FROM accounts WHERE rep_id = :rep AND archived = :no"),
            {"rep": rep_id, "no": False},
        ).all()
    name, hospital = rows[int(rng.random() * len(rows))] if rows else ("李主任", "泰山医院")
    return str(name), str(hospital or "")
