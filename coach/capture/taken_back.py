"""What a correction typed under a proposal takes back of where the customer works and what
role they hold (trial E finding 6): "她不是采购者", "不是药剂科的", "药剂科是要交申请的地方，她是
心内的", "she's not the purchaser". The proposal's department and role hint go, and the
department the correction gives instead ("她是心内的") takes the place of the one denied;
added words alone never leave a denied hint standing."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from coach.capture.lexicon import Lexicon, same_department
from coach.capture.places import find_departments, handed_to

__all__ = ["TakenBack", "taken_back"]

# a negation right before what it denies: "不是|采购者", "并不是药剂科的", "not a |purchaser"
_DENIED_BEFORE = re.compile(r"(?:并不是|也不是|不是|不算|不属于|不在|并非|不管|"
                            r"(?<![A-Za-z])(?:not|isn't|is not|wasn't|doesn't work in|"
                            r"doesn't work at))\s*(?:一个|个|the|a|an|in|from|of)?\s*$",
                            re.IGNORECASE)
# after a department, that it is where something goes: "药剂科是要交申请的地方", "药剂科只是
# 交表的", "pharmacy is where the form goes"
_WHERE_IT_GOES = re.compile(r"^\s*(?:是|只是|那边是|就是)?\s*(?:要|我要|得)?\s*"
                            r"(?:交|送|报|递|提交|拿去|签字|盖章)"
                            r"|^\s*is (?:just )?where", re.IGNORECASE)


@dataclass(frozen=True)
class TakenBack:
    roles: frozenset[str]  # role values denied ("purchaser")
    department: bool  # the proposal's department is denied
    instead: str | None  # the department the correction gives in its place


def _denied_at(text: str, start: int) -> bool:
    return bool(_DENIED_BEFORE.search(text[max(0, start - 16):start]))


def taken_back(lexicon: Lexicon, typed: str, department: str | None,
               roles: Iterable[tuple[str, Iterable[str]]]) -> TakenBack:
    """What `typed` denies of the proposal: of `roles` ((value, the names a rep writes for
    it)), those said not to hold; whether `department` is said not to be theirs or to be
    where something goes; and the department `typed` gives them instead."""
    low = typed.lower()
    denied: set[str] = set()
    for value, names in roles:
        for name in {n.lower() for n in names if n}:
            at = low.find(name)
            while at >= 0:
                if _denied_at(low, at):
                    denied.add(value)
                at = low.find(name, at + 1)
    found = find_departments(lexicon, typed)
    ours = [d for d in found if department and (
        d.value == department or same_department(lexicon, d.value, department))]
    gone = any(_denied_at(low, d.start) or _WHERE_IT_GOES.match(typed[d.end:])
               or handed_to(lexicon, typed, d) for d in ours)
    if gone and department:
        role = lexicon.department_roles.get(department)
        if role is not None:
            denied.add(role)  # its role hint came from that department
    others = [d for d in found if d not in ours and not _denied_at(low, d.start)
              and not handed_to(lexicon, typed, d)]
    # "她不是药剂科的 是肾内的" when the proposal had no department: the one given stands
    said_not = any(_denied_at(low, d.start) for d in found)
    instead = others[0].value if others and (gone or denied or said_not) else None
    return TakenBack(frozenset(denied), gone, instead)
