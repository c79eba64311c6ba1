"""The note reader's word lists (`playbooks/capture/lexicon.yaml`), validated and compiled.

Authors extend them without code: a title, a hospital short form, a department alias. Shape
problems are reported like every playbook problem, `file:line: code: message`, all at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coach.issues import Issue, line_of
from coach.loader import read_positioned

__all__ = ["LEXICON_FILE", "Lexicon", "kind_of", "load_lexicon", "rank_of", "same_department",
           "title_in"]

LEXICON_FILE = Path("capture") / "lexicon.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TitleSpec(_Strict):
    title: str
    kind: str
    rank: str | None = None  # defaults to the title itself
    role: str | None = None
    # a short form said only right after a family name ("张科" for 张科长, "王处" for 王处长):
    # never a title on its own, nor at the end of other words (药剂科, 何处)
    short: bool = False


class PatientWords(_Strict):
    before: list[str]
    after: list[str]
    given: list[str]


class HospitalWords(_Strict):
    suffixes: list[str]
    not_names: list[str]
    not_in_names: str
    short_forms: list[str]
    stop_before: list[str]
    latin_suffixes: list[str]
    latin_forms: list[str] = Field(default_factory=list)
    known: list[str]
    # cities and provinces that make a known name another hospital: 福建协和 is not 北京协和
    places: list[str] = Field(default_factory=list)
    # what may follow a known name and still be its hospital: 湘雅二院, 中山一院
    ordinal_tail: str = ""


class DepartmentWords(_Strict):
    names: list[str]
    aliases: dict[str, str]
    aliases_at_boundary: dict[str, str]
    # words that make such a short form an ordinary word: 没精神, 很疼痛, 有肿瘤
    not_after: list[str] = Field(default_factory=list)
    latin: dict[str, str]
    not_departments: list[str]
    # words a department's first character may be the tail of ("另外科里的彭医生" is 另外 +
    # 科里, not 外科): a department starting inside one is none
    not_inside: list[str] = Field(default_factory=list)
    roles: dict[str, str] = Field(default_factory=dict)
    same: list[list[str]] = Field(default_factory=list)
    # a department right after one of these is where something is handed ("交药剂科",
    # "提交到药学部", "submit it to pharmacy"), or one of `handed_to_after` follows it
    # ("找医务科签字"): a destination, not the customer's department or role
    handed_to_before: list[str] = Field(default_factory=list)
    handed_to_after: list[str] = Field(default_factory=list)
    handed_to_verbs: list[str] = Field(default_factory=list)


class FollowupWords(_Strict):
    action_cues: list[str]
    undated: list[str]
    past_after: list[str]
    past_before: list[str]
    action_fillers: list[str]
    # a step that says only that the rep goes again ("再去", "come back"): moving an open
    # follow-up with one of these keeps what that follow-up was for
    only_again: list[str] = Field(default_factory=list)
    # lab values and vital signs ("K+ 6.2", "血钾6.2", "Hb 9.5", "体温38.5"): a number
    # right after one of these is a value, never the day of a follow-up
    measured: list[str] = Field(default_factory=list)


class ContactWords(_Strict):
    """A note about a message or a call from (or to) the customer, not a visit: "王主任发消息
    说…", "电话里说…", "Dr Li texted me"."""

    message: list[str] = Field(default_factory=list)
    call: list[str] = Field(default_factory=list)
    # words for the channel alone (电话, 短信, 微信): a contact only when they come before
    # what the customer said ("王主任刚打电话 说…", "微信回我了 说…"), not in it ("说会打电话
    # 给药剂科"), and not as a step still to take ("记得回他个电话")
    lead_message: list[str] = Field(default_factory=list)
    lead_call: list[str] = Field(default_factory=list)
    said: list[str] = Field(default_factory=list)
    not_yet: list[str] = Field(default_factory=list)


class CorrectionWords(_Strict):
    """Words of a correction typed at a proposal ("不对，是下周二", "是王主任", "不用提醒")."""

    words: list[str] = Field(default_factory=list)
    no_date: list[str] = Field(default_factory=list)
    # a clause that says what it is not ("不是李主任") is dropped before reading the rest
    not_this: list[str] = Field(default_factory=list)
    # what starts a text that adds to the visit proposed, not a visit of its own ("补充一下，
    # 他嫌贵", "不对，她已经想试用了", "forgot to say: …"); a pronoun for the customer too
    adds: list[str] = Field(default_factory=list)
    pronouns: list[str] = Field(default_factory=list)
    # right after a visit was saved: words saying its date was wrong ("日期记错了 约的是周三")
    # or its customer was ("记错人了 不是王主任 是刘医生"), and the words pointing at it
    # ("刚才那条"), which say nothing more
    date_wrong: list[str] = Field(default_factory=list)
    person_wrong: list[str] = Field(default_factory=list)
    that_one: list[str] = Field(default_factory=list)
    # in an addition, the words that make its step the rep's own ("让我", "约了", "我下周",
    # "I'll"), and those that make it someone else's doing ("她说下个月要去北京开会": her
    # plan, information, not the rep's next step)
    own_step: list[str] = Field(default_factory=list)
    others_doing: list[str] = Field(default_factory=list)
    # moving or cancelling a named customer's open follow-up ("王主任那个跟进改到下周二",
    # "取消张主任下周三的拜访"); `move_said`: someone said it, so it is a note
    move_verbs: list[str] = Field(default_factory=list)
    cancel_words: list[str] = Field(default_factory=list)
    followup_refs: list[str] = Field(default_factory=list)
    move_said: list[str] = Field(default_factory=list)
    move_not: list[str] = Field(default_factory=list)


class LexiconSpec(_Strict):
    surnames: str
    compound_surnames: list[str]
    titles: list[TitleSpec]
    latin_titles: dict[str, str | None]
    pinyin_titles: dict[str, str]
    surname_pinyin: dict[str, str]
    typos: dict[str, str]
    not_in_given_names: str
    unlisted_names_may_hold: str = ""
    never_family_names: str = ""
    met_before: list[str]
    met_mainly: list[str]
    met_with: list[str]
    talked_after: list[str]
    away_after: list[str]
    away_in_clause: list[str]
    someone_of: list[str]
    not_met_before: list[str]
    meant_in_clause: list[str]
    # "第一次见": whoever this is, the rep had not met them before
    first_meeting: list[str] = Field(default_factory=list)
    # someone else there too: "另外肿瘤科陈主任也在", "Dr Xu was there as well"
    present_after: list[str] = Field(default_factory=list)
    # someone other than the customer, with no name to log a visit for, passing something
    # on ("旁边护士长林姐说", "科里一个护士说", "their pharmacist mentioned"): regexes whose
    # group `who` is the person as written (coach/capture/tellers.py)
    told_by: list[str] = Field(default_factory=list)
    # a second person met: "and also Dr Gao", "顺便还见了…" (见了 is in met_before)
    also_before: list[str] = Field(default_factory=list)
    # two people named together, then these: both were met ("王主任+刘医生一起见的",
    # "吴主任跟石医生都在", "Dr Xie and Dr Bai together")
    together_after: list[str] = Field(default_factory=list)
    # what joins two names written together ("王主任+刘医生", "胡主任、蒋科长", "A and B")
    joined_by: list[str] = Field(default_factory=list)
    full_name_before: list[str]
    full_name_after: list[str]
    not_after_name: list[str]
    before_name: list[str]
    patients: PatientWords
    hospitals: HospitalWords
    departments: DepartmentWords
    followups: FollowupWords
    corrections: CorrectionWords = Field(default_factory=CorrectionWords)
    contact: ContactWords = Field(default_factory=ContactWords)


def _longest_first(words: list[str]) -> tuple[str, ...]:
    """Longest first; words of one length keep the file's order (results must not depend
    on hash order: 医院 is listed before 社区, so 阳光社区医院 is a 医院)."""
    return tuple(sorted(dict.fromkeys(w for w in words if w), key=len, reverse=True))


@dataclass(frozen=True)
class Lexicon:
    """Compiled word lists; see `coach.capture.reader` for how they are used."""

    surnames: frozenset[str]
    surname_rank: dict[str, int]  # 0 is the most common family name
    compound_surnames: tuple[str, ...]
    titles: tuple[str, ...]  # longest first
    short_titles: tuple[str, ...]  # 科 of 张科: only right after a family name
    title_roles: dict[str, str]
    title_kinds: dict[str, str]
    title_ranks: dict[str, str]
    latin_titles: tuple[str, ...]
    pinyin_titles: dict[str, str]
    surname_pinyin: dict[str, str]
    typos: dict[str, str]
    not_given: frozenset[str]
    unlisted_allowed: frozenset[str]
    never_family: frozenset[str]
    met_before: tuple[str, ...]
    met_mainly: tuple[str, ...]
    met_with: tuple[str, ...]
    talked_after: tuple[str, ...]
    away_after: tuple[str, ...]
    away_in_clause: tuple[str, ...]
    someone_of: tuple[str, ...]
    not_met_before: tuple[str, ...]
    meant_in_clause: tuple[str, ...]
    first_meeting: tuple[str, ...]
    present_after: tuple[str, ...]
    told_by: tuple[re.Pattern[str], ...]
    also_before: tuple[str, ...]
    together_after: tuple[str, ...]
    joined_by: tuple[str, ...]
    full_name_before: tuple[str, ...]
    full_name_after: tuple[str, ...]
    not_after_name: tuple[str, ...]
    before_name: tuple[str, ...]
    patient_before: tuple[str, ...]
    patient_after: tuple[str, ...]
    patient_given: frozenset[str]
    hospital_suffixes: tuple[str, ...]
    hospital_not_names: frozenset[str]
    hospital_not_in_names: frozenset[str]
    hospital_short: tuple[re.Pattern[str], ...]
    hospital_stop: tuple[str, ...]
    hospital_latin_suffixes: tuple[str, ...]
    hospital_latin_forms: tuple[re.Pattern[str], ...]
    known_hospitals: tuple[str, ...]
    hospital_places: tuple[str, ...]
    hospital_ordinal_tail: re.Pattern[str] | None
    departments: tuple[str, ...]
    department_aliases: dict[str, str]
    department_aliases_at_boundary: dict[str, str]
    department_not_after: tuple[str, ...]
    department_latin: dict[str, str]
    not_departments: tuple[str, ...]
    department_not_inside: tuple[str, ...]
    department_roles: dict[str, str]
    department_groups: dict[str, int]
    department_handed_to_before: tuple[str, ...]
    department_handed_to_after: tuple[str, ...]
    department_handed_to_verbs: tuple[str, ...]
    action_cues: tuple[str, ...]
    undated: tuple[str, ...]
    past_after: tuple[str, ...]
    past_before: tuple[str, ...]
    action_fillers: tuple[str, ...]
    only_again: frozenset[str]
    measured: re.Pattern[str]  # a lab or vital name, ending where a value is written
    correction_words: tuple[str, ...]
    correction_no_date: tuple[str, ...]
    correction_not_this: tuple[str, ...]
    addition_starts: tuple[str, ...]  # adds and pronouns, longest first
    date_wrong: tuple[str, ...]  # "日期记错了": the saved visit's date is corrected
    person_wrong: tuple[str, ...]  # "记错人了": the saved visit's customer is corrected
    that_one: tuple[str, ...]  # "刚才那条": pointing at the saved visit
    own_step: tuple[str, ...]  # "让我", "约了", "I'll": an addition's step is the rep's
    others_doing: tuple[str, ...]  # "她说", "科里", "she's": someone else's plan
    move_verbs: tuple[str, ...]  # "改到", "推迟": a customer's follow-up moves
    cancel_words: tuple[str, ...]  # "取消": it is cancelled
    followup_refs: tuple[str, ...]  # "跟进", "那个拜访", "follow-up": the follow-up named
    move_said: tuple[str, ...]  # "说": someone said it, a note
    move_not: tuple[str, ...]  # "今天", "见了": before the move word, a visit is told
    only_again_words: tuple[str, ...]  # only_again, longest first
    contact_words: tuple[tuple[str, str], ...]  # (word, "message" | "call"), longest first
    contact_lead: tuple[tuple[str, str], ...]  # the channel alone, before what was said
    contact_said: tuple[str, ...]  # where what the customer said starts (说, 问, ：)
    contact_not_yet: tuple[str, ...]  # a call or message still to make (记得, 回头)

    @classmethod
    def of(cls, spec: LexiconSpec) -> Lexicon:
        ordered = [ch for ch in spec.surnames if not ch.isspace()]
        surnames = frozenset(ordered)
        return cls(
            surnames=surnames,
            surname_rank={ch: index for index, ch in reversed(list(enumerate(ordered)))}
            | {c: 100 for c in spec.compound_surnames},
            compound_surnames=_longest_first(spec.compound_surnames),
            titles=_longest_first([t.title for t in spec.titles if not t.short]),
            short_titles=_longest_first([t.title for t in spec.titles if t.short]),
            title_roles={t.title: t.role for t in spec.titles if t.role},
            title_kinds={**{t.title: t.kind for t in spec.titles},
                         **{latin.lower(): t.kind for latin, rank in
                            [*spec.latin_titles.items(), *spec.pinyin_titles.items()]
                            if rank for t in spec.titles if t.title == rank}},
            title_ranks={**{t.title: t.rank or t.title for t in spec.titles},
                         **{latin.lower(): rank for latin, rank in spec.latin_titles.items()
                            if rank},
                         **{p.lower(): rank for p, rank in spec.pinyin_titles.items()}},
            latin_titles=_longest_first([t.lower() for t in spec.latin_titles]),
            pinyin_titles={k.lower(): v for k, v in spec.pinyin_titles.items()},
            surname_pinyin=dict(spec.surname_pinyin),
            typos=dict(spec.typos),
            not_given=frozenset(ch for ch in spec.not_in_given_names if not ch.isspace()),
            unlisted_allowed=frozenset(spec.unlisted_names_may_hold.strip()),
            never_family=frozenset(ch for ch in spec.never_family_names if not ch.isspace()),
            met_before=_longest_first([w.lower() for w in spec.met_before]),
            met_mainly=_longest_first([w.lower() for w in spec.met_mainly]),
            met_with=_longest_first([w.lower() for w in spec.met_with]),
            talked_after=tuple(w.lower() for w in spec.talked_after),
            away_after=_longest_first(spec.away_after),
            away_in_clause=_longest_first([w.lower() for w in spec.away_in_clause]),
            someone_of=_longest_first([w.lower() for w in spec.someone_of]),
            not_met_before=_longest_first(spec.not_met_before),
            meant_in_clause=tuple(spec.meant_in_clause),
            first_meeting=tuple(w.lower() for w in spec.first_meeting),
            present_after=_longest_first([w.lower() for w in spec.present_after]),
            told_by=tuple(re.compile(p, re.IGNORECASE) for p in spec.told_by),
            also_before=_longest_first([w.lower() for w in spec.also_before]),
            together_after=_longest_first([w.lower() for w in spec.together_after]),
            joined_by=_longest_first([w.lower() for w in spec.joined_by]),
            full_name_before=_longest_first(spec.full_name_before),
            full_name_after=_longest_first(spec.full_name_after),
            not_after_name=_longest_first(spec.not_after_name),
            before_name=_longest_first(spec.before_name),
            patient_before=_longest_first([w.lower() for w in spec.patients.before]),
            patient_after=_longest_first(spec.patients.after),
            patient_given=frozenset(spec.patients.given),
            hospital_suffixes=_longest_first(spec.hospitals.suffixes),
            hospital_not_names=frozenset(spec.hospitals.not_names),
            hospital_not_in_names=frozenset(
                ch for ch in spec.hospitals.not_in_names if not ch.isspace()),
            hospital_short=tuple(re.compile(p) for p in spec.hospitals.short_forms),
            hospital_stop=_longest_first(spec.hospitals.stop_before),
            hospital_latin_suffixes=_longest_first(spec.hospitals.latin_suffixes),
            hospital_latin_forms=tuple(re.compile(p) for p in spec.hospitals.latin_forms),
            known_hospitals=_longest_first(spec.hospitals.known),
            hospital_places=_longest_first(spec.hospitals.places),
            hospital_ordinal_tail=(re.compile(spec.hospitals.ordinal_tail)
                                   if spec.hospitals.ordinal_tail else None),
            departments=_longest_first(spec.departments.names),
            department_aliases=dict(spec.departments.aliases),
            department_aliases_at_boundary=dict(spec.departments.aliases_at_boundary),
            department_not_after=_longest_first(spec.departments.not_after),
            department_latin={k.lower(): v for k, v in spec.departments.latin.items()},
            not_departments=_longest_first(spec.departments.not_departments),
            department_not_inside=_longest_first(spec.departments.not_inside),
            department_roles=dict(spec.departments.roles),
            department_groups={name.lower(): index for index, group in
                               enumerate(spec.departments.same) for name in group},
            department_handed_to_before=_longest_first(
                [w.lower() for w in spec.departments.handed_to_before]),
            department_handed_to_after=_longest_first(
                [w.lower() for w in spec.departments.handed_to_after]),
            department_handed_to_verbs=_longest_first(
                [w.lower() for w in spec.departments.handed_to_verbs]),
            action_cues=_longest_first([w.lower() for w in spec.followups.action_cues]),
            undated=_longest_first([w.lower() for w in spec.followups.undated]),
            past_after=_longest_first(spec.followups.past_after),
            past_before=_longest_first(spec.followups.past_before),
            action_fillers=_longest_first([w.lower() for w in spec.followups.action_fillers]),
            only_again=frozenset(w.lower() for w in spec.followups.only_again),
            measured=_measured(spec.followups.measured),
            correction_words=_longest_first([w.lower() for w in spec.corrections.words]),
            correction_no_date=tuple(w.lower() for w in spec.corrections.no_date),
            correction_not_this=_longest_first([w.lower() for w in spec.corrections.not_this]),
            addition_starts=_longest_first([w.lower() for w in
                                            [*spec.corrections.adds, *spec.corrections.pronouns]]),
            date_wrong=_longest_first([w.lower() for w in spec.corrections.date_wrong]),
            person_wrong=_longest_first([w.lower() for w in spec.corrections.person_wrong]),
            that_one=_longest_first([w.lower() for w in spec.corrections.that_one]),
            own_step=_longest_first([w.lower() for w in spec.corrections.own_step]),
            others_doing=_longest_first([w.lower() for w in spec.corrections.others_doing]),
            move_verbs=_longest_first([w.lower() for w in spec.corrections.move_verbs]),
            cancel_words=_longest_first([w.lower() for w in spec.corrections.cancel_words]),
            followup_refs=_longest_first([w.lower() for w in spec.corrections.followup_refs]),
            move_said=_longest_first([w.lower() for w in spec.corrections.move_said]),
            move_not=_longest_first([w.lower() for w in spec.corrections.move_not]),
            only_again_words=_longest_first([w.lower() for w in spec.followups.only_again]),
            contact_words=tuple(sorted(
                [(w.lower(), "message") for w in spec.contact.message]
                + [(w.lower(), "call") for w in spec.contact.call],
                key=lambda pair: -len(pair[0]))),
            contact_lead=tuple(sorted(
                [(w.lower(), "message") for w in spec.contact.lead_message]
                + [(w.lower(), "call") for w in spec.contact.lead_call],
                key=lambda pair: -len(pair[0]))),
            contact_said=_longest_first([w.lower() for w in spec.contact.said]),
            contact_not_yet=_longest_first([w.lower() for w in spec.contact.not_yet]),
        )


def _measured(names: list[str]) -> re.Pattern[str]:
    """A lab or vital name at the end of a text, then what may stand before its value ("K+ ",
    "血钾是", "INR:"); a Latin name must be a word of its own ("Cr", not the "cr" of "scr")."""
    words = [(r"(?<![A-Za-z])" if name[:1].isascii() and name[:1].isalpha() else "")
             + re.escape(name) for name in _longest_first(names)]
    if not words:
        return re.compile(r"(?!)")
    return re.compile(r"(?:" + "|".join(words) + r")\s*(?:值|水平)?\s*"
                      r"(?:[:：=]|是|为|有|达|到)?\s*$", re.IGNORECASE)


def load_lexicon(path: Path, display: str | None = None) -> tuple[Lexicon | None, list[Issue]]:
    """The compiled lexicon, or None with every problem found in the file."""
    shown = display or str(path)
    if not path.is_file():
        return None, [Issue(shown, 1, "missing-lexicon",
                            "the note reader's word lists are required (capture/lexicon.yaml)")]
    raw, issues = read_positioned(path, shown)
    if raw is None:
        return None, issues
    try:
        spec = LexiconSpec.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            where = tuple(error["loc"])
            code = "unknown-key" if error["type"] == "extra_forbidden" else (
                "missing-key" if error["type"] == "missing" else "bad-value")
            issues.append(Issue(shown, line_of(raw, where), code,
                                f"{'.'.join(str(p) for p in where)}: {error['msg']}"))
        return None, issues
    for wrong, right in spec.typos.items():
        if len(wrong) != len(right):
            issues.append(Issue(shown, line_of(raw, ("typos", wrong)), "bad-value",
                                f"typos.{wrong}: a fix must keep the length ({right!r})"))
    for key in ("short_forms", "latin_forms"):
        for index, pattern in enumerate(getattr(spec.hospitals, key)):
            try:
                re.compile(pattern)
            except re.error as exc:
                issues.append(Issue(shown, line_of(raw, ("hospitals", key, index)),
                                    "bad-pattern", f"hospitals.{key}[{index}]: {exc}"))
    try:
        re.compile(spec.hospitals.ordinal_tail)
    except re.error as exc:
        issues.append(Issue(shown, line_of(raw, ("hospitals", "ordinal_tail")), "bad-pattern",
                            f"hospitals.ordinal_tail: {exc}"))
    if issues:
        return None, issues
    return Lexicon.of(spec), []


def rank_of(lexicon: Lexicon, title: str | None) -> str | None:
    """How a title addresses someone (大夫 → 医生, Prof → 教授), or None."""
    if not title:
        return None
    low = title.lower().strip(". ")
    return lexicon.title_ranks.get(title) or lexicon.title_ranks.get(low)


def kind_of(lexicon: Lexicon, title: str | None) -> str | None:
    """What sort of person a title names (doctor, pharmacist, nurse, leader), or None."""
    if not title:
        return None
    low = title.lower().strip(". ")
    return lexicon.title_kinds.get(title) or lexicon.title_kinds.get(low)


def title_in(lexicon: Lexicon, name: str) -> str | None:
    """The title a stored name carries: at its end (李主任) or in front ("Dr. Wang Jun").
    Remembered per lexicon: matching asks it of every customer of the rep for every note."""
    cache: dict[str, str | None] | None = getattr(lexicon, "_titles_of_names", None)
    if cache is None:
        cache = {}
        object.__setattr__(lexicon, "_titles_of_names", cache)
    if name not in cache:
        if len(cache) >= TITLE_CACHE_SIZE:
            cache.clear()
        cache[name] = _title_in(lexicon, name)
    return cache[name]


TITLE_CACHE_SIZE = 50_000


def _title_in(lexicon: Lexicon, name: str) -> str | None:
    for title in lexicon.titles:
        if name.endswith(title) and len(name) > len(title):
            return title
    first = name.split(" ", 1)[0].lower().strip(".")
    return first if first in lexicon.title_ranks and " " in name.strip() else None


def same_department(lexicon: Lexicon, a: str, b: str) -> bool | None:
    """True or False when the lexicon knows both as one department or as two; None when it
    knows neither (then compare the words)."""
    ga, gb = lexicon.department_groups.get(a.lower()), lexicon.department_groups.get(b.lower())
    if ga is None or gb is None:
        return None
    return ga == gb
