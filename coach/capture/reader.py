"""Reading a visit note: who, where, which department, and the next step, in one pass.

    facts = read_note(lexicon, "刚见完泰山医院心内科李主任，让我下周三带点循证资料过去", today)
    facts.mention -> Mention("李主任", hospital="泰山医院", department="心内科", title="主任")
    facts.due       -> next Wednesday;  facts.action -> "带点循证资料过去"

Pure and offline: word lists from `playbooks/capture/lexicon.yaml`, no model, no network.
The hospital and department found anywhere in the note belong to the customer it names
(a corridor note is about one visit). The first person named is the one the rep met.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from coach.capture.followup import dates_in, find_followup, has_action_cue
from coach.capture.lexicon import Lexicon
from coach.capture.matching import Mention
from coach.capture.people import Person, find_people
from coach.capture.places import find_departments, find_hospitals, handed_to
from coach.capture.spans import Span, ends_with_any, is_cjk
from coach.names import name_key, parse_customer_text

__all__ = ["NoteFacts", "contact_of", "looks_like_note", "mention_in", "read_note",
           "read_note_about", "says_more_than_who"]

_LATIN_WORDS = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class NoteFacts:
    mention: Mention | None = None
    # nobody was met, and the note names one person it was about ("罗医生今天不在，周五再
    # 跑一趟"): offered, not assumed
    attempted: Mention | None = None
    hospital: str | None = None
    department: str | None = None
    role: str | None = None  # a hint from the title or department (药师 → purchaser)
    due: date | None = None
    due_phrase: str | None = None
    action: str | None = None
    first_meeting: bool = False  # "第一次见": not someone already in the list, unasked
    # what the note says besides who and where, run together ("说下周再去")
    rest: str = ""
    # others the rep met too ("上午见了冯主任，下午找了郑主任"): the note is filed under one
    # customer; these are shown, and can be given a visit of their own from the same note
    others: tuple[Mention, ...] = ()
    # the customer is named only as whom the next step goes to ("周五带资料给王主任"): in a
    # log the rep started for someone else, the note is theirs, not 王主任's
    to_customer_only: bool = False
    # the note less the parts about the others it names ("另外陈主任也在，他对安全性有顾虑"):
    # what the customer's concerns and stage are read from; from `read_note_about`, the
    # parts about that person alone
    own_text: str = ""
    # "message" or "call": the note is about one, not a visit ("王主任发消息说…")
    contact: str | None = None
    # the deadline's own day when it fell on a day off and `due` is the working day before
    due_off_day: date | None = None

    @property
    def found_anything(self) -> bool:
        return any((self.mention, self.hospital, self.department, self.due, self.action))


def _standalone_title(lexicon: Lexicon, text: str) -> str | None:
    """A title typed as a word of its own ("李晓明 泰山医院 心内科 住院医")."""
    for title in lexicon.titles:
        if title not in text:
            continue
        for match in re.finditer(re.escape(title), text):
            start, end = match.span()
            before = text[start - 1] if start else " "
            after = text[end] if end < len(text) else " "
            if not is_cjk(before) and not is_cjk(after):
                return title
    return None


def _fix_typos(lexicon: Lexicon, text: str) -> str:
    for wrong, right in lexicon.typos.items():
        text = text.replace(wrong, right)
    return text


_CLAUSE_END = re.compile(r"[，,。；;！!？?\n]")
_ANOTHER_SUBJECT = re.compile(r"说|讲|告诉|他|她|主任|医生|教授|院长|护士|says|said|his|her|he|she")


def _not_met(lexicon: Lexicon, text: str, person: Person) -> bool:
    """Named, not met: "王主任出差了", "罗医生今天不在", "本来约好见王主任", "郭主任秘书说",
    "黄主任的研究生小叶", "Prof. Sun on leave", "张教授 out of office"."""
    after = re.sub(r"^\s*[(（][^)）]*[)）]", "", text[person.span.end:]).lstrip().lower()
    if after.startswith(tuple(w.lower() for w in lexicon.away_after)):
        return True
    roles = "|".join(map(re.escape, lexicon.someone_of))
    if re.match(r"^(?:的|'s|’s)\s*(?:[a-z]+\s+)?(?:" + roles + ")", after):
        return True  # "黄主任的研究生小叶", "Dr. Ma's resident Xiao Yang"
    clause = _CLAUSE_END.split(after, 1)[0][:16]
    for word in lexicon.away_in_clause:
        at = clause.find(word)
        # "罗医生今天不在"; not "王医生说主任不在", where the absence is someone else's
        if at >= 0 and not _ANOTHER_SUBJECT.search(clause[:at]):
            return True
    before = _CLAUSE_END.split(text[:person.span.start])[-1]
    if any(word in before for word in lexicon.meant_in_clause):
        return True
    return ends_with_any(text[:person.span.start].rstrip(), lexicon.not_met_before) is not None


def _family(person: Person) -> str:
    """The family name as written: 李 of 李明华主任, "feng" of "Dr Feng"."""
    key = name_key(person.name)
    if key and is_cjk(key[0]):
        return key[0]
    words = _LATIN_WORDS.findall(person.name)
    if person.title and words and words[0].lower() == person.title.lower().strip("."):
        words = words[1:]
    return words[0].lower() if words else key


def _same_person(one: Person, other: Person) -> bool:
    """"李明华主任 … 李主任被叫走了": the same family name and title, said again."""
    return bool(one.name and other.name and _family(one) == _family(other)
                and one.title and one.title == other.title)


_AND_ANOTHER = re.compile(r"^\s*(?:和|跟|与|及|、|and\b|&)", re.IGNORECASE)


def _met_alone(lexicon: Lexicon, text: str, person: Person) -> bool:
    """Right after 见了 / met / saw, and not "见了A和B": the one person the rep says they met."""
    before = text[:person.span.start].rstrip().lower()
    return ends_with_any(before, lexicon.met_before) is not None and not _AND_ANOTHER.match(
        text[person.span.end:])


def _first_met(lexicon: Lexicon, text: str, person: Person) -> bool:
    """"钟医生第一次见": met today, whatever the note says of them later ("下周三再去找钟医生")."""
    after = text[person.span.end:person.span.end + 8].lstrip().lower()
    return after.startswith(lexicon.first_meeting) or after.startswith(("第一次", "first time"))


def _customer(lexicon: Lexicon, text: str, people: list[Person],
              places: Sequence[Span] = ()) -> Person | None:
    """The person the rep met: the one right after 见了 / saw, else the first named who was
    not away ("王主任出差了，见了石副主任" → 石副主任); of two written together and both met
    ("陈主任和黄医生，黄医生说…"), the first."""
    missed = [p for p in people if _not_met(lexicon, text, p)]
    # "姜主任不在…说姜主任下周回来": named again, still not met
    missed_names = {p.name for p in missed}
    present = [p for p in people if p not in missed and (_first_met(lexicon, text, p) or (
        p.name not in missed_names and not any(_same_person(p, later) for later in missed
                                               if later.span.start > p.span.start)))]
    main = [p for p in present if p.main]
    if main:
        return main[0]
    # "见了莫院长和卢主任 卢主任第一次见…找卢主任对接": of two met, the new contact the note
    # goes on about is the visit's customer; the other is offered with one tap
    if len({name_key(p.name) for p in present}) > 1:
        alone = [p for p in present if _met_alone(lexicon, text, p)]
        if len({name_key(p.name) for p in alone}) == 1:  # "…instead, met Dr. Meng today"
            return alone[0]
        askers = {name_key(p.name): p for p in present if _ASKS.match(text[p.span.end:])}
        if len(askers) == 1:  # "覃教授让我2.1之前把议程定下来": the one who asked
            return next(iter(askers.values()))
        new = [p for p in present if _first_met(lexicon, text, p)]
        if new:
            return new[0]
    met = [p for p in present if p.met]
    if met:
        at = people.index(met[0])
        if at and people[at - 1] in present and _together(lexicon, text, people, at, places):
            return people[at - 1]
        return met[0]
    return present[0] if present else None


def _attempted(people: list[Person]) -> Person | None:
    """With nobody met, the one person the note names (several: nobody)."""
    return people[0] if len({name_key(p.name) for p in people}) == 1 else None


def read_note(lexicon: Lexicon, text: str, today: date,
              known_hospitals: Sequence[str] = (), known_names: Sequence[str] = (),
              no_step: NoStep | None = None) -> NoteFacts:
    """What a note says; `known_hospitals` and `known_names` are the rep's customers', found
    however they are written (泰山 for 泰山医院, "Taishan" too). `no_step` gives the parts of
    the note no follow-up may come from (the clauses the compliance guard flags)."""
    text = _fix_typos(lexicon, unicodedata.normalize("NFKC", text))
    hospitals = find_hospitals(lexicon, text, known_hospitals)
    departments = find_departments(lexicon, text, hospitals)
    people = find_people(lexicon, text, [*hospitals, *departments], known_names)
    customer = _customer(lexicon, text, people, [*hospitals, *departments])
    # "把申请表交药剂科": where something goes is no one's department here, nor a step's
    # words to cut out ("交药剂科" stays in the action)
    destinations = [d for d in departments if handed_to(lexicon, text, d) and not (
        customer is not None and _department_before(text, customer, [d]) is not None)]
    departments = [d for d in departments if d not in destinations]
    hospital = hospitals[0].value if hospitals else None
    department = departments[0].value if departments else None
    mention = None
    role = lexicon.department_roles.get(department or "")
    attempted = None
    if customer is not None:
        title = customer.title or _standalone_title(lexicon, text)
        mention = Mention(customer.name, hospital, department, title)
        role = lexicon.title_roles.get(title or "") or role
    elif (missed := _attempted(people)) is not None:
        attempted = Mention(missed.name, hospital, department, missed.title)
    taken = [*hospitals, *departments, *(p.span for p in people)]
    others = _others(lexicon, text, people, customer, hospitals, departments) \
        if customer else ()
    if customer is not None and others and len({d.value for d in departments}) > 1:
        # "仁济药剂科张科…另外肿瘤科陈主任也在": each with the department named with them
        department = _department_of(text, people, customer, departments) or department
        role = lexicon.department_roles.get(department or "")
        mention = Mention(customer.name, hospital, department, mention.title if mention
                          else customer.title)
        role = lexicon.title_roles.get(mention.title or "") or role
    # the customer's next step, concerns and stage are not those the note gives another
    # person it names
    keys = {name_key(o.name) for o in others}
    theirs = [*_segments(text, people, keys),
              *(part for key in keys
                for part in _parts(lexicon, text, today, people, key, departments))]
    own = _blank(text, theirs)
    followup = find_followup(lexicon, _without_steps(own, text, no_step), today, taken)
    lowered = text.lower()
    first = any(word in lowered for word in lexicon.first_meeting)
    named = customer or _attempted(people)
    to_only = named is not None and all(
        _GIVEN_TO.search(text[:p.span.start]) for p in people
        if name_key(p.name) == name_key(named.name))
    return NoteFacts(mention, attempted, hospital, department, role, followup.due,
                     followup.phrase, followup.action, first, _rest(text, taken), others,
                     to_only, own, contact_of(lexicon, text), followup.off_day)


def contact_of(lexicon: Lexicon, text: str) -> str | None:
    """"message" or "call" when the note is about one ("王主任刚发消息说…", "电话里说",
    "Dr Li texted me"), None for a visit: the rep says they met them, or says neither."""
    low = text.lower()
    if any(word in low for word in lexicon.met_before if not word.isascii()) or re.search(
            r"\b(?:" + "|".join(re.escape(w) for w in lexicon.met_before if w.isascii())
            + r")\b", low):
        return None
    said = next((kind for word, kind in lexicon.contact_words if word in low), None)
    return said or _lead_contact(lexicon, low)


# "马大夫电话13812345678": a number written down, not a call
_PHONE_NUMBER = re.compile(
    r"(?:电话|手机|tel|phone)\s*(?:号码?)?\s*[:：]?\s*[\d一二三四五六七八九零〇]")


def _lead_contact(lexicon: Lexicon, low: str) -> str | None:
    """"王主任刚打电话 说…", "陈主任回了条短信：…": the channel named before what the
    customer said; None when it is in what they said or a step still to take."""
    ends = [i for word in lexicon.contact_said if (i := low.find(word)) >= 0]
    lead = _PHONE_NUMBER.sub(" ", low[:min(ends)] if ends else low)
    if any(word in lead for word in lexicon.contact_not_yet):
        return None
    return next((kind for word, kind in lexicon.contact_lead if word in lead), None)


# right before a person the rep's step goes to: 带资料给|王主任, 发给|她, "bring it to| Dr Wang"
_GIVEN_TO = re.compile(r"(?:给|(?<![A-Za-z])to)\s*$", re.IGNORECASE)


_AT = re.compile(r"\s*(?:at|@|from|of|in)?\s*[(（]?\s*", re.IGNORECASE)


def _others(lexicon: Lexicon, text: str, people: list[Person], customer: Person,
            hospitals: Sequence[Span], departments: Sequence[Span]) -> tuple[Mention, ...]:
    """The other people the rep surely met (见了 …, 第一次见, or who asked something of the
    rep), each once, at the hospital named with them; with one hospital or department in
    the whole note, that one. Someone only mentioned ("要先问问陈副主任的意见") is not."""
    first: dict[str, int] = {}
    met: set[str] = set()
    mine = _family(customer)
    for index, person in enumerate(people):
        key = _family(person)
        if key == mine:
            continue  # 刘敏副主任 … 刘主任说: the same person, most likely
        first.setdefault(key, index)
        surely = person.met or _first_met(lexicon, text, person) or _ASKS.match(
            text[person.span.end:]) or _met_alone(lexicon, text, person) or _there_too(
            lexicon, text, person, departments) or _together(
            lexicon, text, people, index, [*hospitals, *departments])
        if surely and not _not_met(lexicon, text, person):
            met.add(key)
    found = []
    for key, index in first.items():
        if key not in met:
            continue
        person = people[index]
        since = people[index - 1].span.end if index else 0
        after = [h for h in hospitals if h.start >= person.span.end and _AT.fullmatch(
            text[person.span.end:h.start])]  # "Dr Zheng at Fuwai", "郑主任（阜外）"
        near = [h for h in hospitals if since <= h.start and h.end <= person.span.start]
        where = after[0].value if after else near[-1].value if near else None
        if where is None and len({h.value for h in hospitals}) == 1:
            where = hospitals[0].value
        department = departments[0].value if len({d.value for d in departments}) == 1 else \
            _department_of(text, people, person, departments)
        found.append(Mention(person.name, where, department, person.title))
    return tuple(found)


# between a department and the name it goes with: "ICU的罗主任", "Dr Xu from pharmacy"
_WITH_DEPARTMENT = re.compile(r"\s*(?:的|科的|里的|from|of|in|at|,)?\s*", re.IGNORECASE)


def _department_before(text: str, person: Person, departments: Sequence[Span]
                       ) -> Span | None:
    """The department written right before a person ("肿瘤科陈主任", "ICU的罗主任")."""
    return next((d for d in reversed(departments) if d.end <= person.span.start
                 and _WITH_DEPARTMENT.fullmatch(text[d.end:person.span.start])), None)


def _department_of(text: str, people: Sequence[Person], person: Person,
                   departments: Sequence[Span]) -> str | None:
    """The department named with `person`: right before the name, else right after it
    ("Dr Xu from pharmacy", "陈主任（肿瘤科）"), else the nearest before it and after
    whoever was named before; None when the note ties none to them."""
    before = _department_before(text, person, departments)
    if before is not None:
        return before.value
    after = next((d for d in departments if d.start >= person.span.end), None)
    if after is not None and re.fullmatch(r"\s*(?:at\s+\S+\s+|from|of|in|[(（])?\s*",
                                          text[person.span.end:after.start], re.IGNORECASE):
        return after.value
    if after is not None and _AT_PLACE.fullmatch(text[person.span.end:after.start]):
        return after.value
    since = max((p.span.end for p in people if p.span.end <= person.span.start), default=0)
    near = [d for d in departments if since <= d.start and d.end <= person.span.start]
    return near[-1].value if near else None


# "Dr Chen at Renji oncology": a hospital between the name and the department
_AT_PLACE = re.compile(r"\s*(?:at|@|from|of|in)\s+[A-Z][A-Za-z]*(?:\s+hospital)?\s+",
                       re.IGNORECASE)


def _there_too(lexicon: Lexicon, text: str, person: Person,
               departments: Sequence[Span]) -> bool:
    """Someone else the rep met: "另外肿瘤科陈主任也在", "Dr Xu was there as well", "and also
    Dr Gao", "还见了药剂科赵药师" (见了, then the department, then the name)."""
    after = _past_place(text, person.span.end, departments).lower()
    if after.startswith(lexicon.present_after):
        return True
    department = _department_before(text, person, departments)
    before = text[:department.start if department else person.span.start].rstrip().lower()
    before = _WHO_THEY_ARE.sub("", before).rstrip()  # "旁边还有|进修的|葛医生"
    return ends_with_any(before, (*lexicon.also_before, *lexicon.met_before)) is not None


# what a rep says of someone between the cue and the name: "旁边还有进修的葛医生", "还碰到了
# 科里新来的小周", "also ran into a young Dr Lu"
_WHO_THEY_ARE = re.compile(r"(?:科里|科室|他们科|组里)?(?:的)?(?:进修|规培|年轻|新来|管床|值班)?"
                           r"(?:的)?$|\s(?:a|the)\s+(?:young|new|junior|senior)$")


# between a name and the department said after it: "Dr Song from pharmacy", "吴主任（消化）"
_PLACE_AFTER = re.compile(r"\s*(?:from|of|in|at)?\s*(?:the\s+)?[(（]?\s*", re.IGNORECASE)
# between two names written together, besides the word joining them: "和她的学生|伍医生",
# "、药剂科|蒋科长", "Dr Xie (onc) and Dr Bai"
_THEIR_OWN = re.compile(r"(?:他的|她的|his|her)?\s*(?:学生|研究生|同事|徒弟|助手|fellow|resident|"
                        r"colleague|student)?\s*(?:的)?\s*$", re.IGNORECASE)


def _past_place(text: str, at: int, places: Sequence[Span]) -> str:
    """The text after `at`, less a department or hospital said right there ("Dr Song from
    pharmacy| was there too", "许主任（麻醉科）|也在")."""
    rest = text[at:]
    for place in places:
        if place.start >= at and _PLACE_AFTER.fullmatch(text[at:place.start]):
            rest = text[place.end:]
            break
    return re.sub(r"^\s*[)）]?", "", rest).lstrip()


def _together(lexicon: Lexicon, text: str, people: Sequence[Person], index: int,
              places: Sequence[Span]) -> bool:
    """Two names written together, both met: "王主任+刘医生一起见的", "胡主任、药剂科蒋科长都在",
    "见了马主任和小郑" (the first met), "华西内分泌 刘主任+药剂科邓老师" (the first named at the
    note's start), "met Dr Xie (onc) and Dr Bai (heme) together"."""
    if index == 0:
        return False
    person, first = people[index], people[index - 1]
    between = text[first.span.end:person.span.start]
    for place in sorted(places, key=lambda s: -s.start):
        if first.span.end <= place.start and place.end <= person.span.start:
            between = between[:place.start - first.span.end] + " " + between[
                place.end - first.span.end:]
    between = re.sub(r"[(（][^)）]*[)）]", " ", between).strip().lower()
    joiner = next((w for w in lexicon.joined_by if between.startswith(w)), None)
    if joiner is None or not _THEIR_OWN.fullmatch(between[len(joiner):]):
        return False
    if joiner.isascii() and joiner.isalpha() and between[len(joiner):len(joiner) + 1].isalpha():
        return False  # "andrew": no joining word
    after = _past_place(text, person.span.end, places).lower()
    if after.startswith(lexicon.together_after):
        return True
    if first.met or ends_with_any(text[:first.span.start].rstrip().lower(),
                                  lexicon.met_before) is not None:
        return True
    # named first, right at the note's start after where, joined by a sign ("华西内分泌 刘主任+
    # 药剂科邓老师，…") or listed as a clause of its own ("川大附属内分泌 陈主任和黄医生，黄医生
    # 说…"); "王主任跟李主任一个科" names 李主任 only
    if joiner.isalpha() and not re.match(r"^(?:[，,。；;:：\n]|\s|$)", text[person.span.end:]):
        return False
    lead = list(text[:first.span.start])
    for place in places:
        if place.end <= first.span.start:
            lead[place.start:place.end] = " " * (place.end - place.start)
    return not re.sub(r"[\s,，:：]", "", "".join(lead)) and first is people[0]


# where a part of the note about one person ends: the sentence ends
_SENTENCE_END = re.compile(r"[。；;！!？?\n]|\.(?:\s|$)")


def _parts(lexicon: Lexicon, text: str, today: date, people: list[Person], key: str,
           departments: Sequence[Span]) -> list[tuple[int, int]]:
    """The parts of the note about the person `key`: from each place they are named (with
    the department right before the name) to whoever is named next, the sentence's end
    ("另外肿瘤科陈主任也在，他对安全性有顾虑 怕骨髓抑制。" is 陈主任's), or a later clause that
    is the rep's own next step and speaks of no one ("Saw Dr Wang and Dr Liu, follow up next
    Wed", "见了王主任和刘医生，下周三再去": the visit's follow-up, not 刘医生's)."""
    found = []
    for index, person in enumerate(people):
        if name_key(person.name) != key:
            continue
        department = _department_before(text, person, departments)
        start = department.start if department is not None else person.span.start
        start = _step_towards(text, people[:index], start)
        ends = [p.span.start for p in people[index + 1:] if name_key(p.name) != key][:1]
        stop = _SENTENCE_END.search(text, person.span.end)
        if stop is not None:
            ends.append(stop.end())
        own_step = _own_step_after(lexicon, text, today, person.span.end,
                                   min(ends) if ends else len(text))
        if own_step is not None:
            ends.append(own_step)
        found.append((start, min(ends) if ends else -1))
    return found


# a clause that speaks of someone: what it says is theirs, not the rep's own step
_SOMEONE = re.compile(r"他|她|(?<![A-Za-z])(?:he|she|him|her|they|them|his)(?![A-Za-z])",
                      re.IGNORECASE)
# a clause that starts with the rep's own next step, dated or not: "再去", "follow up …"
_OWN_STEP = re.compile(r"^\s*(?:然后|之后|我)?\s*(?:下次|再去|再来|再约|跟进|回访|"
                       r"follow[ -]?up|f/u|come back|go back|revisit|will revisit|"
                       r"i'?ll (?:go|come|visit|follow))", re.IGNORECASE)


def _own_step_after(lexicon: Lexicon, text: str, today: date, at: int, end: int
                    ) -> int | None:
    """Where, after the clause naming someone at `at` and before `end`, a clause begins that
    is the rep's own next step (a date or "再去" / "follow up", and no 他 / 她 / him in it)."""
    for match in _CLAUSE_END.finditer(text, at, end):
        clause = _CLAUSE_END.split(text[match.end():end], 1)[0]
        if not clause.strip() or _SOMEONE.search(clause):
            continue
        if _OWN_STEP.match(clause) or (dates_in(lexicon, clause.strip(), today)
                                       and has_action_cue(lexicon, clause)):
            return match.end()
    return None


# the rep's step towards whoever is named next: "下周三再去找|刘医生", "明天送资料给|赵老师"
_STEP_TO = re.compile(r"(?:找|约|给|拜访|见|问问|问|visit|see|call|email|to)\s*$", re.IGNORECASE)


def _step_towards(text: str, before: Sequence[Person], start: int) -> int:
    """Where the part about someone starts when the clause leading to their name is the rep's
    step towards them ("下周三再去找刘医生送样品资料" is all 刘医生's): that clause's start, if no
    one else is named in it; else `start`."""
    if not _STEP_TO.search(text[:start]):
        return start
    clause = max((m.end() for m in _CLAUSE_END.finditer(text, 0, start)), default=0)
    if any(p.span.end > clause for p in before):
        return start
    return clause


# someone who asks the rep for something right where they are named: what follows is theirs
_ASKS = re.compile(r"^\s*(?:说|也|还|就|又)?\s*(?:让我|叫我|要我|请我|希望我|想要|要|让我们|"
                   r"wants|asked me|asked for|asked us|needs|told me)", re.IGNORECASE)


def _segments(text: str, people: list[Person], keys: set[str]) -> list[tuple[int, int]]:
    """Where the note gives one of `keys` a next step: from each mention of them that asks
    something of the rep to the next mention of someone else ("…，郑主任让我周五送指南解读")."""
    found = []
    for index, person in enumerate(people):
        key = name_key(person.name)
        if key not in keys or not _ASKS.match(text[person.span.end:]):
            continue
        end = next((p.span.start for p in people[index + 1:] if name_key(p.name) != key),
                   None)
        found.append((person.span.start, end if end is not None else -1))
    return found


#: Given the note as read, the (start, end) parts no follow-up may come from.
NoStep = Callable[[str], Sequence[tuple[int, int]]]


def _without_steps(own: str, text: str, no_step: NoStep | None) -> str:
    """`own` (the note as read, some parts spaced out) without the parts `no_step` names in
    `text`; when their offsets cannot be trusted (a text of another length came back), with
    nothing left: no step is better than one taken from a flagged clause."""
    if no_step is None:
        return own
    spans = list(no_step(text))
    if any(not 0 <= start <= end <= len(text) for start, end in spans):
        return " " * len(own)
    return _blank(own, spans)


def _blank(text: str, segments: list[tuple[int, int]]) -> str:
    """`text` with `segments` spaced out, every other position kept."""
    for start, end in segments:
        end = len(text) if end < 0 else end
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def read_note_about(lexicon: Lexicon, text: str, today: date, name: str,
                    known_hospitals: Sequence[str] = (), known_names: Sequence[str] = (),
                    no_step: NoStep | None = None) -> NoteFacts:
    """The note read for one of the others it names: their next step is what the note says
    from where they are last named to where someone else is ("…郑主任让我周五送指南解读")."""
    text = _fix_typos(lexicon, unicodedata.normalize("NFKC", text))
    hospitals = find_hospitals(lexicon, text, known_hospitals)
    departments = find_departments(lexicon, text, hospitals)
    people = find_people(lexicon, text, [*hospitals, *departments], known_names)
    key = name_key(name)
    theirs = _segments(text, people, {key}) or _parts(lexicon, text, today, people, key,
                                                       departments)
    if not theirs:
        return NoteFacts()
    kept = [(s, len(text) if e < 0 else e) for s, e in theirs]
    outside, at = [], 0
    for start, end in kept:
        outside.append((at, start))
        at = end
    outside.append((at, len(text)))
    own = _blank(text, [(s, e) for s, e in outside if e > s])
    taken = [*hospitals, *departments, *(p.span for p in people)]
    followup = find_followup(lexicon, _without_steps(own, text, no_step), today, taken)
    return NoteFacts(due=followup.due, due_phrase=followup.phrase, action=followup.action,
                     own_text=own)


_NOT_WORDS = re.compile(r"[\W_]+")
_NAME_GLUE = frozenset({"at", "the", "of", "from", "in", "dr", "prof", "and", "with"})


def _rest(text: str, taken: Sequence[Span]) -> str:
    """The text less its names, hospitals and departments, punctuation and spaces."""
    pieces, at = [], 0
    for span in sorted(taken, key=lambda s: s.start):
        pieces.append(text[at:max(at, span.start)])
        at = max(at, span.end)
    pieces.append(text[at:])
    return _NOT_WORDS.sub(" ", " ".join(pieces)).strip()


def says_more_than_who(lexicon: Lexicon, text: str, today: date) -> bool:
    """Whether text typed where a customer's name was asked is a note, not a name: it tells
    what happened or what comes next ("钱主任 同济 说那个病人…明天再去"), beyond who and
    where ("林主任 北京协和医院 神经外科")."""
    facts = read_note(lexicon, text, today)
    if facts.due is not None or facts.action is not None:
        return True
    rest = facts.rest
    chinese = sum(1 for ch in rest if is_cjk(ch))
    words = [w for w in _LATIN_WORDS.findall(rest) if w.lower() not in _NAME_GLUE]
    return chinese >= 4 or len(words) >= 3 or (chinese >= 2 and len(words) >= 1)


def mention_in(lexicon: Lexicon, text: str, today: date) -> Mention | None:
    """The customer a rep typed when asked who: a note-like sentence is read as a note,
    a bare name ("李晓明", "Wang Jun", "药剂科") as a name."""
    facts = read_note(lexicon, text, today)
    query = parse_customer_text(text)
    typed = query.name if query.name and len(query.name) <= 12 else None
    mention = facts.mention
    if mention is not None and typed is not None and name_key(mention.name) != name_key(typed) \
            and name_key(mention.name) in name_key(typed) and not any(
                place and place in typed for place in (mention.hospital, mention.department)):
        # "阿依古丽医生": the reader saw only part of a name it does not know; the rep
        # typed the whole of it
        return Mention(typed, mention.hospital, mention.department, mention.title)
    if mention is not None:
        return mention
    if typed is None:
        return None
    title = ends_with_any(typed, lexicon.titles)  # "那主任": a title, so a name
    if title is not None and len(title) >= len(typed):
        title = None
    return Mention(typed, query.hospital or facts.hospital,
                   query.department or facts.department, title)


def looks_like_note(lexicon: Lexicon, text: str, today: date) -> bool:
    """Whether text typed where a button was expected is worth offering as a visit note: a
    sentence, or a next step; not a bare name or place ("Dr Chen", "泰山医院")."""
    chinese = sum(1 for ch in text if is_cjk(ch))
    if chinese >= 8 or len(_LATIN_WORDS.findall(text)) >= 4:
        return True
    facts = read_note(lexicon, text, today)  # "李主任明天再去": short, but a whole visit note
    return facts.mention is not None and (facts.due is not None or facts.action is not None)
