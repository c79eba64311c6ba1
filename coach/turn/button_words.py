"""The product's own button words ("撤销", "完成", "保存", "跳过", "Done"), to tell a label
typed where its button is not on screen from a visit note (trial G finding 7).

A rep who types "撤销" after the undo button is gone, or "完成" at no question, means the
button: reading it as a visit note ("📝 见了谁？") puts a note one tap from being saved that
says nothing. The words are the static labels of every playbook's buttons and the engine's
own `*_label` messages, with the words typed to answer a button (system.yaml
`labels.controls`: 确定, 结束), kept to short ones (a control word, not a sentence), less any
questionnaire answer (a choice with a value or scores: "有顾虑" may be a note), any shared
name of a stage, style, role or concern, and anything the note reader reads a customer,
date or step from: those stay notes.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

from coach.capture import read_note
from coach.playbook import Text
from coach.turn.inputs import plain_label

if TYPE_CHECKING:
    from coach.library import Library

__all__ = ["button_words"]

MAX_ZH_CHARS = 4  # 撤销, 完成, 回主菜单: a control word, not a note
MAX_EN_WORDS = 3  # "Done", "Next card", "Drop it"
_READ_ON = date(2026, 1, 5)  # any day: only whether the reader finds something matters


@lru_cache(maxsize=4)  # per library: a reload of the playbooks makes a new one
def button_words(library: Library) -> frozenset[str]:
    """The plain forms (inputs.plain_label) of the product's short static button labels."""
    labels: list[Text] = [
        choice.label for playbook in library.playbooks.values() for step in playbook.steps
        for choice in step.choices or () if not choice.scores and choice.value is None]
    labels += [text for key, text in library.catalog.messages.items() if key.endswith("_label")]
    shared = library.catalog.labels
    labels += shared.controls.values()  # "确定", "结束": no button's label, a button's answer
    names = {plain_label(text.get(locale))
             for group, texts in shared.model_dump().items() if group != "controls"
             for raw in texts.values() for text in [Text(**raw)] for locale in ("zh", "en")}
    words: set[str] = set()
    for label in labels:
        for locale in ("zh", "en"):
            shown = label.get(locale)
            word = plain_label(shown)
            if not word or "{" in shown or word in names:
                continue
            short = (len(word) <= MAX_ZH_CHARS if locale == "zh"
                     else len(shown.split()) <= MAX_EN_WORDS)
            if short and not read_note(library.lexicon, shown, _READ_ON).found_anything:
                words.add(word)
    return frozenset(words)
