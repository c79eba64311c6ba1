"""Recall and precision of the compliance guard, per category, on a labelled corpus.

tests/data/compliance_corpus.yaml holds realistic visit notes (about three quarters Chinese),
most without any issue, each labelled with the categories it must raise and, for personal
data, the kinds it must redact. Run with `-s` or look at the table printed during the run.

The corpus was written together with the rules, so its scores are optimistic. Three batches were
written after the rules were frozen and measured before any change; first-run results:

    recall/precision   personal_data  adverse_event  kickback   gift       off_label  统方
    held-out 1 (54)    1.00/1.00      0.50/0.83      0.40/1.00  0.00/-     0.00/-     0.86/0.75
    held-out 2 (48)    1.00/1.00      0.50/1.00      1.00/0.67  0.33/1.00  0.00/0.00  0.67/1.00
    held-out 3 (40)    1.00/1.00      0.33/0.75      0.50/1.00  0.00/-     0.33/1.00  0.67/1.00

Every miss was then fixed by a general rule (synonyms, a structural adverse-event rule: drug
exposure, then "出现/起/有点/一直…", whatever the symptom is called) and the batch joined the
corpus. The lesson: personal data (formats and checksums) holds up on new text; adverse events,
gifts and off-label talk are open-ended language, and first-contact recall on new wording was
0.33-0.50 for adverse events. Expect that, not the table, on real notes.

Issue 13 added three fresh corpora, each written by a different hand without reading the
rules: compliance_fresh_dev.yaml (758 notes, the rules were tuned on it), then
compliance_fresh_holdout.yaml (387) and compliance_fresh_third.yaml (330), measured first
and only then used to generalise the rules. First contact (recall; AE counts questions):

    set                 PD     AE     kickback  gift   off-label  统方   clean w/ notice
    hold-out, before    .50    .16    .47       .46    .14        .45    10 %
    hold-out, after dev .94    .69    .56       .46    .34        .68    10 %
    third, after dev    .93    .80    .63       .20    .27        .90    10 %

`test_fresh_corpora` prints every set now and holds the dev set to the issue's targets
(AE and personal data recall >= 0.98, the rest >= 0.95, clean notes with a notice <= 5 %);
the other two are held at what they reached, so that a change cannot quietly lose them.
A question to the rep ("is this an adverse event?") counts as catching the event, and as a
notice on a clean note.

compliance_fresh_fg.yaml (45 notes, 16 clean) holds the trial misses: symptoms said in passing
and played down ("头有点晕但是量血压正常，她觉得问题不大"), meals and gifts beside a promise of
more prescriptions, and their near misses (a competitor's patient, an academic-meeting dinner,
a promise with no benefit). Recall/precision on the rules before and after the fix:

    compliance_fresh_fg  adverse_event  kickback   gift       clean w/ notice
    before               .67/.77        .07/1.00   .75/1.00   3/16
    after                1.00/1.00      1.00/1.00  1.00/1.00  0/16

Then compliance_fresh_fg_holdout.yaml (16 notes, 5 clean), written after that fix, measured
first: adverse events .50, kickback .20, gift .67 recall (precision 1.00, 0/5 clean noticed):
word lists again. The fix was structural: a patient passing on a sensation (说/觉得/反映 …
闷, 胀, 晕, 睡不 …) with the product nearby (a question with only a patient), and wider
promise wording (量会上来, 用…多一些, favour our drug, more often); after it every set above
holds (held-out 3's adverse events went from .950 to .975), the main corpus and the
everyday-notes count (19/807) did not move.

New-rep trial B (findings 1, 4, 9-11) brought two sets written before any change:
trial3_guard_ae.yaml (43 events said loosely: labs "白细胞掉得厉害", "肝功指标有点高", vital
signs "心率很慢", a longer stay "住院时间延长了一周", quality "药片有裂纹/受潮", overdose "一次
吃了十几片", an event after "没啥副作用 就是…"; 42 clean: ours has fewer side effects, a
competitor's patient, label questions, worries, cases already forwarded, the doctor's own
illness) and trial3_guard_privacy.yaml (bed and room numbers; 统方 as a ranking against a named
doctor, "比隔壁王主任多"). Measured on main, then after the fix
(`.venv/bin/pytest -q tests/test_compliance_corpus.py -s`):

    set                     AE recall     clean w/ notice  special kind  PD recall  统方 recall
    trial3_guard_ae before  17/43 (.40)   7/42 (16.7 %)    3/11          -          -
    trial3_guard_ae after   43/43         0/42             11/11         -          -
    trial3_privacy before   -             0/10             -             6/10       1/6
    trial3_privacy after    -             0/10             -             10/10      6/6

The fix was structural, not a word list: results and vital signs "moving the harmful way"
(a measured thing, then 掉/高了/慢/往上/下不来), a stay made longer, a symptom split by its
duration (拉了两天肚子), a negation that stops at 就是/只有, a competitor named loosely
(X公司, 别家) unless ours is the drug taken, a case already forwarded to PV talked about again,
a comparison (比竞品少) as an opinion. Then trial3_guard_holdout.yaml (20 events, 20 clean, the
same categories in other words), written after that fix and measured first: AE recall 14/20
(main: 10/20), clean notes with a notice 2/20 (main: 5/20): 肌酐又上去了, 出院推迟了, 住回来了,
颜色不一样, 心里发慌 来急诊了, "比他以前用的那个少很多", a competitor's crumbling tablets. The
fix generalised the same rules (labs whose rise is harm said as "went up again", a discharge put
off or a patient back in, colour not uniform, a longer comparison, competitor on English quality
complaints); after it 20/20 and 0/20. Every set above held, but for one deliberate change: a
bed number is redacted however the sentence goes on, so the dev set's list of ward sizes
("一共三个病区 A区32床 B区28床") is now redacted too (its clean notes with a notice 3 -> 4 of
176): a missed bed number after "一共两个病人在用，" would cost more (rules.yaml,
patient_bed_of_zh). Otherwise every set held (the main corpus's one competitor
event is relabelled clean, as the fresh sets' policy and domain.md have it); everyday notes
with a notice went from 19/807 to 18/807.

Verification trial D (findings 1, 2, 7, 10) brought three sets written before any change and
measured first on main (`.venv/bin/python -m tests.support.guard_measure --rules MAIN_RULES
tests/data/trial4_guard_*.yaml`, MAIN_RULES from `git show main:playbooks/compliance/rules.yaml`):
trial4_guard_ae.yaml (vital signs and labs as bare numbers after our drug, "心跳一直130多",
"K+ 6.2", "血压180/110"; normal values and values before treatment; the rep's own "是我搞错了",
"my bad", which is no medication error, beside a nurse's "搞错了剂量", which is one),
trial4_guard_names.yaml (patient names after 叫/名叫 or a space after 阿姨/老爷子, beside
doctors and nurses named there) and trial4_guard_rx.yaml (one doctor's boxes, "Rx ~40 boxes";
patients started on the product, "started 2 pts on it", "给3个病人用上了", which are not 统方):

    set                 recall        false alarms  clean notes with a notice
    trial4_ae before    6/12          5             5/11
    trial4_ae after     12/12         0             0/11
    (+8 added after)    13/13         0             0/18   (main: 7/13, 9 false alarms, 9/18)
    trial4_names before 4/10 (names 3/10)  0        0/8
    trial4_names after  10/10 (names 10/10) 0       0/8
    trial4_rx before    6/7           4             4/8
    trial4_rx after     7/7           0             0/8

Structural fixes: a number outside the range nobody remarks on, after each vital or lab name
(rules.yaml vital_number), unless said as the value before treatment (before_exposure); the
rep's own slip (我写错了) suppressed on the medication-error rule; a name standing after a word
for a patient (patient_person_named_zh) unless a title follows it; "started"/用上 no longer
count patients as prescriptions, while a Chinese-named doctor with an English count (王主任这个
月 Rx ~40 boxes) and a request to count a doctor's patients (帮我数一下…给几个病人) are 统方.
A report taken back by its event word (抽筋那条是我写错了, 那个皮疹的病人是我搞错了) starts no
new report (retracted_mention), nor does the first value of an improvement (血压从180/110降到
130/80, improving_after): eight notes added to trial4_guard_ae.yaml after the first fix.
Every earlier set held; one more adverse event caught in a fresh set (体温还是39度).

Trial D's false alarms on values that improved ("BP 190/100 down to 140/85", "血小板从40升到
120") brought trial5_guard_values.yaml, written before any change: 26 values that moved back
towards the usual range after our drug, 26 that worsened or ended outside it (血小板从120掉到
40, 心率80降到45, 血压从120/80降到85/50, K+ 6.2, ALT升到200, "plt 160->35"):

    set                      recall      false alarms  clean notes with a notice
    trial5_values before     21/26       16            16/26
    trial5_values after      26/26       0             0/26
    (+2 added after)         28/28       0             0/26   (main: 21/28, 16, 16/26)
    (+4 English, after)      30/30       0             0/28   (main: 23/30, 18, 18/28)
    (+2 episodes, after)     32/32       0             0/28   (main: 25/32, 18, 18/28)

Structural fix: when a value moved, the value it moved TO decides, whichever way (vn_lead in
vital_number reads the earlier value and the move; improving_after lets the earlier value go
when a move and a number follow). A lab moving in words (升到, 只有, up, dropped) is judged by
the number when one follows (lab_move_word_zh/en), for every lab whose harmful range is known
(ranges added for WBC, neutrophils, bilirubin, BUN, CK, amylase/lipase, Na, GGT); an arrow
(->, =>) is a move, not a threshold (criterion); a value that stays "around" a harmful figure
(心率一直45左右) is no threshold; an English vital sign moving "down to"/"up to" a number is
judged by that number too (ae_vitals_en); a value the note says it moved TO stays an event
when it later came back (心率蹿到150 后来降到80: improving_after unless, scope match). Every
earlier set held.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from coach.compliance import CATEGORIES, Guard, load_guard

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CORPUS = DATA / "compliance_corpus.yaml"
PRODUCTS = DATA / "compliance_products.yaml"
SPECIALS = {"pregnancy", "breastfeeding", "overdose", "misuse", "medication_error",
            "lack_of_effect", "off_label_use", "quality_complaint", "infection_transmission"}
RULES = ROOT / "playbooks" / "compliance" / "rules.yaml"

#: (minimum recall, minimum precision) per category.
FLOORS: dict[str, tuple[float, float]] = {
    "personal_data": (0.95, 0.95),
    "adverse_event": (0.95, 0.90),
    "kickback": (0.90, 0.90),
    "gift": (0.90, 0.90),
    "off_label": (0.85, 0.90),
    "prescription_count": (0.90, 0.90),
}


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Report:
    scores: dict[str, Score] = field(default_factory=lambda: {c: Score() for c in CATEGORIES})
    kinds: dict[str, Score] = field(default_factory=dict)
    misses: list[str] = field(default_factory=list)
    notes: int = 0
    chinese: int = 0


def load_corpus() -> list[dict[str, Any]]:
    items = yaml.safe_load(CORPUS.read_text(encoding="utf-8"))
    assert isinstance(items, list)
    return items


def is_chinese(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def tally(scores: dict[str, Score], expected: set[str], found: set[str], text: str,
          misses: list[str]) -> None:
    """Count one note into the per-category scores; a miss either way is listed."""
    for category in CATEGORIES:
        score = scores[category]
        if category in expected and category in found:
            score.tp += 1
        elif category in found:
            score.fp += 1
            misses.append(f"FP {category}: {text}")
        elif category in expected:
            score.fn += 1
            misses.append(f"FN {category}: {text}")


def evaluate(guard: Guard, items: list[dict[str, Any]]) -> Report:
    report = Report()
    for item in items:
        text: str = item["text"]
        expected = set(item.get("expect") or [])
        expected_kinds = set(item.get("kinds") or [])
        result = guard.check(text)
        found = set(result.categories)
        found_kinds = {r.kind for r in result.redactions if r.category == "personal_data"}
        report.notes += 1
        report.chinese += is_chinese(text)
        tally(report.scores, expected, found, text, report.misses)
        for kind in expected_kinds | found_kinds:
            score = report.kinds.setdefault(kind, Score())
            if kind in expected_kinds and kind in found_kinds:
                score.tp += 1
            elif kind in found_kinds:
                score.fp += 1
                report.misses.append(f"FP kind {kind}: {text}")
            else:
                score.fn += 1
                report.misses.append(f"FN kind {kind}: {text}")
    return report


def table(report: Report) -> Iterator[str]:
    yield (f"compliance corpus: {report.notes} notes, {report.chinese} Chinese "
           f"({report.chinese / report.notes:.0%})")
    yield f"{'category':<20} {'TP':>4} {'FP':>4} {'FN':>4} {'precision':>10} {'recall':>7}"
    rows = [(c, report.scores[c]) for c in CATEGORIES]
    rows += [(f"  kind {k}", s) for k, s in sorted(report.kinds.items())]
    for name, s in rows:
        yield f"{name:<20} {s.tp:>4} {s.fp:>4} {s.fn:>4} {s.precision:>10.3f} {s.recall:>7.3f}"
    for miss in report.misses:
        yield f"  {miss}"


@pytest.fixture(scope="module")
def guard() -> Guard:
    return load_guard(RULES)


def test_corpus_is_well_formed() -> None:
    items = load_corpus()
    assert len(items) >= 200
    texts = [item["text"] for item in items]
    assert len(set(texts)) == len(texts), "duplicate notes"
    chinese = sum(is_chinese(t) for t in texts) / len(texts)
    assert 0.6 <= chinese <= 0.8
    clean = sum(not item.get("expect") for item in items) / len(items)
    assert clean >= 0.4, "most notes should have no issue"
    several = sum(len(item.get("expect") or []) >= 2 for item in items)
    assert several >= 10
    known_kinds = set(load_guard(RULES).placeholders) - {"prescription_count"}
    for item in items:
        assert set(item) <= {"text", "expect", "kinds", "why"}, item
        assert set(item.get("expect") or []) <= set(CATEGORIES), item
        assert set(item.get("kinds") or []) <= known_kinds, item
        assert bool(item.get("kinds")) == ("personal_data" in (item.get("expect") or [])), item


def test_recall_and_precision_per_category(guard: Guard,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    report = evaluate(guard, load_corpus())
    with capsys.disabled():
        print()
        for line in table(report):
            print(line)
    failures = []
    for category, (min_recall, min_precision) in FLOORS.items():
        score = report.scores[category]
        if score.recall < min_recall or score.precision < min_precision:
            failures.append(f"{category}: recall {score.recall:.3f} (>= {min_recall}), "
                            f"precision {score.precision:.3f} (>= {min_precision})")
    for kind, score in report.kinds.items():
        if score.recall < 0.9 or score.precision < 0.9:
            failures.append(f"kind {kind}: recall {score.recall:.3f}, "
                            f"precision {score.precision:.3f}")
    assert not failures, "\n".join([*failures, *report.misses])


# --- the fresh corpora (issue 13) ---------------------------------------------------------

#: Minimum recall per category, and the most clean notes with a notice, per fresh corpus.
FRESH_FLOORS: dict[str, tuple[dict[str, float], float]] = {
    "compliance_fresh_dev.yaml": ({"personal_data": 0.98, "adverse_event": 0.98,
                                   "kickback": 0.95, "gift": 0.95, "off_label": 0.95,
                                   "prescription_count": 0.95}, 0.05),
    "compliance_fresh_holdout.yaml": ({"personal_data": 0.98, "adverse_event": 0.95,
                                       "kickback": 0.95, "gift": 0.80, "off_label": 0.63,
                                       "prescription_count": 0.95}, 0.05),
    "compliance_fresh_third.yaml": ({"personal_data": 0.98, "adverse_event": 0.93,
                                     "kickback": 0.95, "gift": 0.95, "off_label": 0.63,
                                     "prescription_count": 0.95}, 0.05),
    # casual adverse events and meals/gifts near a promise of prescriptions (trial misses)
    "compliance_fresh_fg.yaml": ({"adverse_event": 1.0, "kickback": 1.0, "gift": 1.0}, 0.0),
    "compliance_fresh_fg_holdout.yaml": ({"adverse_event": 1.0, "kickback": 1.0, "gift": 1.0},
                                         0.0),
    # new-rep trial B: events said loosely and their near misses; beds, rooms and rankings
    "trial3_guard_ae.yaml": ({"adverse_event": 1.0, "personal_data": 1.0}, 0.0),
    "trial3_guard_privacy.yaml": ({"personal_data": 1.0, "prescription_count": 1.0}, 0.0),
    "trial3_guard_holdout.yaml": ({"adverse_event": 1.0}, 0.0),
    # trial D: bare vital/lab numbers and the rep's own slip; names after 叫/姓X的; patients
    # started on the product (not 统方) against one doctor's boxes
    "trial4_guard_ae.yaml": ({"adverse_event": 1.0}, 0.0),
    "trial4_guard_names.yaml": ({"personal_data": 1.0}, 0.0),
    "trial4_guard_rx.yaml": ({"prescription_count": 1.0}, 0.0),
    # trial D: values that improved on our drug (no event) against values that worsened
    "trial5_guard_values.yaml": ({"adverse_event": 1.0}, 0.0),
    # trial F: Hb in g/dL and eGFR falling (0/6 caught before, 6/6 after); the anaemia
    # named as the indication with Hb rising is no longer noticed (anaemia_treated)
    "trial6_guard_labs.yaml": ({"adverse_event": 1.0}, 0.0),
    # trial F: anaemia as the indication, worries on a drug just started (担心肌酶升高), and
    # the events that look like them (recall 11/16 and 6/25 clean notes noticed before)
    "trial7_guard_fp.yaml": ({"adverse_event": 1.0}, 0.0),
}


@dataclass
class Fresh:
    scores: dict[str, Score] = field(default_factory=lambda: {c: Score() for c in CATEGORIES})
    specials: dict[str, list[int]] = field(default_factory=dict)  # special -> [caught, all]
    clean: int = 0
    clean_noticed: int = 0
    asked: int = 0
    misses: list[str] = field(default_factory=list)


def measure_fresh(guard: Guard, items: list[dict[str, Any]]) -> Fresh:
    fresh = Fresh()
    for item in items:
        expected = set(item.get("expect") or [])
        result = guard.check(item["text"])
        found = set(result.categories)
        if result.possible_event is not None:  # the rep is asked: caught, and a notice
            found.add("adverse_event")
            fresh.asked += 1
        if not expected:
            fresh.clean += 1
            fresh.clean_noticed += bool(found)
        tally(fresh.scores, expected, found, item["text"], fresh.misses)
        if item.get("special"):
            counts = fresh.specials.setdefault(item["special"], [0, 0])
            counts[0] += "adverse_event" in found
            counts[1] += 1
    return fresh


def fresh_table(name: str, fresh: Fresh) -> Iterator[str]:
    yield f"{name}: {sum(fresh.scores[c].tp + fresh.scores[c].fn for c in CATEGORIES)} " \
          f"expected findings, {fresh.clean} clean notes, {fresh.asked} questions asked"
    yield f"  {'category':<20} {'TP':>4} {'FP':>4} {'FN':>4} {'recall':>7} {'precision':>10}"
    for category in CATEGORIES:
        s = fresh.scores[category]
        yield (f"  {category:<20} {s.tp:>4} {s.fp:>4} {s.fn:>4} {s.recall:>7.3f} "
               f"{s.precision:>10.3f}")
    yield "  special situations caught: " + ", ".join(
        f"{k} {v[0]}/{v[1]}" for k, v in sorted(fresh.specials.items()))
    yield f"  clean notes with a notice: {fresh.clean_noticed}/{fresh.clean} " \
          f"({fresh.clean_noticed / max(fresh.clean, 1):.1%})"


def test_fresh_corpora_are_well_formed() -> None:
    known_kinds = set(load_guard(RULES).placeholders) - {"prescription_count"}
    dev = yaml.safe_load((DATA / "compliance_fresh_dev.yaml").read_text(encoding="utf-8"))
    counts = {c: sum(c in (i.get("expect") or []) for i in dev) for c in CATEGORIES}
    # the composition: 150 AE, 150 personal data, 60 each of the rest, 150 clean
    assert counts["adverse_event"] >= 150 and counts["personal_data"] >= 150
    assert min(counts["kickback"], counts["prescription_count"], counts["off_label"]) >= 60
    assert sum(not i.get("expect") for i in dev) >= 150
    assert {i["special"] for i in dev if i.get("special")} == SPECIALS
    for name in FRESH_FLOORS:
        items = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
        texts = [i["text"] for i in items]
        assert len(set(texts)) == len(texts), name
        for item in items:
            assert set(item) <= {"text", "expect", "kinds", "special", "why"}, item
            assert set(item.get("expect") or []) <= set(CATEGORIES), item
            assert set(item.get("kinds") or []) <= known_kinds, item
            assert bool(item.get("kinds")) == ("personal_data" in (item.get("expect") or []))
            assert not item.get("special") or (
                item["special"] in SPECIALS and "adverse_event" in item["expect"]), item


def test_fresh_corpora(capsys: pytest.CaptureFixture[str]) -> None:
    portfolios = yaml.safe_load(PRODUCTS.read_text(encoding="utf-8")) or {}
    failures: list[str] = []
    for name, (floors, most_noticed) in FRESH_FLOORS.items():
        items = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
        # each set's fictional portfolio, as a deployment lists its own in products.yaml
        guard = load_guard(RULES, portfolios.get(name, []))
        fresh = measure_fresh(guard, items)
        with capsys.disabled():
            print()
            for line in fresh_table(name, fresh):
                print(line)
        for category, floor in floors.items():
            if fresh.scores[category].recall < floor:
                failures.append(f"{name} {category}: recall "
                                f"{fresh.scores[category].recall:.3f} < {floor}")
        if fresh.clean_noticed > most_noticed * fresh.clean:
            failures.append(f"{name}: {fresh.clean_noticed} of {fresh.clean} clean notes "
                            f"got a notice (> {most_noticed:.0%})")
        if failures:
            failures += fresh.misses
    assert not failures, "\n".join(failures)


def test_special_situations_are_filed_as_such() -> None:
    """A special situation is filed as its kind, for the safety team's triage: "一次吃了十几片
    我们的药，洗胃了" is an overdose, named by the sentence that says so, not by 「洗胃了」."""
    portfolios = yaml.safe_load(PRODUCTS.read_text(encoding="utf-8")) or {}
    wrong = []
    for name in ("trial3_guard_ae.yaml", "trial4_guard_ae.yaml"):
        guard = load_guard(RULES, portfolios.get(name, []))
        for item in yaml.safe_load((DATA / name).read_text(encoding="utf-8")):
            if item.get("special"):
                found = guard.check(item["text"]).adverse_event
                if found is None or found.kind != item["special"]:
                    wrong.append(f"{item['special']}: {found and found.kind}: {item['text']}")
    assert wrong == []
    note = "急诊科说有个老人一次吃了十几片我们的药，洗胃了"
    event = load_guard(RULES).check(note).adverse_event
    assert event is not None and event.phrases == (note,)


#: The capture sets (tests/data/capture_*.yaml) are ordinary visit notes, written for the
#: note reader; a dozen of them really report an adverse event. Notices beyond that are
#: false alarms on everyday notes, which is what makes reps stop reading them.
MOST_CAPTURE_NOTICES = 25


def test_everyday_notes_rarely_get_a_notice(capsys: pytest.CaptureFixture[str]) -> None:
    guard = load_guard(RULES)
    noticed, total = [], 0
    for path in sorted(DATA.glob("capture_*.yaml")):
        for note in yaml.safe_load(path.read_text(encoding="utf-8"))["notes"]:
            total += 1
            result = guard.check(note["text"])
            found = set(result.categories) - {"personal_data"}
            if result.possible_event is not None:
                found.add("question")
            if found:
                noticed.append(f"  {sorted(found)} {note['text']}")
    with capsys.disabled():
        print(f"\neveryday notes (capture sets) with a compliance notice: {len(noticed)}/{total}")
    assert len(noticed) <= MOST_CAPTURE_NOTICES, "\n".join(noticed)
