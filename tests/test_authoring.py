"""A training manager changes a playbook and finds out what broke with `repcoach check` and
`repcoach test` alone: each problem with its file and line, each failed step with the reply
the transcript expected and the one the bot gave. Runs the real command in a process of its
own, on a copy of the shipped playbooks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GREETING = """\
covers: [menu]
script:
  - say: /start
    expect: [想做什么？]
    buttons: [记录拜访]
"""


def repcoach(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The installed `repcoach`, as an author types it, with no config file around."""
    script = Path(sys.executable).with_name("repcoach")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot"]
    return subprocess.run([*command, *args], cwd=workdir, capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An author's folder: a copy of the playbooks and one transcript of their own."""
    shutil.copytree(ROOT / "playbooks", tmp_path / "playbooks")
    (tmp_path / "transcripts").mkdir()
    (tmp_path / "transcripts" / "greeting.yaml").write_text(GREETING, encoding="utf-8")
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def run_changed_transcript(workdir: Path, old: str, new: str) -> subprocess.CompletedProcess[str]:
    """`repcoach test` after the author changed `old` to `new` in their transcript."""
    edit(workdir / "transcripts" / "greeting.yaml", old, new)
    return repcoach(workdir, "test", "transcripts", "--playbooks", "playbooks")


def test_a_transcript_that_holds_passes(workdir: Path) -> None:
    done = repcoach(workdir, "test", "transcripts/greeting.yaml", "--playbooks", "playbooks")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok   transcripts/greeting.yaml (memory)" in done.stdout
    assert "1 passed, 0 failed" in done.stdout
    assert "one-locale" not in done.stdout  # one file is not held to the whole suite


def test_a_changed_reply_shows_the_step_the_expected_and_the_actual_reply(
        workdir: Path) -> None:
    edit(workdir / "playbooks" / "menu.yaml", "想做什么？", "今天要做点什么？")
    done = repcoach(workdir, "test", "transcripts", "--playbooks", "playbooks")
    assert done.returncode == 1
    assert "transcripts/greeting.yaml:3: say: /start" in done.stdout
    assert "expected: '想做什么？' in the reply" in done.stdout
    assert "今天要做点什么？" in done.stdout  # the reply the bot actually gave
    assert "0 passed, 1 failed" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_a_removed_button_is_named_with_the_buttons_offered(workdir: Path) -> None:
    done = run_changed_transcript(workdir, "记录拜访", "写日记")
    assert done.returncode == 1
    assert "expected: a button with '写日记'" in done.stdout
    assert "记录拜访" in done.stdout  # what was offered instead


def test_a_misspelt_transcript_key_is_an_error_with_file_and_line(workdir: Path) -> None:
    done = run_changed_transcript(workdir, "expect:", "expcet:")
    assert done.returncode == 1
    assert ("transcripts/greeting.yaml:4: unknown-key: script #1: unknown key 'expcet' "
            "(did you mean 'expect'?)") in done.stdout


def test_a_broken_playbook_is_named_by_check_and_test(workdir: Path) -> None:
    edit(workdir / "playbooks" / "menu.yaml", "想做什么？", "想做什么？{{ rpe }}")
    checked = repcoach(workdir, "check", "playbooks")
    assert checked.returncode == 1
    line = next(line for line in checked.stdout.splitlines() if "rpe" in line)
    assert line.startswith("playbooks/menu.yaml:")
    tested = repcoach(workdir, "test", "transcripts", "--playbooks", "playbooks")
    assert tested.returncode == 1
    assert line in tested.stdout  # the same file:line list, so nothing runs on a broken set
    assert "cannot test: " in tested.stderr


GREETING_EN = """\
covers: [menu]
script:
  - say: /start
  - say: /lang
  - press: English
  - say: /menu
    expect: [What would you like to do]
    buttons: [Log a visit]
"""


def one_locale(done: subprocess.CompletedProcess[str], playbook: str) -> list[str]:
    """The lines of `repcoach test` saying `playbook` is checked in one language only."""
    return [line for line in done.stdout.splitlines()
            if line.startswith(f"playbooks/{playbook}.yaml:1: one-locale: ")]


def test_a_folder_must_check_every_playbook_in_both_languages(workdir: Path) -> None:
    """A folder of transcripts is the suite: every playbook is checked in Chinese and in
    English, and a gap names the transcripts to translate."""
    done = repcoach(workdir, "test", "transcripts", "--playbooks", "playbooks")
    assert done.returncode == 1
    assert "ok   transcripts/greeting.yaml (memory)" in done.stdout  # it passed, the folder not
    assert one_locale(done, "menu") == [
        "playbooks/menu.yaml:1: one-locale: playbook menu: no transcript in transcripts checks "
        "a reply in English (en); it is checked in Chinese by greeting.yaml"]
    assert one_locale(done, "quiz") == [
        "playbooks/quiz.yaml:1: one-locale: playbook quiz: no transcript in transcripts checks "
        "a reply in Chinese (zh); no transcript covers it at all",
        "playbooks/quiz.yaml:1: one-locale: playbook quiz: no transcript in transcripts checks "
        "a reply in English (en); no transcript covers it at all"]
    assert "Traceback" not in done.stdout + done.stderr


def test_a_transcript_switching_language_counts_where_it_checks_replies(workdir: Path) -> None:
    """/start and /lang in Chinese, every check in English: an English transcript only; with
    the Chinese greeting beside it, the menu is checked in both."""
    (workdir / "transcripts" / "greeting.yaml").rename(workdir / "greeting.yaml")
    (workdir / "transcripts" / "greeting_en.yaml").write_text(GREETING_EN, encoding="utf-8")
    english = repcoach(workdir, "test", "transcripts", "--playbooks", "playbooks")
    assert "ok   transcripts/greeting_en.yaml (memory)" in english.stdout
    assert one_locale(english, "menu") == [
        "playbooks/menu.yaml:1: one-locale: playbook menu: no transcript in transcripts checks "
        "a reply in Chinese (zh); it is checked in English by greeting_en.yaml"]
    (workdir / "greeting.yaml").rename(workdir / "transcripts" / "greeting.yaml")
    both = repcoach(workdir, "test", "transcripts", "--playbooks", "playbooks")
    assert "2 passed, 0 failed" in both.stdout
    assert one_locale(both, "menu") == []
    assert one_locale(both, "quiz") != []  # the other playbooks are still missing


def example(name: str) -> str:
    """A snippet of the worked example in docs/playbooks.md, as an author would copy it."""
    guide = (ROOT / "docs" / "playbooks.md").read_text(encoding="utf-8")
    block = guide.split(f"<!-- example: {name} -->\n```yaml\n", 1)[1]
    return block.split("```\n", 1)[0]


def test_the_worked_example_in_the_guide_works(workdir: Path) -> None:
    """Add the guide's quiz question and tactic, write its transcript, run `repcoach check`
    and `repcoach test`: the new transcript passes, and of the shipped transcripts (run from
    the author's folder, no path given) exactly the 11 the guide names fail."""
    quiz, tactics = workdir / "playbooks" / "quiz.yaml", workdir / "playbooks" / "next.yaml"
    edit(quiz, "  - id: score\n", example("quiz-step") + "  - id: score\n")
    edit(tactics, "  tactics:\n", "  tactics:\n" + example("tactic"))
    (workdir / "transcripts" / "greeting.yaml").unlink()
    (workdir / "transcripts" / "my_change_zh.yaml").write_text(example("transcript"), "utf-8")
    checked = repcoach(workdir, "check", "playbooks")
    assert checked.stdout == "ok: playbooks\n", checked.stdout + checked.stderr
    done = repcoach(workdir, "test", "transcripts/my_change_zh.yaml", "--playbooks", "playbooks")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed, 0 failed" in done.stdout
    # the shipped transcripts, from the author's folder: exactly the ones the guide names fail
    shipped = repcoach(workdir, "test", "--playbooks", "playbooks", "-q")
    assert shipped.returncode == 1
    assert "expected: '🧭 你的思维偏好（满分 18）' in the reply" in shipped.stdout
    assert "19/19 走出科室时，你脑子里想的第一件事是…" in shipped.stdout
    failed = {line.split(":", 1)[0].rsplit("/", 1)[-1].removesuffix(".yaml")
              for line in shipped.stdout.splitlines() if "/transcripts/" in line
              and line.split(":", 1)[0].endswith(".yaml")}
    guide = (ROOT / "docs" / "playbooks.md").read_text(encoding="utf-8")
    named = guide.split("After\nthis example 11 shipped transcripts fail", 1)[1].split("```", 1)[0]
    assert len(failed) == 11 and all(f"`{name}`" in named for name in failed), failed
    # cards_zh and cards_en stop at the quiz, before the card they check: the guide says the
    # cards playbook is then reported as checked in neither language, and nothing else is
    assert "2 transcript problem(s)" in shipped.stdout
    problems = [line for line in shipped.stdout.splitlines() if ": one-locale: " in line]
    assert len(problems) == 2 and all("playbook cards:" in line for line in problems), problems


def test_show_prints_every_step_with_the_bots_reply(workdir: Path) -> None:
    """An author sees a passing conversation, not only failures."""
    done = repcoach(workdir, "test", "transcripts/greeting.yaml", "--playbooks", "playbooks",
                    "--show")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "transcripts/greeting.yaml:3: say: /start" in done.stdout
    assert "想做什么？" in done.stdout and "[buttons: " in done.stdout
    assert "记录拜访" in done.stdout


def test_test_given_the_playbook_folder_tests_those_playbooks(workdir: Path) -> None:
    """`repcoach check playbooks` takes the folder; an author types `repcoach test playbooks`
    the same way (trial C, item 7): the shipped transcripts run against that folder, said so,
    instead of 266 'missing script' lines."""
    edit(workdir / "playbooks" / "help.yaml", "我是 RepCoach：", "我是你的教练 RepCoach：")
    done = repcoach(workdir, "test", "playbooks", "-q")
    assert "playbooks holds playbooks, not transcripts" in done.stdout, done.stdout
    assert "missing key 'script'" not in done.stdout
    assert done.returncode == 1 and "我是你的教练 RepCoach" in done.stdout  # the copy ran

