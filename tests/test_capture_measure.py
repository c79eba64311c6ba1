"""How well the note reader reads real-looking notes: precision and recall per field on a
labelled set, printed on every `make test`, with floors the issue set.

tests/data/capture_notes.yaml: 251 post-visit notes (80 % Chinese, typed as on a phone:
typos, abbreviations, dates in many forms) written for this measure by someone who did not
see the reader, with the rep's 26 existing customers; the reader's rules were tuned on it.
tests/data/capture_holdout.yaml: 175 notes in five writing styles, written later by another
hand who saw neither the reader nor the first set. Its first-contact scores (before any rule
was changed for it) were:

    customer P 0.853 R 0.795   hospital 0.983/0.869   department 0.939/0.925
    date 0.894/0.894           action 0.706/0.643     8 notes filed under another customer

Every miss was then fixed by a general rule (people named but not met: 没见着, 秘书说,
本来约好见, on leave; pinyin titles; names standing alone in fragment notes; "today" as the
visit's day; hospitals written in English), and the set joined the measure.

tests/data/capture_final.yaml: 201 notes written last, by a third hand, for other regions,
therapy areas and typing habits (voice input, terse fragments). First contact, after the two
rounds above:

    customer P 0.926 R 0.953   hospital 0.985/0.776   department 0.970/0.921
    date 0.951/0.963           action 0.865/0.776     9 notes filed under another customer

The same kind of miss again: absence said in more ways (罗医生今天不在, 黄主任的研究生小叶,
本来约的是…陈主任, out of office) and city hospitals written short (市人民, 市一, 中肿). Fixed
by widening those rules; a note about someone not met now offers that person instead of
assuming them. As with the compliance corpus, expect first-contact figures, not the ones
this test prints, on wording no one has seen.

tests/data/capture_fresh.yaml: 180 notes by a fourth hand, for yet other provinces (江西,
广西, 贵州, 新疆, 东北, 山西) and therapy areas (风湿免疫, 眼科, 皮肤科, 血液, 精神科, 疼痛, 妇产),
written after a new-rep trial. First contact:

    customer P 0.943 R 0.926   hospital 0.955/0.743   department 0.957/0.743
    date 0.926/0.926           action 0.810/0.734     3 notes filed under another customer

Mostly words the lists lacked (风免, 省医, 贵医附院, 附一, "GXMU 1st", ophtho, OB/GYN, names
with no listed family name such as 阿不都热依木主任) and three rules: of two people met, the
one who asked something of the rep, else the new contact, is the customer (the other is
offered with one tap); a date someone else comes back on (下周四回来) or moved from
(从周四改到…) is no follow-up; the rep's own clause ("I need to… tmr") wins over his.

Floors: customer and date >= 0.95, hospital and department >= 0.90 (precision and recall),
and not one note filed under another existing customer without asking.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coach.capture import load_lexicon
from coach.capture.evaluation import Evaluation, evaluate, load_set

ROOT = Path(__file__).resolve().parent.parent
SETS = sorted((ROOT / "tests" / "data").glob("capture_*.yaml"))
FLOORS = {"customer": 0.95, "date": 0.95, "hospital": 0.90, "department": 0.90}


def measure(path: Path) -> Evaluation:
    lexicon, problems = load_lexicon(ROOT / "playbooks" / "capture" / "lexicon.yaml")
    assert lexicon is not None, problems
    return evaluate(lexicon, load_set(path))


@pytest.mark.parametrize("path", SETS, ids=[p.stem for p in SETS])
def test_note_capture_meets_its_floors(path: Path) -> None:
    result = measure(path)
    print(f"\n{path.name}\n{result.table()}")
    assert result.notes >= 150
    for name, floor in FLOORS.items():
        score = result.fields[name]
        misses = "\n".join(score.misses[:15])
        assert score.precision >= floor and score.recall >= floor, (
            f"{name}: precision {score.precision:.3f}, recall {score.recall:.3f} "
            f"(floor {floor})\n{misses}")
    assert result.misfiled == [], "\n".join(result.misfiled)


def test_the_measure_notices_a_wrong_reading(tmp_path: Path) -> None:
    """A label the reader gets wrong lowers its field's score: the measure can fail."""
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        "today: 2026-12-10\naccounts:\n  - {id: a1, name: 李主任, hospital: 泰山医院, "
        "department: 心内科}\nnotes:\n"
        "  - {text: 泰山医院心内科李主任说下周三再去, customer: 王主任, hospital: 泰山医院, "
        "department: 心内科, date: 2026-12-16, action: 再去, match: a1}\n",
        encoding="utf-8")
    result = measure(wrong)
    assert result.fields["customer"].correct == 0
    assert result.fields["date"].correct == result.fields["hospital"].correct == 1
    assert result.sure_right == 1
