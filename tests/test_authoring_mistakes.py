"""The mistakes a training manager made trying the authoring kit (issue 17's trial): each
one, made in a copy of the shipped playbooks, is reported by `repcoach check` (here its
function, `check_directory`) at the file and line of the mistake, in words a non-programmer
can act on; and a template mistake only running can reveal costs one tactic, never the rep's
message."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text as text_sql

from coach.engine import Engine
from coach.library import check_directory, load_library
from coach.settings import EngineSettings
from coach.store.database import Database
from coach.testing import MemoryChat
from testkit.clock import Clock
from tests.test_authoring import repcoach

ROOT = Path(__file__).resolve().parent.parent
WHY_ZH = ('        zh: "{{ account.name }}在{{ stage_name }}阶段{% if style_name %}、偏'
          '{{ style_name }}{% endif %}：先把话题放进他的议程')
QUIZ_TOTAL = "🧭 你的思维偏好（满分 18）"


@pytest.fixture
def playbooks(tmp_path: Path) -> Path:
    """The author's copy of the shipped playbooks."""
    shutil.copytree(ROOT / "playbooks", tmp_path / "playbooks")
    return tmp_path / "playbooks"


def edit(file: Path, old: str, new: str) -> int:
    """Change `old` to `new` once in `file`; the line the change is on."""
    text = file.read_text(encoding="utf-8")
    assert old in text, old
    file.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[:text.index(old)].count("\n") + 1


def problems(directory: Path) -> list[str]:
    """What `repcoach check` prints, with the folder's path cut off each line."""
    return [str(issue).replace(str(directory) + "/", "")
            for issue in check_directory(directory)]


def only(directory: Path) -> str:
    found = problems(directory)
    assert len(found) == 1, found
    return found[0]


# -- 1. templates inside `content` and in steps ----------------------------------------------

def test_a_misspelt_name_in_a_tactic_is_found_at_its_line(playbooks: Path) -> None:
    line = edit(playbooks / "next.yaml", WHY_ZH, WHY_ZH.replace("account.name", "acount.name"))
    assert only(playbooks) == (
        f"next.yaml:{line}: unknown-variable: template uses 'acount', which no step saves, "
        "sets or provides (did you mean 'account'?)")


def test_a_misspelt_field_of_the_customer_is_found_with_the_fields_he_has(
        playbooks: Path) -> None:
    line = edit(playbooks / "next.yaml", WHY_ZH, WHY_ZH.replace("account.name", "account.nmae"))
    found = only(playbooks)
    assert found.startswith(f"next.yaml:{line}: unknown-field: template uses account.nmae, "
                            "but account has no 'nmae' (did you mean 'name'?); it has ")
    assert "hospital" in found and "stage_name" in found


def test_broken_template_syntax_in_a_tactic_is_found_at_its_line(playbooks: Path) -> None:
    broken = WHY_ZH.replace("account.name }}", "account.name }")
    line = edit(playbooks / "next.yaml", WHY_ZH, broken)
    found = only(playbooks)
    assert found.startswith(f"next.yaml:{line}: template-syntax: unexpected '}}'"), found


def test_a_field_the_quiz_result_lacks_is_found_on_the_line_of_the_text(
        playbooks: Path) -> None:
    line = edit(playbooks / "quiz.yaml", QUIZ_TOTAL, "🧭 你的思维偏好（满分 {{ quiz.max }}）")
    found = only(playbooks)
    assert found.startswith(f"quiz.yaml:{line}: unknown-field: template uses quiz.max, "
                            "but quiz has no 'max'"), found
    assert "max_score" in found


def test_a_syntax_error_deep_in_a_block_text_names_the_files_line(playbooks: Path) -> None:
    """The quiz result is a `|-` block: the mistake on its 1st line is the file's line, not
    "line 1"."""
    line = edit(playbooks / "quiz.yaml", QUIZ_TOTAL, "🧭 你的思维偏好（满分 {{ quiz.max_score }）")
    assert only(playbooks).startswith(f"quiz.yaml:{line}: template-syntax:")


def test_a_template_in_a_card_is_refused_as_cards_are_shown_as_written(
        playbooks: Path) -> None:
    line = edit(playbooks / "cards.yaml", "text: {zh: 绩效先锋先想清楚",
                'text: {zh: "{{ rep.name }}，绩效先锋先想清楚')
    edit(playbooks / "cards.yaml", "对业绩影响最大的客户身上。,", '对业绩影响最大的客户身上。",')
    assert only(playbooks) == (
        f"cards.yaml:{line}: not-a-template: content.cards is shown as written: '{{{{ … }}}}' "
        "here would reach the rep as typed; write the text without it")


def test_a_tactic_that_does_not_render_is_skipped_and_the_next_one_offered(
        playbooks: Path, database: Database, clock: Clock,
        caplog: pytest.LogCaptureFixture) -> None:
    """`{{ role_names[0] }}` passes check (the list exists) but fails for a customer with no
    role recorded: the rep still gets advice (the next tactic) and nothing is lost."""
    edit(playbooks / "next.yaml", WHY_ZH,
         WHY_ZH.replace("{{ account.name }}", "{{ role_names[0] }}"))
    line = edit(playbooks / "next.yaml", "- id: aw_evidence_hook", "- id: aw_evidence_hook")
    assert problems(playbooks) == []
    chat = MemoryChat(Engine(database, load_library(playbooks), EngineSettings(), clock=clock))
    chat.say("/start")
    chat.press("下一步建议")
    chat.say("周主任 中山医院")
    with caplog.at_level(logging.ERROR):
        text = MemoryChat.text(chat.press("新建"))
    assert "💡 给周主任的下一步" in text and "约一次 10 分钟的正式拜访" in text, text
    assert "系统暂时出了点问题" not in text
    assert any(f"next.yaml:{line}: tactic 'aw_evidence_hook' skipped" in r.getMessage()
               for r in caplog.records), [r.getMessage() for r in caplog.records]


def test_a_misspelt_name_in_a_coaching_point_is_found_at_its_line(playbooks: Path) -> None:
    """Trial C, item 2: it passed `check` and broke the manager's /coaching at run time."""
    line = edit(playbooks / "coaching.yaml", "请{{ rep_name }}先做", "请{{ rep_nmae }}先做")
    assert only(playbooks) == (
        f"coaching.yaml:{line}: unknown-variable: template uses 'rep_nmae', which no step "
        "saves, sets or provides (did you mean 'rep_name'?)")


def test_a_misspelt_filter_is_named_with_the_one_meant_not_a_traceback(
        playbooks: Path) -> None:
    """Trial D, item 9: `| uper` crashed `repcoach check` with a Python traceback."""
    line = edit(playbooks / "coaching.yaml", "的风格（{{ rep_style_name }}）",
                "的风格（{{ rep_style_name | uper }}）")
    found = only(playbooks)
    assert found.startswith(f"coaching.yaml:{line}: template-syntax: No filter named 'uper'. "
                            "(did you mean 'upper'?)"), found


def test_a_text_that_breaks_only_when_shown_says_so_and_not_try_again(
        playbooks: Path, database: Database, clock: Clock) -> None:
    """A step text that passes check but cannot render for this rep (an index past the end
    of a list) is the author's mistake: the rep is not told to send again in a minute, but
    to tell whoever runs the bot; an adverse event in that message is said not to be kept."""
    edit(playbooks / "help.yaml", "我是 RepCoach：", "我是 RepCoach{{ rep.name.split()[5] }}：")
    assert problems(playbooks) == []
    chat = MemoryChat(Engine(database, load_library(playbooks), EngineSettings(), clock=clock))
    chat.say("/start")
    text = MemoryChat.text(chat.say("/help"))
    assert "教练内容有配置错误" in text and "请告诉管理员" in text, text
    assert "请过一分钟再发一次" not in text
    assert "教练内容有配置错误" in MemoryChat.text(chat.say("/help"))  # a retry cannot help


def test_an_adverse_event_in_a_message_that_breaks_on_a_playbook_is_kept_alone(
        playbooks: Path, database: Database, clock: Clock) -> None:
    """The turn is rolled back, the report the door stored with it too: the report alone is
    stored again in a transaction of its own, once however often the rep resends, and the
    reply says it is kept and by when to forward it (coach/turn/failed_report.py)."""
    edit(playbooks / "log.yaml", "        📝 这样记下？",
         "        📝 这样记下{{ rep.name.split()[5] }}？")
    assert problems(playbooks) == []
    chat = MemoryChat(Engine(database, load_library(playbooks), EngineSettings(), clock=clock))
    chat.say("/start")
    note = "泰山医院李主任说有个病人用了我们的药后起了皮疹，已经停药"
    text = MemoryChat.text(chat.say(note))
    assert "教练内容有配置错误" in text and "报告已单独保存" in text, text
    assert "还没有记录下来" not in text and "先用别的功能。\n🚨" in text
    again = MemoryChat.text(chat.say(note))
    assert "报告已单独保存" in again
    with database.transaction() as session:
        kept = session.execute(text_sql(
            "SELECT account_id, status, source, report FROM adverse_events")).all()
    assert len(kept) == 1, kept
    assert kept[0][:3] == (None, "open", "kept alone: the message's turn failed")
    assert "皮疹" in kept[0][3]
    assert "皮疹" in MemoryChat.text(chat.say("/today"))  # where the reply says it is


# -- 2. keys and values of tactics and cards -------------------------------------------------

TACTIC = "    - id: aw_evidence_hook\n      stage: awareness\n"
CARD_TITLE = "      title: {zh: 选对客户, en: \"Choose the right customers\"}"


def test_a_misspelt_tactic_key_is_named_with_the_key_it_meant(playbooks: Path) -> None:
    first = edit(playbooks / "next.yaml", TACTIC, TACTIC.replace("stage:", "stgae:"))
    assert problems(playbooks) == [
        f"next.yaml:{first}: missing-key: tactic aw_evidence_hook: missing key 'stage'",
        f"next.yaml:{first + 1}: unknown-key: tactic aw_evidence_hook: unknown key 'stgae' "
        "(did you mean 'stage'?); known keys: id, stage, text, why, styles, needs, roles, "
        "reason, unless_known, when_known, more_use",
    ]


def test_an_extra_misspelt_key_is_not_ignored(playbooks: Path) -> None:
    first = edit(playbooks / "next.yaml", TACTIC, TACTIC + "      style: [C]\n")
    assert only(playbooks).startswith(
        f"next.yaml:{first + 2}: unknown-key: tactic aw_evidence_hook: unknown key 'style' "
        "(did you mean 'styles'?)")


@pytest.mark.parametrize(("line", "expected"), [
    ("      styles: [E]\n", "styles: 'E' is not allowed; allowed: A, B, C, D"),
    ("      needs: [academc]\n", "needs: 'academc' is not allowed (did you mean 'academic'?); "
                                 "allowed: academic, interest, emotional"),
])
def test_an_unknown_value_lists_the_allowed_ones(playbooks: Path, line: str,
                                                 expected: str) -> None:
    text = (playbooks / "next.yaml").read_text(encoding="utf-8")
    first = edit(playbooks / "next.yaml", TACTIC + "      styles: [A]\n      needs: [academic]\n",
                 TACTIC + line)
    assert "      styles: [A]\n" in text
    assert only(playbooks) == f"next.yaml:{first + 2}: bad-tactic: {expected}"


ACCESS_VARIANT = ("      when_known:  # the 药事会 date is in the notes: work back from it, "
                  "don't ask it again\n        formulary_date:\n")


@pytest.mark.parametrize(("old", "new", "expected"), [
    (ACCESS_VARIANT, ACCESS_VARIANT.replace("formulary_date", "formulary_day"),
     "when_known: 'formulary_day' is not allowed (did you mean 'formulary_date'?); "
     "allowed: formulary_date, listed"),
    (ACCESS_VARIANT + "          text:", ACCESS_VARIANT + "          txet:",
     "when_known.formulary_date is a variant with text (and why), nothing else"),
])
def test_a_mistaken_when_known_variant_is_named(playbooks: Path, old: str, new: str,
                                                expected: str) -> None:
    """The access answer said once the 药事会 date is known: a fact the engine does not know,
    or a variant without its text, fails check instead of a rep's tip."""
    edit(playbooks / "next.yaml", old, new)
    assert expected in only(playbooks), only(playbooks)


def test_a_misspelt_card_key_is_named(playbooks: Path) -> None:
    line = edit(playbooks / "cards.yaml", CARD_TITLE, CARD_TITLE.replace("title:", "titel:"))
    assert (f"cards.yaml:{line}: unknown-key: card right_customers: unknown key 'titel' "
            "(did you mean 'title'?)") in "\n".join(problems(playbooks))
    assert f"cards.yaml:{line - 2}: missing-key: card right_customers: missing key 'title'" \
        in problems(playbooks)


def test_duplicate_card_and_tactic_ids_name_both_lines(playbooks: Path) -> None:
    card = edit(playbooks / "cards.yaml", "- id: right_customers", "- id: right_customers")
    again = edit(playbooks / "cards.yaml", "- id: stage_first", "- id: right_customers")
    tactic = edit(playbooks / "next.yaml", "- id: aw_evidence_hook", "- id: aw_evidence_hook")
    twice = edit(playbooks / "next.yaml", "- id: aw_short_agenda", "- id: aw_evidence_hook")
    assert problems(playbooks) == [
        f"cards.yaml:{again}: duplicate-card: card id 'right_customers' is used twice "
        f"(first at line {card})",
        f"next.yaml:{twice}: duplicate-tactic: tactic id 'aw_evidence_hook' is used twice "
        f"(first at line {tactic})",
    ]


# -- 3. Chinese punctuation, and no cascade from a file that did not load --------------------

CHECK_AGAIN = ("not-checked: this file could not be read, so other files' references to its "
               "playbook (steps going to it, its commands in the menu) were not checked; fix "
               "it and run check again")
COLON = "chinese-colon: '：' is a Chinese colon; type ':' (and a space after it)"


@pytest.mark.parametrize(("file", "old", "new"), [
    ("next.yaml", WHY_ZH.replace("        zh:", "      why:\n        zh:"),
     WHY_ZH.replace("        zh:", "      why：\n        zh:")),
    ("quiz.yaml", "  - id: q18", "  - id：q18"),
    ("cards.yaml", "title: {zh: 选对客户", "title: {zh：选对客户"),
])
def test_a_chinese_colon_is_named_at_its_line_without_cascades(
        playbooks: Path, file: str, old: str, new: str) -> None:
    line = edit(playbooks / file, old, new)
    assert problems(playbooks) == [f"{file}:1: {CHECK_AGAIN}", f"{file}:{line}: {COLON}"]


def test_a_full_width_space_in_the_indentation_is_named(playbooks: Path) -> None:
    line = edit(playbooks / "quiz.yaml", "  - id: q18", "\u3000- id: q18")
    assert problems(playbooks)[-1] == (
        f"quiz.yaml:{line}: chinese-space: '\u3000' is a Chinese (full-width) space; type an "
        "ordinary space")


# -- 5. pydantic's words turned into an author's ---------------------------------------------

def test_a_misspelt_step_key_says_which_key_was_meant_counting_from_one(
        playbooks: Path) -> None:
    line = edit(playbooks / "quiz.yaml", "    choices:\n", "    choises:\n")
    found = problems(playbooks)
    assert f"quiz.yaml:{line}: unknown-key: steps #1: unknown key 'choises' (did you mean " \
           "'choices'?)" in found, found
    assert not any("Extra inputs" in p or "goes to playbook 'quiz'" in p for p in found)


def test_a_wrong_language_key_names_the_right_one(playbooks: Path) -> None:
    line = edit(playbooks / "cards.yaml", "title: {zh: 选对客户", "title: {cn: 选对客户")
    assert only(playbooks) == (
        f"cards.yaml:{line}: missing-locale: content > cards #1 > title: has ['en'] but no "
        "['zh'] text; 'cn' is not a language: use 'zh'")


# -- 4. schema lines in an author's copy ------------------------------------------------------

def test_copied_playbooks_keep_their_schema_line_and_schema_points_them_home(
        playbooks: Path) -> None:
    installed = {f.name: f.read_bytes() for f in (ROOT / "coach" / "schemas").iterdir()}
    checked = repcoach(playbooks.parent, "schema", "--check", "playbooks")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no '# yaml-language-server" not in checked.stdout

    done = repcoach(playbooks.parent, "schema", "playbooks")
    assert done.returncode == 0, done.stderr
    first = (playbooks / "quiz.yaml").read_text(encoding="utf-8").split("\n", 1)[0]
    target = Path(first.removeprefix("# yaml-language-server: $schema="))
    assert target.is_absolute() and target.is_file() and target.name == "playbook.schema.json"
    assert "wrote" not in done.stdout  # the installed schemas are left alone
    assert {f.name: f.read_bytes() for f in (ROOT / "coach" / "schemas").iterdir()} == installed
    assert repcoach(playbooks.parent, "schema", "--check", "playbooks").returncode == 0


def test_schema_help_says_what_it_does_to_an_authors_folder(tmp_path: Path) -> None:
    shown = repcoach(tmp_path, "schema", "--help").stdout
    assert "absolute path" in " ".join(shown.split())
    assert "installed package is not changed" in " ".join(shown.split())


def test_a_misspelt_step_or_playbook_name_says_which_was_meant(playbooks: Path) -> None:
    line = edit(playbooks / "menu.yaml", 'next: "@next"', 'next: "@nxet"')
    assert only(playbooks) == (
        f"menu.yaml:{line}: unknown-playbook: step 'pick' goes to playbook 'nxet', which does "
        "not exist (did you mean 'next'?)")


# -- 1b. fields read through a loop variable or deep in a document (trial D 9) ----------------

OBJECTION_ZH = ("        ⚠️ 顾虑：{{ o.name }}{% if o.phrase != o.name %}（「{{ o.phrase }}」）"
                "{% endif %}")
REPORT_TITLE_ZH = "      <h1>代表辅导报告：{{ report.rep | e }}</h1>"
DUE_ZH = "{{ proposal.due.month }}月{{ proposal.due.day }}日"


def test_a_misspelt_field_of_a_loop_variable_is_found_with_a_guess(playbooks: Path) -> None:
    """`{% for o in proposal.objections %}{{ o.nmae }}`: passed check, then lost the rep's
    note at run time."""
    line = edit(playbooks / "log.yaml", OBJECTION_ZH,
                OBJECTION_ZH.replace("o.name", "o.nmae", 1))
    found = only(playbooks)
    assert found.startswith(
        f"log.yaml:{line}: unknown-field: template uses proposal.objections[].nmae, but "
        "proposal.objections[] has no 'nmae' (did you mean 'name'?); it has "), found
    assert "phrase" in found


def test_a_misspelt_field_in_the_coaching_document_is_found_with_a_guess(
        playbooks: Path) -> None:
    """`report.rpe` in the HTML: passed check, then /coaching said the content was broken."""
    line = edit(playbooks / "coaching.yaml", REPORT_TITLE_ZH,
                REPORT_TITLE_ZH.replace("report.rep ", "report.rpe "))
    found = only(playbooks)
    assert found.startswith(
        f"coaching.yaml:{line}: unknown-field: template uses report.rpe, but report has no "
        "'rpe' (did you mean 'rep'?); it has "), found


def test_a_misspelt_field_two_levels_down_is_found(playbooks: Path) -> None:
    line = edit(playbooks / "log.yaml", DUE_ZH, DUE_ZH.replace("due.month", "due.mnth"))
    assert only(playbooks).startswith(
        f"log.yaml:{line}: unknown-field: template uses proposal.due.mnth, but proposal.due "
        "has no 'mnth' (did you mean 'month'?)")


def test_a_loop_letter_walks_the_list_of_its_own_loop(playbooks: Path) -> None:
    """`o` over the objections, then `o` over the others: each read against its own list
    (`o.hospital` is a person's, not an objection's), so the shipped texts pass, and
    a field neither has is still found."""
    assert problems(playbooks) == []
    text = (playbooks / "log.yaml").read_text(encoding="utf-8")
    others = "{% for o in proposal.others %}"
    assert others in text
    start = text.index(others)
    after = text.index("o.hospital", start)
    (playbooks / "log.yaml").write_text(
        text[:after] + "o.hospitl" + text[after + len("o.hospital"):], encoding="utf-8")
    line = text[:after].count("\n") + 1
    assert only(playbooks).startswith(
        f"log.yaml:{line}: unknown-field: template uses proposal.others[].hospitl, but "
        "proposal.others[] has no 'hospitl' (did you mean 'hospital'?)")
