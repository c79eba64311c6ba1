"""The next step in a note: its date ("让我下周三带点资料过去" → next Wednesday) and its
action ("带点资料过去").

Every date-like phrase is read with `coach.dates.parse_due_date` (the same reader that
answers "when will you follow up?"), but in a note a date is a follow-up only when it lies
ahead and nothing marks it as the past: "周二见了李主任" tells when the visit was, "上周"
and "昨天" are behind us, and "用了3天" is a duration, so in notes an offset needs 后 / 以后
("3天后") or 过 in front. Vague phrases (过两天, 改天) are no date: a reminder on a guessed
day is worse than none; the rep can add one with a tap.

The action is what the clause says around the date, with fillers trimmed (让我, 再, 要 …);
without a date, 下次 / next time marks an action too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from difflib import SequenceMatcher
from functools import lru_cache

from coach.capture.lexicon import Lexicon
from coach.capture.spans import Span, ends_with_any
from coach.dates import lead_time, parse_due_date
from coach.holidays import working_day_by

__all__ = ["FollowUp", "dates_in", "find_followup", "has_action_cue", "moved_from",
           "names_no_object", "only_again", "same_step"]

_NUM = r"(?:[0-9]{1,4}|[零〇一二两三四五六七八九十]{1,3})"
_WD = r"(?:[一二三四五六日天七1-7]|末)"
_NEXT = r"(?:(?<!一)下下个?|下个?)"  # "汇报一下下周一" is 一下 + 下周一, not 下下周一
# a part of a month ("下个月中旬", "3月中"), not 月中心 / 月中午 / 月中期
_MID = r"(?:上旬|中旬|下旬|中(?![心国医午药间层标期]))"
_CN = (
    # a named month's end or start, the year's end: "明年3月底", "3月初", "年底" (read by
    # parse_due_date as /plan's date questions read them; 月底 alone is this month's)
    r"(?:明年|今年|后年)?" + _NUM + r"月份?(?:底|末|初|" + _MID + r")"
    + r"|(?:明年|今年|后年)?年(?:底|末)|明年底|(?:明年|后年)年?初"
    + r"|(?:" + _NEXT + r"|这个?|本)?月" + _MID
    + r"|(?:" + _NEXT + r"|这个?|本|上个?)?(?:周|星期|礼拜|週)" + _WD
    + r"|" + _NEXT + r"(?:周|星期|礼拜|週)"
    + r"|大后天|后天|明天|明日|明早|明晚|明儿|今天|今晚"
    + r"|(?:这个?|本|下个?)?月(?:底|末|初)"
    + r"|(?:" + _NEXT + r"|这个?|本)月的?" + _NUM + r"[日号]"  # 下个月20号
    + r"|" + _NEXT + r"月"
    + r"|[0-9]{4}年" + _NUM + r"月" + _NUM + r"[日号]?"
    + r"|[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}"
    + r"|" + _NUM + r"月" + _NUM + r"[日号]?"
    + r"|(?<![0-9.A-Za-z])[0-9]{1,2}[/.][0-9]{1,2}(?![0-9]|\.[0-9])"
    + r"|(?<![0-9.A-Za-z])[0-9]{1,2}-[0-9]{1,2}(?![0-9]|\.[0-9])"
      r"(?!\s*(?:个|位|例|名|人|盒|支|片|天|周|次|pts?\b|patients?|cases?|boxes?|days?|weeks?))"
    + r"|" + _NUM + r"[日号](?![床楼线室病])"
    + r"|过" + _NUM + r"(?:天|日|个?(?:周|星期|礼拜)|个月)(?:后|以后|之后)?"
    + r"|" + _NUM + r"(?:天|日|个?(?:周|星期|礼拜)|个月)(?:后|以后|之后)"
    + r"|半个月后"
)
_CN_TAIL = r"(?:上午|下午|中午|晚上|早上|傍晚)?(?:之前|以前|前)?"
_WEEKDAYS = (r"mon(?:day)?|tue(?:s|sday)?|wed(?:nesday)?|thu(?:r|rs|rsday)?|fri(?:day)?"
             r"|sat(?:urday)?|sun(?:day)?")
_MONTHS = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
           r"|sep(?:t|tember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_EN = (
    r"(?<![A-Za-z])(?:the day after tomorrow|tomorrow|tmrw|tmr|tmw"
    r"|(?:" + _WEEKDAYS + r") next week"
    r"|(?:next|this|coming) (?:" + _WEEKDAYS + r")|(?:" + _WEEKDAYS + r")"
    r"|(?:next|nxt) (?:week|wk)|next month|end of (?:the |this )?month|today|tonight"
    r"|(?:next|nxt) (?:" + _WEEKDAYS + r")"
    r"|in (?:[0-9]{1,3}|a|one|two|three|four|five|six|seven|ten|a couple of) "
    r"(?:days?|weeks?|months?)"
    r"|[0-9]{1,3} (?:days?|weeks?) (?:later|from now)"
    r"|(?:" + _MONTHS + r")\.? [0-9]{1,2}(?:st|nd|rd|th)?"
    r"|[0-9]{1,2}(?:st|nd|rd|th)? (?:" + _MONTHS + r")"
    r"|(?:on|by|before) (?:the )?[0-9]{1,2}(?:st|nd|rd|th))(?![A-Za-z])\.?"
)
# Dates that may as well lie behind us this week: a bare weekday or day of month.
_BARE = re.compile(r"(?:周|星期|礼拜|週)" + _WD + r"|" + _NUM + r"[日号]|" + _NUM + r"月"
                   + _NUM + r"[日号]?|(?:" + _WEEKDAYS + r")", re.IGNORECASE)
_DATE = re.compile(r"(?:" + _CN + r")" + _CN_TAIL + r"|" + _EN, re.IGNORECASE)
# "下旬" with no month named is no day (a part of a named month is: "下个月中旬")
_VAGUE = re.compile(r"过[两几]天|过一阵|改天|回头|(?<![月份])(?:下旬|上旬|中旬)")
# "下周科室会，时间待定": a date the note itself says is not fixed yet
_NOT_SET = (r"(?:时间|日期|具体)?(?:待定|未定|再定|还没定|没定|不确定|待确认|tbd|tbc"
            r"|to be confirmed|not fixed)")
_UNSETTLED = re.compile(r"^[^，,。；;！!？?\n]{0,8}?" + _NOT_SET, re.IGNORECASE)
# a week or a month names no day: "下周找他，具体还没定" says so in the next clause too
_UNSETTLED_LATER = re.compile(r"^.{0,14}?" + _NOT_SET, re.IGNORECASE | re.DOTALL)
_PERIOD_ONLY = re.compile(r"(?:下下?个?|这个?|本)?(?:周|星期|礼拜|週|月)"
                          r"|(?:next|this) (?:week|month)", re.IGNORECASE)
_CLAUSE = re.compile(r"[，,。；;！!？?\n]|(?<=[a-z)])\.\s|\s+-\s+|\s*[~～…]+\s*|\s{2,}"
                     r"|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
_TODAY = re.compile(r"今天|today", re.IGNORECASE)
_LATER_TODAY = re.compile(r"^\s*(?:之内|以内|内|下班前|晚点|晚些)|^\s*(?:下午|晚上|傍晚)?\s*"
                          r"(?:[0-9一二三四五六七八九十]{1,2}[点:：](?:半|[0-9]{1,2}分?)?)?\s*"
                          r"(?:前|之前|以前)?\s*"
                          r"(?:再|还要|还得|就给|就把|把|给他|给她|提交|回复|发给|发|送|交|整理|"
                          r"准备|联系|打电话|带)")
# right before a date, these make it the rep's own plan ("让我月底前把方案做出来")
_STRONG_BEFORE = re.compile(r"(?:让我|叫我|要我|我|我得|我要|我需要|我先|得先|约了|约好|约|定了|by|"
                            r"before|on)\s*$", re.IGNORECASE)
_STRONG_AFTER = re.compile(r"^\s*(?:前|之前|以前)?\s*(?:要|得|需要|必须|先)?\s*"
                           r"(?:把|带|送|发|去(?!不)|再|给|回复|约|交|过去|过来|"
                           r"bring|send|call|email|follow|drop|book)", re.IGNORECASE)
MAX_ACTION = 60
_TRAILING_WORDS = re.compile(r"(?:\s+(?:on|by|at|before|until|in|next|this|for|to|the))+\s*$"
                             r"|[在于到]$", re.IGNORECASE)
# A date right after one of these is someone else's plan ("他下周要讲课"), unless the rep
# says what they will do about it in the same clause.
_THEIR_PLAN = re.compile(r"(?:他|她|他们|她们|科里|科室|医院|院里|they|he|she)\s*$",
                         re.IGNORECASE)
_EN_LEADING = re.compile(r"^(?:by|on|before|until)\s+", re.IGNORECASE)
_EN_SHORT = ((re.compile(r"\bnxt\b", re.IGNORECASE), "next"),
             (re.compile(r"\bwks?\b", re.IGNORECASE), "week"))
_WEEKDAY_NEXT_WEEK = re.compile(r"^(" + _WEEKDAYS + r") next week$", re.IGNORECASE)
_ABBREVIATED_DAY = re.compile(r"^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)\.?$",
                              re.IGNORECASE)
# "12.5" and "12/5" are dates, but also doses, lab values and shares ("12.5mg", "降到7.5",
# "2/3的病人"): a number followed by a unit, or written where a value is reported, is a
# measurement.
_NUMERIC_DATE = re.compile(r"^[0-9]{1,2}[/.-][0-9]{1,2}")
_DOTTED_DATE = re.compile(r"^[0-9]{1,2}\.[0-9]{1,2}$")
# "他的学生说下周四回来": when someone comes back, not when the rep acts
_RETURN_AFTER = re.compile(r"^\s*(?:才|就)?(?:回来|回科|回院|返回|is back|be back|returns)",
                           re.IGNORECASE)
# "从周四改到下周二": the first date is the old one
_MOVED_FROM = re.compile(r"从\s*$")
_MOVED_TO_AFTER = re.compile(r"^\s*(?:改|换|挪|推|调)")
# "I need to send… tmr" is the rep's; "he will present… on 1月22号" is his
_REP_SUBJECT = re.compile(r"我|(?<![A-Za-z])(?:i|i'll|we|we'll|need to|have to)(?![A-Za-z])",
                          re.IGNORECASE)
_CHANGED_TO = re.compile(r"(?:改|改到|改成|改为|换到|换成|挪到|推到)\s*$")
_THEN = re.compile(r"^[^。；;！!？?\n]{0,6}?(?:到时候|到时|那时|then)", re.IGNORECASE)
MAX_NUMERIC_AHEAD = 300  # "1/3" typed on 13 January is a share, not 3 January next year
_UNIT_AFTER = re.compile(r"^(?:[A-Za-zµμ%‰]|\s*(?:mg|mcg|[µμ]g|ml|g|kg|mmol|iu|u|mm|cm|pts?|"
                         r"patients?|cases?(?!\s*(?:discussion|conference|review|meeting))|"
                         r"box(?:es)?|tabs?|tablets?|times|of)\b|\s*[%‰]"
                         r"|\s*的[\u4e00-\u9fff]{0,4}?(?:病人|患者|病例)|\s*的?(?:病人|患者|人)"
                         r"|\s*(?:左右|以上|以下|上下|个点)"
                         r"|\s*[毫微克升片粒支袋瓶盒个倍分元万千次岁例人位名床米斤级期])",
                         re.IGNORECASE)
_MEASURE_BEFORE = re.compile(r"(?:[到至为是约从达降升调用量值在减加≈~]|[A-Za-z0-9]|剂量|用量|"
                             r"血[压糖脂钾钠钙]|指标|水平|浓度|评分|分数)\s*$")
_SCHEDULED_IN = re.compile(r"(?:定在|改到|改在|约在|安排在|放在|推到)\s*$")
_LATIN_TITLE_BEFORE = re.compile(r"(?:dr|prof|professor|director|mr|mrs|ms|doctor|president)"
                                 r"\.?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class FollowUp:
    due: date | None
    phrase: str | None  # the date as written
    action: str | None
    # a deadline on a day off ("提前一周交" coming to a Sunday): the day it came to, the
    # reminder (`due`) being the working day before
    off_day: date | None = None


def _parse(phrase: str, today: date) -> date | None:
    text = re.sub(r"(?<=[0-9])\.(?=[0-9])", "/", phrase)
    text = re.sub(r"^(?:on|by|before) (?:the )?([0-9]{1,2})(?:st|nd|rd|th)$", r"\1号", text)
    for pattern, word in _EN_SHORT:
        text = pattern.sub(word, text)
    text = _EN_LEADING.sub("", text.strip())
    match = _WEEKDAY_NEXT_WEEK.match(text)
    if match:
        text = f"next {match.group(1)}"
    return parse_due_date(text, today)


def _rolled(phrase: str, due: date, today: date) -> bool:
    """A bare weekday or day that already passed this week / month / year: read as the next
    one, but in a note it more likely tells when something happened."""
    bare = phrase.strip()
    if re.fullmatch(r"(?:周|星期|礼拜|週)" + _WD + r"|(?:" + _WEEKDAYS + r")", bare,
                    re.IGNORECASE):
        return due.weekday() < today.weekday() or due - today >= timedelta(days=7)
    if re.fullmatch(_NUM + r"[日号]", bare):
        return due.month != today.month or due.year != today.year
    return due.year != today.year and due.month >= today.month


def _is_past(lexicon: Lexicon, text: str, start: int, end: int, taken: list[Span],
             due: date, today: date) -> bool:
    """Whether a date tells when something happened, not when the rep will act: "周二见了",
    "上周三", or a bare day already past leading straight into who was seen ("周三李主任说…"
    on a Thursday)."""
    after = text[end:end + 6]
    if after.lstrip().startswith(lexicon.past_after):
        return True
    if ends_with_any(text[max(0, start - 4):start], lexicon.past_before) is not None:
        return True
    phrase = text[start:end]
    if not _BARE.fullmatch(phrase.strip()) or not _rolled(phrase, due, today):
        return False
    if re.search(r"月", phrase):
        return True  # 12月9日 written on the 10th: yesterday, not next year
    gap = len(text[end:]) - len(text[end:].lstrip(" 在去到和跟"))
    return any(span.start == end + gap for span in taken)


def _later_today(phrase: str, before: str, after: str) -> bool:
    """"今晚把视频发她", "今天下午提交报告", "约了星期四下午带同事过来": the rep acts later
    today. "今天去…", "今天下午去中医院…" tell when the visit was, and so does "今晚请李主任
    吃了顿火锅" (its clause tells what was done)."""
    if re.search(r"今晚|tonight", phrase, re.IGNORECASE):
        clause = _CLAUSE_END.split(after, maxsplit=1)[0]
        return _DONE.search(clause) is None
    if re.search(r"下午|晚上|傍晚", phrase) and re.search(r"(?:约了|约好|约)\s*$", before):
        return True
    later = _LATER_TODAY.match(after)
    return later is not None and "了" not in after[later.end() - 1:later.end() + 4]


def _a_name(text: str, start: int, end: int) -> bool:
    """"Sun" in "Prof. Sun" or "Sun Li" is a name, not Sunday."""
    word = text[start:end].strip()
    if not _ABBREVIATED_DAY.match(word):
        return False
    if _LATIN_TITLE_BEFORE.search(text[:start]):
        return True
    following = text[end:].lstrip()
    return bool(following) and ((word[:1].isupper() and following[:1].isupper())
                                or following[0] in "(@")


def _someone_returns(after: str) -> bool:
    """"下周四回来": someone else's return, unless the rep goes then ("…回来 到时候再去")."""
    back = _RETURN_AFTER.match(after)
    return back is not None and not _THEN.match(after[back.end():])


def _a_measurement(text: str, start: int, end: int) -> bool:
    """"12.5mg", "降到7.5了", "2.5片", "2/3的病人": a number in a note, not the day of a
    follow-up."""
    phrase = text[start:end].strip()
    if not _NUMERIC_DATE.match(phrase):
        return False
    if _UNIT_AFTER.match(text[end:]):
        return True
    if not _DOTTED_DATE.match(phrase):
        return False
    before, after = text[max(0, start - 6):start], text[end:]
    if _STRONG_BEFORE.search(before) or _SCHEDULED_IN.search(before) or _STRONG_AFTER.match(
            after):
        return False
    return _MEASURE_BEFORE.search(before) is not None


# a number written as a date and nothing more: "6.2", "6/2" (not "6.2号", "6.2之前")
_NUMERIC_ONLY = re.compile(r"[0-9]{1,2}[/.-][0-9]{1,2}")


def _a_lab_value(lexicon: Lexicon, text: str, start: int, end: int) -> bool:
    """"K+ 6.2", "血钾6.2", "Hb 9.5": a number right after a lab or vital name is its value,
    whatever follows it ("K+ 6.2 this morning"); "6.2号" there is still a day."""
    return bool(_NUMERIC_ONLY.fullmatch(text[start:end].strip())) and bool(
        lexicon.measured.search(text[max(0, start - 16):start]))


def _no_day(lexicon: Lexicon, text: str, start: int, end: int) -> bool:
    """What looks like a date at text[start:end] is a name ("Prof. Sun"), a dose or share
    ("12.5mg", "2/3的病人") or a lab value ("K+ 6.2")."""
    return (_a_name(text, start, end) or _a_measurement(text, start, end)
            or _a_lab_value(lexicon, text, start, end))


def _unsettled(phrase: str, after: str) -> bool:
    """"下周开科室会，时间待定": the note says the day is not fixed yet."""
    if _UNSETTLED.match(after):
        return True
    return bool(_PERIOD_ONLY.fullmatch(phrase.strip())) and bool(_UNSETTLED_LATER.match(after))


def _dates(lexicon: Lexicon, text: str, today: date, taken: list[Span]
           ) -> list[tuple[date, Span]]:
    found: list[tuple[date, Span]] = []
    vague = [m.span() for m in _VAGUE.finditer(text)]
    for match in _DATE.finditer(text):
        start, end = match.span()
        phrase = match.group().strip()
        if (any(s <= start < e for s, e in vague) or _no_day(lexicon, text, start, end)
                or _unsettled(phrase, text[end:])):
            continue
        due = _parse(phrase, today)
        if due is not None:
            due = _in_week_named(lexicon, text, start, phrase, due, today)
        if due is None or _is_past(lexicon, text, start, end, taken, due, today):
            continue
        if _someone_returns(text[end:]) or (_MOVED_FROM.search(text[max(0, start - 2):start])
                                            and _MOVED_TO_AFTER.match(text[end:])):
            continue
        if _NUMERIC_DATE.match(phrase) and (due - today).days > MAX_NUMERIC_AHEAD:
            continue
        if due == today and not _later_today(phrase, text[max(0, start - 4):start], text[end:]):
            continue  # today is when the visit was, unless the rep acts later today
        found.append((due, Span(start, end, phrase)))
    return found


# a weekday with nothing to say which week: "周四", "周五前", "Thu"
_BARE_WEEKDAY = re.compile(r"(?:(?:周|星期|礼拜|週)" + _WD + r"|(?:" + _WEEKDAYS + r")\.?)"
                           r"(?P<tail>" + _CN_TAIL + r")", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[。；;！!？?\n]|(?<=[a-z)])\.\s")


def _in_week_named(lexicon: Lexicon, text: str, start: int, phrase: str, due: date,
                   today: date) -> date:
    """A bare weekday in a sentence that already named a later week is that week's day:
    "下周三开会，改到周四" is next week's Thursday, "12月16号开会，改到周四" the 17th;
    "…周五前把资料发给他" the Friday before the meeting. Else `due` as read."""
    bare = _BARE_WEEKDAY.fullmatch(phrase)
    if bare is None:
        return due
    sentence = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    named = None
    for match in _DATE.finditer(text, sentence, start):
        if _BARE_WEEKDAY.fullmatch(match.group().strip()) or _no_day(lexicon, text,
                                                                       *match.span()):
            continue  # "Cr 1.3，…周五带过去": a value names no week
        day = _parse(match.group().strip(), today)
        if day is not None and not _PERIOD_ONLY.fullmatch(match.group().strip()):
            named = day
    this_week = today - timedelta(days=today.weekday())
    if named is None or named - timedelta(days=named.weekday()) <= this_week:
        return due
    day = named - timedelta(days=named.weekday() - due.weekday())
    if "前" in bare.group("tail") and day >= named and day - timedelta(days=7) > today:
        day -= timedelta(days=7)  # "下周三开会，周五前…": the Friday before it
    return day


_CHANGED_TO_EN = re.compile(r"(?<![A-Za-z])(?:moved|changed|pushed|switched|postponed)?\s*"
                            r"(?:it\s+)?to\s*$", re.IGNORECASE)
_INSTEAD = re.compile(r"^\s*(?:instead|rather)\b", re.IGNORECASE)


def _changed_to(text: str, span: Span) -> bool:
    """The day a plan was moved to: "改到周四", "moved … to Thu", "go Wed instead"."""
    return bool(_CHANGED_TO.search(text[max(0, span.start - 3):span.start])
                or _CHANGED_TO_EN.search(text[max(0, span.start - 12):span.start])
                or _INSTEAD.match(text[span.end:]))


def _clause(text: str, at: int) -> tuple[int, int]:
    start, end = 0, len(text)
    for match in _CLAUSE.finditer(text):
        if match.end() <= at:
            start = match.end()
        elif match.start() >= at:
            end = match.start()
            break
    return start, end


def has_action_cue(lexicon: Lexicon, text: str) -> bool:
    """Whether `text` says something the rep does (带, 送, 约, 再去, bring, follow up …)."""
    return _has_cue(lexicon, text)


def _has_cue(lexicon: Lexicon, text: str) -> bool:
    low = text.lower()
    chinese, latin = _cues(lexicon.action_cues)
    return any(cue in low for cue in chinese) or bool(latin and latin.search(low))


@lru_cache(maxsize=8)
def _cues(cues: tuple[str, ...]) -> tuple[tuple[str, ...], re.Pattern[str] | None]:
    """The action cues: Chinese ones found anywhere, Latin ones as whole words (one regex)."""
    chinese = tuple(c for c in cues if not c.isascii())
    latin = [re.escape(c) for c in cues if c.isascii()]
    pattern = re.compile(r"\b(?:" + "|".join(latin) + r")\b") if latin else None
    return chinese, pattern


_BARE_COUNT = re.compile(r"[一两二三几]?[趟次下回遍]")
_AGAIN = ("再", "再去", "再来")  # "让我下周二再约": the step is 再约
# who asked for the step, not the step: "让我下周二再约" is never "跟进：让我"
_ASKED_BY = re.compile(r"^(?:(?:他|她)?说?(?:让|叫|要|请)我|他说|她说|说|约了|约好|说好|定了)$")
_ASKED_LEAD = re.compile(r"^(?:(?:他|她)?说?(?:让|叫|要|请)我|(?:他|她)?说|约了|约好)")
# what to bring or do next to a bare step ("再约，要带病例数据"): said in the next clause
_WITH_IT = re.compile(r"^(?:顺便|同时|然后|到时候|到时|还要|还得|需要|要|得|再)*"
                      r"(?=带|把|送|发|准备|讲(?!课)|拿|补|交|递|演示)")
MAX_BARE_STEP = 4  # "再约", "再去一趟", "再约一次": short enough to want what goes with it


def _trim(lexicon: Lexicon, text: str) -> str:
    """Fillers off both ends: "让我再带点资料过去吧" → 带点资料过去."""
    text = text.strip(" :：-—,，.;")
    changed = True
    last_lead = ""
    while changed and text:
        changed = False
        low = text.lower()
        for filler in lexicon.action_fillers:
            ascii_word = filler.isascii()
            if low.startswith(filler) and (not ascii_word or low[len(filler):len(filler) + 1]
                                           in ("", " ")):
                last_lead = text[:len(filler)]
                text, changed = text[len(filler):].strip(" :：,，"), True
                break
            if low.endswith(filler) and filler in ("吧", "哈", "呢", "了", "啊", "哦") and (
                    len(text) > len(filler) + 1):
                text, changed = text[:-len(filler)].strip(" ,，"), True
                break
    text = _TRAILING_WORDS.sub("", text)
    if _BARE_COUNT.fullmatch(text) or (len(text) == 1 and last_lead in _AGAIN):
        text = last_lead + text  # "再去一趟" is the action, not "一趟"; "再约", not "约"
    return text[:MAX_ACTION].strip(" :：-—,，.;")


def _pieces(text: str, anchor: Span, taken: list[Span]) -> list[str]:
    """Where the action may be written, nearest first: the anchor's clause after it, before
    it, then the next and the previous clause."""
    start, end = _clause(text, anchor.start)
    pieces = [_without(text, anchor.end, end, taken), _without(text, start, anchor.start, taken)]
    if end < len(text):
        pieces.append(_without(text, end + 1, _clause(text, end + 1)[1], taken))
    if start > 0:
        previous = _clause(text, max(0, start - 2))
        pieces.append(_without(text, previous[0], previous[1], taken))
    return pieces


def _action(lexicon: Lexicon, text: str, anchor: Span, taken: list[Span]) -> str | None:
    """The clause that says what the rep will do: the first nearby one with an action cue
    (带, 送, 约, bring, send …); without any, what the anchor's own clause says, if short."""
    # "发消息说周五不行 改到下周一": how the customer got in touch is never the step
    raw = ["" if _reports_contact(lexicon, p) else p for p in _pieces(text, anchor, taken)]
    previous = 3 if _clause(text, anchor.start)[1] < len(text) else 2
    if len(raw) > previous and _DONE.search(raw[previous]):
        raw[previous] = ""  # "聊了心衰的数据，定了下周二病例讨论会": what was done is no step
    pieces = [_trim(lexicon, p) for p in raw]
    for index, (piece, untrimmed) in enumerate(zip(pieces, raw, strict=True)):
        found = None
        if index == 1 and piece and pieces[0] and _BARE_PLAN.fullmatch(piece):
            return f"{piece}{pieces[0]}"[:MAX_ACTION]  # "约|下周四|科室会": 约科室会
        if len(piece) >= 2 and _has_cue(lexicon, piece) and not _ASKED_BY.match(piece):
            found = piece
        elif not piece and _has_cue(lexicon, _ASKED_LEAD.sub("", untrimmed.strip())):
            found = untrimmed.strip(" ，,。.；;")[:MAX_ACTION] or None  # "后天再去": 再去
        if found is not None and index == 0:
            step = _with_object(text, anchor, taken, raw, found)
            ahead = _clause(text, anchor.start)[1] < len(text)  # raw[2] is the next clause
            return _with_what(raw[2], step) if ahead else step
        if found is not None and index == 1 and _TAKING.match(pieces[0]):
            # "come back next Tue with the cost comparison": what goes with it follows the day
            return f"{found} {pieces[0]}"[:MAX_ACTION]
        if found is not None:
            return found
    own = next((p for p in pieces[:2] if len(p) >= 2 and not _ASKED_BY.match(p)), None)
    if own is not None and own == pieces[0]:
        own = _with_object(text, anchor, taken, raw, own)
    # short, or a plan named after its day ("next Mon 开 department meeting")
    planned = own is not None and own == pieces[0] and _BARE_PLAN.match(own) is not None
    return own if own is not None and (len(own) <= 12 or planned) else None


# a clause telling what was done (聊了, 讲了一下, 送过, "went over", "discussed"): the visit
_DONE = re.compile(r"(?<![为除])了|(?<![去来])过(?![去来])|已经|"
                   r"(?<![A-Za-z])(?:went over|discussed|talked|showed|presented|gave|"
                   r"dropped off|met|saw|had|did|covered|explained|shared)(?![A-Za-z])",
                   re.IGNORECASE)
_CLAUSE_END = re.compile(r"[，,。；;！!？?\n]")
# a plan's verb alone before its date, the event after it: "约|下周四|科室会", "开|周五|科会"
_BARE_PLAN = re.compile(r"约|开|定|办|搞|book|set up|arrange", re.IGNORECASE)


def _reports_contact(lexicon: Lexicon, piece: str) -> bool:
    """"王主任发消息说周五不行", "回消息说": the words tell of a message or call
    (`contact` in the lexicon), not of what the rep will do."""
    low = piece.lower()
    return any(word in low for word, _ in lexicon.contact_words)


# what goes with a step said before the date, right after the date
_TAKING = re.compile(r"^(?:with|bringing|and bring|to bring|to drop off|to show)\b",
                     re.IGNORECASE)


def _with_what(following: str, step: str) -> str:
    """"让我下周二再约，要带病例数据" → 再约，带病例数据: a bare step right after the date
    takes what to bring or do from the `following` clause."""
    if len(step) > MAX_BARE_STEP:
        return step
    lead = _WITH_IT.match(following.strip(" ，,"))
    if lead is None:
        return step
    what = following.strip(" ，,。.；;")[lead.end():]
    return f"{step}，{what}"[:MAX_ACTION] if what else step


# a name right after these is whom the step goes to ("带资料给王主任", "发给他们科的刘主任",
# "再去找刘医生送样品资料", "bring it to Dr Wang"): it stays in the action; names elsewhere
# are shown on their own
_TO_SOMEONE = re.compile(r"(?:给[^，,。；;！!？?\s]{0,6}|找|(?<![A-Za-z])(?:to|for)\s+"
                         r"(?:the\s+)?)$", re.IGNORECASE)
_AND_SOMEONE = re.compile(r"^\s*(?:和|、|及|与|and)\s*$", re.IGNORECASE)


# a step that says how, not what: "发给她", "带给王主任", "送过去", "发她邮箱", "给他"
# ("带他去参观" takes him along: 他 is its object)
_NO_OBJECT = re.compile(r"^(?:(?:邮件|微信|短信|当面)?(?:(?:发|带|送|交|递|拿|寄|转|传)"
                        r"(?:给|过去|过来|到|一下)|(?:发|送|寄|转|传)(?:他|她))|给(?:他|她))")
# where the object starts in the words before the date: "把指南|下周发给她", "她要的|指南"
_OBJECT_AFTER = re.compile(r".*(?:把|将)|.*(?:要|想要|需要|问|提到|推荐|点名要)的")
_OBJECT_LEAD = re.compile(r"^(?:说|讲|让我|叫我|要我们的|要我们|要我|请我|我们的|我们|我|"
                          r"想要|需要|要|就|再|先|得|他|她|的|一份|一些|一点|一套|份)+")
_WANTED = re.compile(r"^(?:他|她)?(?:要的|想要的|点名要的|需要的)(?P<what>.{1,12})$")
MAX_OBJECT = 14
SAME_STEP = 0.6  # as alike as the labelled sets count two actions the same


def only_again(lexicon: Lexicon, action: str) -> bool:
    """Whether a next step says only that the rep goes again ("再去", "周四下午再去",
    "come back"), nothing of what for."""
    step = re.sub(r"^(?:上午|下午|中午|晚上|早上)", "", action.strip(" ，,。.").lower())
    return step in lexicon.only_again


# what says nothing of which step it is: "再", "把", "一下", "下午"
_STEP_NOISE = re.compile(r"^(?:上午|下午|中午|晚上|早上|再|先|把|去|过去|还要|要)+|[吧了哈啊呢]$")


def same_step(one: str, other: str) -> bool:
    """Whether two next steps are one ("送样品资料" and "再去送样品资料", "把指南发给她" and
    "发给她"): a new follow-up with the same step moves the open one, not a second reminder."""
    a, b = (_STEP_NOISE.sub("", s.strip(" ，,。.").lower()) for s in (one, other))
    if not a or not b:
        return False
    return a in b or b in a or SequenceMatcher(None, a, b).ratio() >= SAME_STEP


def moved_from(lexicon: Lexicon, text: str, today: date) -> list[date] | None:
    """A note that moves a date ("下周三他出门诊 改到周四下午", "改下下周一吧", "moved to
    Thu"): the other days it names (the old one, when said), else None: the note sets
    a step of its own."""
    found = _dates(lexicon, text, today, [])
    if not any(_changed_to(text, span) for _, span in found):
        return None
    return [due for due, span in found if not _changed_to(text, span)]


def names_no_object(action: str) -> bool:
    """Whether a next step says how but not what ("发给她", "送过去")."""
    return bool(_NO_OBJECT.match(action.strip()))


def _with_object(text: str, anchor: Span, taken: list[Span], raw: list[str],
                 action: str) -> str:
    """"把指南下周发给她" → 把指南发给她, not 发给她: the object said before the date goes
    with a step that names none; so does "要的PPT" said just before in its own words."""
    if not names_no_object(action):
        return action
    before = raw[1].strip(" ，,")
    start = _OBJECT_AFTER.match(before)
    if start is not None:
        whole = before[start.end():]
        thing = before[start.end() - 1:] if before[start.end() - 1] in "把将" else whole
    else:
        thing = _OBJECT_LEAD.sub("", before)
    if not thing.strip() and anchor.start > 0:  # "要的病例汇总 下周一发她邮箱"
        previous = _clause(text, max(0, _clause(text, anchor.start)[0] - 2))
        wanted = _WANTED.match(_without(text, *previous, taken).strip(" ，,"))
        thing = wanted["what"] if wanted else ""
    thing = thing.strip(" ，,").rstrip(" 0123456789")  # "…流程 1|月底前": the date's own digit
    if not thing or len(thing) > MAX_OBJECT or thing in ("把", "将"):
        return action
    return (thing + action)[:MAX_ACTION]


def _without(text: str, start: int, end: int, taken: list[Span]) -> str:
    """text[start:end] less the names and places in it (they are shown on their own), but
    not the person the step goes to."""
    pieces = []
    pos = start
    kept_end = -1
    for span in sorted(taken):
        if span.end <= start or span.start >= end:
            continue
        to_them = span.start > start and _TO_SOMEONE.search(text[start:span.start]) is not None
        if (to_them and not _has_break(text[start:span.start])) or (
                kept_end >= 0 and _AND_SOMEONE.match(text[kept_end:span.start])):
            kept_end = span.end
            continue
        pieces.append(text[pos:max(pos, span.start)])
        pos = max(pos, span.end)
    pieces.append(text[pos:end])
    return re.sub(r"[(（]\s*[)）]", "", "".join(pieces))


def _has_break(text: str) -> bool:
    """Whether the recipient marker is cut off from the name by a clause end."""
    marker = _TO_SOMEONE.search(text)
    return marker is None or bool(_CLAUSE.search(text[marker.start():]))


# "没有下一步", "no next step": the note says there is none
_NONE_BEFORE = re.compile(r"(?:没有|没|无|暂无|还没有|\bno)\s*$", re.IGNORECASE)


def _undated(lexicon: Lexicon, text: str) -> Span | None:
    low = text.lower()
    for word in lexicon.undated:
        at = low.find(word)
        if at >= 0 and _NONE_BEFORE.search(low[:at]):
            continue
        if at >= 0 and (not word.isascii() or re.search(r"\b" + re.escape(word) + r"\b", low)):
            return Span(at, at + len(word), text[at:at + len(word)])
    return None


def find_followup(lexicon: Lexicon, text: str, today: date,
                  taken: list[Span] | None = None) -> FollowUp:
    """The follow-up a note announces; fields are None when the note says nothing of it.
    Of several dates, the one in a clause saying what the rep will do wins ("下周二药事会，
    让我周一把资料补齐" → 周一)."""
    spans = list(taken or [])
    dates = _dates(lexicon, text, today, spans)
    later = [(due, span) for due, span in dates if due != today]
    dates = later or dates  # a later date in the note is the follow-up, not "today"
    strong = [(due, span) for due, span in dates
              if _STRONG_BEFORE.search(text[max(0, span.start - 4):span.start])
              or _STRONG_AFTER.match(text[span.end:])]
    dates = strong or dates
    mine = [(due, span) for due, span in dates
            if _REP_SUBJECT.search(_without(text, *_clause(text, span.start), spans))]
    dates = mine if len(mine) < len(dates) and mine else dates
    # "下个月…4.10": a day beats a week or a month; "周三门诊人多 改周四": the new day wins
    specific = [(due, span) for due, span in dates
                if not _PERIOD_ONLY.fullmatch(span.value.strip())]
    dates = specific or dates
    changed = [(due, span) for due, span in dates if _changed_to(text, span)]
    dates = changed or dates
    cued = [(due, span) for due, span in dates
            if _has_cue(lexicon, _without(text, *_clause(text, span.start), spans))]
    dates = cued or [(due, span) for due, span in dates
                     if not _THEIR_PLAN.search(text[max(0, span.start - 4):span.start])]
    if dates:
        due, span = dates[0]
        # "药事会定在12月22号，新药申请要提前两周交": the step is due two weeks before the day
        ending = _SENTENCE_END.search(text, span.end)
        ahead = lead_time(text[span.end:ending.start() if ending else len(text)])
        off_day = None
        if ahead is not None and due - ahead >= today:
            # a working deadline: on a day off, the reminder comes the working day before
            due = working_day_by(due - ahead, today)
            off_day = None if due == dates[0][0] - ahead else dates[0][0] - ahead
        return FollowUp(due, span.value, _action(lexicon, text, span, [*spans, span]),
                        off_day)
    marker = _undated(lexicon, text)
    if marker is not None:
        return FollowUp(None, None, _action(lexicon, text, marker, [*spans, marker]))
    return FollowUp(None, None, None)


def dates_in(lexicon: Lexicon, text: str, today: date) -> list[tuple[date, Span]]:
    """Every date `text` names ahead of `today` (or on it), read as a note's follow-up
    dates are, with where it is written: for readers that must tie a date to the words
    around it (a hospital event's day, coach/actions/events.py)."""
    return _dates(lexicon, text, today, [])
