"""Every reply of every transcript reads as words a rep would write: no stray space beside
Chinese punctuation ("邮箱， 以及", "试用 。"), no Python data ("['张主任:decision_maker']",
"{'a': 1}", "None", "True"). Runs each script in tests/transcripts (the zh and the en ones)
on the engine alone, and reads every reply, its buttons and any HTML document it carries."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from coach.library import Library
from coach.messages import Reply
from testkit.channel_drivers import MemoryDriver
from testkit.transcripts import Script
from tests.conftest import Clock
from tests.test_transcripts import SCRIPTS, load

CJK_PUNCTUATION = "，。、；：！？）」』】》（「『【《"
STRAY_SPACE = re.compile(rf"[ \t\u3000]+[{CJK_PUNCTUATION[:11]}]|[{CJK_PUNCTUATION}][ \t\u3000]+")
REPR = re.compile(r"\[\s*'|'\s*\]|\{\s*'|'\s*:\s*'|\(\s*'")
WORDS = re.compile(r"(?<![A-Za-z_])(None|True|False)(?![A-Za-z_])")
CJK = re.compile(r"[\u4e00-\u9fff]")
TAG = re.compile(r"<[^>]+>")
STYLE = re.compile(r"<style>.*?</style>", re.S)  # the page's CSS and font: not read


def problems_in(text: str) -> list[str]:
    """What is wrong with one reply's text, each with the place it was found."""
    found = []
    for pattern, what in ((STRAY_SPACE, "stray space"), (REPR, "Python repr")):
        found += [f"{what} at {text[max(m.start() - 12, 0):m.end() + 12]!r}"
                  for m in pattern.finditer(text)]
    if CJK.search(text):  # "None" in an English sentence may be a word; in Chinese never
        found += [f"Python value {m.group(1)!r} at {text[max(m.start() - 12, 0):m.end() + 12]!r}"
                  for m in WORDS.finditer(text)]
    return found


def readable(reply: Reply) -> list[str]:
    """The texts a rep reads in a reply: the message, its buttons, an HTML document's words."""
    texts = [reply.text, *(c.label for c in reply.choices)]
    attachment = reply.attachment
    if attachment is not None and attachment.mime_type == "text/html":
        page = STYLE.sub("", attachment.data.decode("utf-8"))
        texts += [html.unescape(line) for line in TAG.sub("\n", page).splitlines()
                  if line.strip()]
    return texts


def test_the_scanner_finds_what_it_looks_for() -> None:
    assert problems_in("邮箱， 以及电话") and problems_in("试用 。")
    assert problems_in("阶段（ 试用）")
    assert problems_in("决策链 ['张主任:decision_maker']") and problems_in("分级：None → A")
    assert problems_in("{'A': 1}") and problems_in("已更新：True")
    assert not problems_in("📝 这样记下？\n👤 李主任 · 泰山医院（新客户）")
    assert not problems_in("None of your customers is due today.")
    assert not problems_in("李主任说：\"先试试\"，下周三 10:00 再去")


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
async def test_every_reply_reads_as_words(path: Path, db_url: str, library: Library,
                                          clock: Clock) -> None:
    transcript = load(path)
    driver = MemoryDriver()
    script = Script(db_url, library, transcript.settings, clock, driver, path.name)
    await driver.start(script.engine)
    try:
        await script.run(transcript.script)
    finally:
        script.database.dispose()
    assert driver.chat is not None
    bad = [f"{path.name}: {problem}\n  in reply: {reply.text!r}"
           for reply in driver.chat.transcript
           for text in readable(reply) for problem in problems_in(text)]
    assert bad == [], "\n".join(bad)
