"""Follow-up dates as reps type them on a phone: "下周三", "3天后", "12月5号", "next wed".

A rep answering "when will you follow up?" types whatever is fastest, mostly Chinese, sometimes
English, often with stray spaces, full-width digits or a trailing 之后/以后. A date picker would
cost them three taps per visit, so `parse_due_date` turns the free text into a date relative
to the rep's own `today` (the caller passes it, so the parser is pure and tests are
deterministic) and returns None for anything it cannot read with confidence; the step then
asks again rather than guess.

Rules, chosen so that a parsed due date is never in the past:

* Weeks run Monday to Sunday (the Chinese convention).
* "下周三" / "下星期三" / "下礼拜三" / "next wednesday": Wednesday of next week. On a Sunday
  that is three days away, because Sunday closes the current week.
* Bare weekday, "这周五" / "本周五" / "this friday" / "friday" / "fri": the day in the current
  week if it is today or still ahead, otherwise its next occurrence (one week later). A
  weekday that is already past this week therefore means the coming one, never a past date.
* "下周" / "next week" alone: Monday of next week, the start of the window the rep named,
  so the reminder comes early enough to plan the visit.
* "周末" / "weekend": Saturday of this week (today if it is Sunday); "下周末": next week's.
* "下个月" / "next month": the same day next month, clamped to that month's last day
  (January 31 → February 28). "N个月后" / "in N months" likewise.
* "月底" / "end of month": the last day of the current month; "下月初": the 1st of next month.
* A part of a month: "3月底" / "明年3月底" its last day, "3月初" the 1st, "3月中" / "中旬" the
  15th, "下旬" the 21st, of the named month this year if still ahead, else next year's (or
  the year 明年 / 后年 names); "下个月中" / "月中" of that month. "年底" / "年末": 31 December
  ("明年年底" next year's); "明年初": 1 January next year. /plan target dates and notes
  read these alike.
* Month and day without a year ("12月5日", "12-05", "12/5", "12.5", "Dec 5", "5 Dec"): the next
  occurrence on or after today, rolling into next year (or the next leap year for 2月29日).
  Numeric forms are always month first, as in China and the US.
* Day of month alone ("5号", "5日"): this month if not past, else the next month that has it.
* A full date ("2026-12-05", "2026年12月5日", "5 Dec 2026") is taken literally, but a date
  before today yields None: a follow-up cannot be due in the past. Nor can it be due more
  than ten years ahead ("9999个月后"), which is a typo, not a plan.
* "N天后" / "N日后" / "N天" / "过N天" / "in N days" / "N days": today + N; "N周后" /
  "N个星期后" / "in N weeks" / "N weeks": today + 7N. Note "N日" alone is a day of month.
* Holidays (`coach/holidays.py`, table in `coach/holidays.yaml`): "元旦" / "春节" the festival
  day; "春节后" / "元旦后第一个工作日" / "过完年" / "after CNY" the first working day after
  its days off; "春节前" / "年前" the last working day before them.
* Trailing 之后/以后, a time of day (下午, 3点, 10:30, "at 3pm", "morning") and trailing
  punctuation are ignored, as are leading "on"/"by"/"due"/"before"/"在"/"到". "周五之前" /
  "before friday" mean that day, but "3天前" is in the past and yields None.

Chinese numerals 一..十, 两 and 十一..三十一 (also 二十, 二十五 …) are read wherever a number
is expected; full-width digits are normalised (NFKC) first.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable
from datetime import date, timedelta
from typing import TypeAlias

from coach.holidays import holiday_date

__all__ = ["DATE_EXAMPLES", "parse_due_date"]

DATE_EXAMPLES: tuple[str, ...] = (
    "明天",
    "后天",
    "下周三",
    "周五",
    "3天后",
    "两周后",
    "下个月",
    "月底",
    "12月5日",
    "2026-12-05",
    "tomorrow",
    "next wednesday",
    "in 3 days",
    "Dec 5",
)
"""Short inputs `parse_due_date` accepts, for help texts ("try 明天, 下周三, 12月5日 …").

The tests parse every one of them, so a help message built from this tuple cannot promise a
form the parser has stopped understanding.
"""

_MAX_INPUT = 64  # nobody types a date in more; longer text is a sentence, not a date
_MAX_DAYS_AHEAD = 10 * 366  # "9999个月后" is a typo or a joke, not a follow-up

_CN_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
_NUM = r"(?:[0-9]{1,4}|[零〇一二两三四五六七八九十]{1,3})"
_EN_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fourteen": 14, "twenty": 20, "thirty": 30, "a couple of": 2, "couple of": 2,
}
_EN_NUM = r"(?:[0-9]{1,4}|" + "|".join(sorted(map(re.escape, _EN_NUMBERS), key=len,
                                               reverse=True)) + ")"

_CN_WEEKDAYS = {
    "一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6,
    "1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6,
}
_EN_WEEKDAYS = {
    "monday": 0, "mon": 0,
    "tuesday": 1, "tue": 1, "tues": 1,
    "wednesday": 2, "wed": 2, "weds": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3,
    "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}
_EN_WEEKDAY = "|".join(sorted(_EN_WEEKDAYS, key=len, reverse=True))
_EN_MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3,
    "april": 4, "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7,
    "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10,
    "november": 11, "nov": 11, "december": 12, "dec": 12,
}
_EN_MONTH = "|".join(sorted(_EN_MONTHS, key=len, reverse=True))

_TRAILING_PUNCTUATION = re.compile(r"[\s。.!?,;:~、…]+$")
# A time of day after the date: "明天下午3点半", "周五 10:30", "tomorrow at 3pm".
_CN_CLOCK = re.compile(
    r"(?:[0-9]{1,2}[:：][0-9]{2}|" + _NUM + r"点(?:半|钟|" + _NUM + r"分?)?)$"
)
_CN_DAYPART = re.compile(r"(?:上午|下午|中午|早上|早晨|晚上|傍晚|凌晨|夜里|白天|早|晚)$")
_EN_TIME = re.compile(
    r"\s+(?:at\s+[0-9]{1,2}(?::[0-9]{2})?\s*(?:am|pm)?"
    r"|[0-9]{1,2}(?::[0-9]{2})?\s*(?:am|pm)|[0-9]{1,2}:[0-9]{2}"
    r"|(?:in\s+the\s+)?(?:morning|afternoon|evening|night|noon))$"
)
_CN_LEADING = re.compile(r"^(?:在|到|于)")
_EN_LEADING = re.compile(r"^(?:on|by|due|until|till|before)\s+")
_CN_BEFORE = re.compile(r"(?:之前|以前|前)$")
_BARE_DAY = re.compile(_NUM + r"日")


def _cn_or_arabic(token: str) -> int | None:
    """Value of "12", "十二", "两", "二十五"; None for malformed numerals such as "十十"."""
    if token.isascii() and token.isdigit():
        return int(token)
    if "十" not in token:
        return _CN_DIGITS.get(token) if len(token) == 1 else None
    tens_part, _, ones_part = token.partition("十")
    if "十" in ones_part or len(tens_part) > 1 or len(ones_part) > 1:
        return None
    if tens_part in ("两", "零", "〇") or ones_part in ("两", "零", "〇"):
        return None
    tens = 1 if not tens_part else _CN_DIGITS.get(tens_part)
    ones = 0 if not ones_part else _CN_DIGITS.get(ones_part)
    if tens is None or ones is None:
        return None
    return tens * 10 + ones


def _en_number(token: str) -> int | None:
    """Value of "3" or "three"; the regexes only hand over tokens from `_EN_NUM`."""
    if token.isascii() and token.isdigit():
        return int(token)
    return _EN_NUMBERS.get(token)


def _add_months(day: date, months: int) -> date:
    """Same day `months` later, clamped to the last day of a shorter month."""
    year, month_index = divmod(day.month - 1 + months, 12)
    year += day.year
    month = month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _monday(today: date) -> date:
    return today - timedelta(days=today.weekday())


def _this_or_next(today: date, weekday: int) -> date:
    """This week's `weekday` if it is today or ahead, else the same weekday next week."""
    day = _monday(today) + timedelta(days=weekday)
    return day if day >= today else day + timedelta(days=7)


def _next_week(today: date, weekday: int, weeks: int = 1) -> date:
    return _monday(today) + timedelta(days=7 * weeks + weekday)


def _weekend(today: date, weeks: int) -> date:
    if weeks == 0 and today.weekday() == 6:
        return today
    return _next_week(today, 5, weeks)


def _next_month_day(today: date, month: int, day: int) -> date | None:
    """The next date on or after today with this month and day, or None if none exists."""
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    for year in range(today.year, today.year + 9):  # 2月29日 may wait up to eight years
        if day <= calendar.monthrange(year, month)[1]:
            candidate = date(year, month, day)
            if candidate >= today:
                return candidate
    return None


def _next_day_of_month(today: date, day: int) -> date | None:
    """Day `day` of this month if not past, else of the next month that has such a day."""
    if not 1 <= day <= 31:
        return None
    for offset in range(13):
        first = _add_months(today.replace(day=1), offset)
        if day <= calendar.monthrange(first.year, first.month)[1]:
            candidate = first.replace(day=day)
            if candidate >= today:
                return candidate
    return None


def _full_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _steps_ahead(prefix: str | None) -> int:
    """0 for none/这/本/this, 1 for 下/next, 2 for 下下."""
    if not prefix:
        return 0
    return prefix.count("下") or (1 if prefix.startswith("next") else 0)


_Builder: TypeAlias = Callable[[re.Match[str], date], date | None]
_Rule: TypeAlias = tuple[re.Pattern[str], _Builder]


def _days(count: int | None, today: date, unit: int = 1) -> date | None:
    return None if count is None else today + timedelta(days=count * unit)


def _months(count: int | None, today: date) -> date | None:
    return None if count is None else _add_months(today, count)


def _cn_weekday(match: re.Match[str], today: date) -> date | None:
    weeks = _steps_ahead(match["pre"])
    weekday = _CN_WEEKDAYS[match["wd"]]
    return _next_week(today, weekday, weeks) if weeks else _this_or_next(today, weekday)


def _en_weekday(match: re.Match[str], today: date) -> date | None:
    weekday = _EN_WEEKDAYS[match["wd"]]
    if match["pre"] == "next":
        return _next_week(today, weekday)
    return _this_or_next(today, weekday)


def _cn_month_day(match: re.Match[str], today: date) -> date | None:
    month, day = _cn_or_arabic(match["m"]), _cn_or_arabic(match["d"])
    if month is None or day is None:
        return None
    return _next_month_day(today, month, day)


def _cn_full(match: re.Match[str], today: date) -> date | None:
    month, day = _cn_or_arabic(match["m"]), _cn_or_arabic(match["d"])
    if month is None or day is None:
        return None
    return _full_date(int(match["y"]), month, day)


def _cn_day_of_month(match: re.Match[str], today: date) -> date | None:
    day = _cn_or_arabic(match["d"])
    return None if day is None else _next_day_of_month(today, day)


_PART_DAY = {"初": 1, "上旬": 1, "中": 15, "中旬": 15, "下旬": 21}  # 底 / 末: the last day


def _part_of_month(first: date, part: str) -> date:
    """The day a part of the month names: 初 the 1st, 中 the 15th, 下旬 the 21st, 底 the
    last."""
    return _month_end(first) if part in ("底", "末") else first.replace(day=_PART_DAY[part])


def _cn_month_part(match: re.Match[str], today: date) -> date | None:
    """"3月底", "明年3月初", "今年6月中", "下个月中": a part of a named month, this year's if
    still ahead (else next year's), or the year 明年 / 后年 names."""
    part = match["part"]
    if "m" not in match.groupdict():  # "下个月中", "月中"
        return _part_of_month(_add_months(today.replace(day=1), _steps_ahead(match["rel"])),
                              part)
    month = _cn_or_arabic(match["m"])
    if month is None or not 1 <= month <= 12:
        return None
    ahead = {"明年": 1, "后年": 2, "今年": 0}.get(match["y"] or "")
    day = _part_of_month(date(today.year + (ahead or 0), month, 1), part)
    if ahead is None and day < today:
        day = _part_of_month(date(today.year + 1, month, 1), part)
    return day


def _cn_year_part(match: re.Match[str], today: date) -> date | None:
    """"年底" / "年末" / "年终": 31 December of this year (明年年底, 明年底: of the next);
    "明年初": 1 January of the next year."""
    year = today.year + {"明年": 1, "后年": 2}.get(match["y"] or "", 0)
    if match["part"] == "初":  # "年初" said in the year is next January
        return date(year, 1, 1) if match["y"] or today == date(year, 1, 1) \
            else date(year + 1, 1, 1)
    return date(year, 12, 31)


def _cn_day_of_named_month(match: re.Match[str], today: date) -> date | None:
    """"下个月20号", "这个月28日", "下下个月的5号": that day of the month named; None for a
    day the month does not have."""
    month = _add_months(today.replace(day=1), _steps_ahead(match["pre"]))
    day = _cn_or_arabic(match["d"])
    if day is None or not 1 <= day <= calendar.monthrange(month.year, month.month)[1]:
        return None
    return month.replace(day=day)


def _en_month_day(match: re.Match[str], today: date) -> date | None:
    month, day = _EN_MONTHS[match["mon"]], int(match["d"])
    if match["y"]:
        return _full_date(int(match["y"]), month, day)
    return _next_month_day(today, month, day)


# Anchors name a day; offsets count from today. Only anchors may take "之前" ("周五之前" is
# Friday, "3天之前" is three days ago).
_CN_ANCHORS: list[_Rule] = [
    (re.compile(r"今天|今日|今儿|今早|今晚|今儿个"), lambda m, t: t),
    (re.compile(r"明天|明日|明早|明晚|明儿|明儿个"), lambda m, t: t + timedelta(days=1)),
    (re.compile(r"后天|后日|後天"), lambda m, t: t + timedelta(days=2)),
    (re.compile(r"大后天|大後天"), lambda m, t: t + timedelta(days=3)),
    (re.compile(r"(?P<pre>下下个?|下个?|这个?|本)?(?:周|星期|礼拜|週)(?P<wd>[一二三四五六日天七1-7])"),
     _cn_weekday),
    (re.compile(r"(?P<pre>下下个?|下个?)(?:周|星期|礼拜|週)"),
     lambda m, t: _next_week(t, 0, _steps_ahead(m["pre"]))),
    (re.compile(r"(?P<pre>下下个?|下个?|这个?|本)?(?:周末|週末)"),
     lambda m, t: _weekend(t, _steps_ahead(m["pre"]))),
    (re.compile(r"(?P<y>明年|今年|后年)?(?P<m>" + _NUM
                + r")月份?(?P<part>底|末|初|中|上旬|中旬|下旬)"),
     _cn_month_part),
    (re.compile(r"(?P<rel>下下个?|下个?|这个?|本)?月(?P<part>中|上旬|中旬|下旬)"), _cn_month_part),
    (re.compile(r"(?P<y>明年|后年|今年)?年(?P<part>底|末|终|初)"), _cn_year_part),
    (re.compile(r"(?P<y>明年|后年)(?P<part>底|末|初)"), _cn_year_part),
    (re.compile(r"(?:这个?|本)?月(?:底|末)"), lambda m, t: _month_end(t)),
    (re.compile(r"下个?月(?:底|末)"), lambda m, t: _month_end(_add_months(t, 1))),
    (re.compile(r"下个?月初"), lambda m, t: _add_months(t.replace(day=1), 1)),
    (re.compile(r"(?P<pre>下下个?|下个?|这个?|本)月的?(?P<d>" + _NUM + r")[日号]"),
     _cn_day_of_named_month),
    (re.compile(r"(?P<pre>下下个?|下个?)月"), lambda m, t: _add_months(t, _steps_ahead(m["pre"]))),
    (re.compile(r"(?P<y>[0-9]{4})年(?P<m>" + _NUM + r")月(?P<d>" + _NUM + r")[日号]?"), _cn_full),
    (re.compile(r"(?P<y>[0-9]{4})[-/.](?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})"), _cn_full),
    (re.compile(r"(?P<m>" + _NUM + r")月(?P<d>" + _NUM + r")[日号]?"), _cn_month_day),
    (re.compile(r"(?P<m>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})"), _cn_month_day),
    (re.compile(r"(?P<d>" + _NUM + r")[日号]"), _cn_day_of_month),
]

_CN_OFFSETS: list[_Rule] = [
    (re.compile(r"过?(?P<n>" + _NUM + r")天后?"), lambda m, t: _days(_cn_or_arabic(m["n"]), t)),
    (re.compile(r"过?(?P<n>" + _NUM + r")日后"), lambda m, t: _days(_cn_or_arabic(m["n"]), t)),
    (re.compile(r"过?(?P<n>" + _NUM + r")个?(?:周|星期|礼拜|週)后?"),
     lambda m, t: _days(_cn_or_arabic(m["n"]), t, 7)),
    (re.compile(r"过?(?P<n>" + _NUM + r")个月后?"), lambda m, t: _months(_cn_or_arabic(m["n"]), t)),
    (re.compile(r"半个月后?"), lambda m, t: t + timedelta(days=15)),
]

_EN_ANCHORS: list[_Rule] = [
    (re.compile(r"today|tonight|this (?:morning|afternoon|evening)"), lambda m, t: t),
    (re.compile(r"tomorrow|tmr|tmrw|tomorow|tommorow"), lambda m, t: t + timedelta(days=1)),
    (re.compile(r"(?:the )?day after tomorrow|overmorrow"), lambda m, t: t + timedelta(days=2)),
    (re.compile(r"(?:(?P<pre>next|this) )?(?P<wd>" + _EN_WEEKDAY + r")\.?"), _en_weekday),
    (re.compile(r"next week"), lambda m, t: _next_week(t, 0)),
    (re.compile(r"(?:(?P<pre>next|this) )?weekend"),
     lambda m, t: _weekend(t, 1 if m["pre"] == "next" else 0)),
    (re.compile(r"next month"), lambda m, t: _add_months(t, 1)),
    (re.compile(r"(?:the )?end of (?:the |this )?month|month end|eom"),
     lambda m, t: _month_end(t)),
    (re.compile(r"(?:the )?end of next month"), lambda m, t: _month_end(_add_months(t, 1))),
    (re.compile(r"(?P<mon>" + _EN_MONTH + r")\.? (?P<d>[0-9]{1,2})(?:st|nd|rd|th)?"
                r"(?:,? (?P<y>[0-9]{4}))?"), _en_month_day),
    (re.compile(r"(?:the )?(?P<d>[0-9]{1,2})(?:st|nd|rd|th)? (?:of )?(?P<mon>" + _EN_MONTH
                + r")\.?(?:,? (?P<y>[0-9]{4}))?"), _en_month_day),
]

_EN_OFFSETS: list[_Rule] = [
    (re.compile(r"(?:in |after )?(?P<n>" + _EN_NUM + r") days?(?: later| from (?:now|today))?"),
     lambda m, t: _days(_en_number(m["n"]), t)),
    (re.compile(r"(?:in |after )?(?P<n>" + _EN_NUM + r") weeks?(?: later| from (?:now|today))?"),
     lambda m, t: _days(_en_number(m["n"]), t, 7)),
    (re.compile(r"(?:in |after )?(?P<n>" + _EN_NUM + r") months?(?: later| from (?:now|today))?"),
     lambda m, t: _months(_en_number(m["n"]), t)),
]


def _apply(rules: list[_Rule], text: str, today: date) -> date | None:
    for pattern, build in rules:
        match = pattern.fullmatch(text)
        if match:
            return build(match, today)
    return None


def _strip_suffixes(text: str, patterns: tuple[re.Pattern[str], ...]) -> str:
    """Peel time-of-day words off the end until none is left ("明天下午3点" → "明天")."""
    while True:
        for pattern in patterns:
            stripped = pattern.sub("", text).rstrip()
            if stripped and stripped != text:
                text = stripped
                break
        else:
            return text


def _parse_chinese(compact: str, today: date) -> date | None:
    compact = _CN_LEADING.sub("", compact)
    compact = re.sub(r"(?:之后|以后|过后)$", "后", compact)
    candidates = [compact, _strip_suffixes(compact, (_CN_CLOCK, _CN_DAYPART))]
    for text in candidates:
        found = (holiday_date(text, today) or _apply(_CN_OFFSETS, text, today)
                 or _apply(_CN_ANCHORS, text, today))
        if found is None and text.endswith("后"):
            found = _apply(_CN_ANCHORS, text[:-1], today)  # "明天以后" → 明天
        if found is None and _CN_BEFORE.search(text):
            anchor = _CN_BEFORE.sub("", text)  # "周五之前" → 周五; "3日前" is 3 days ago
            if not _BARE_DAY.fullmatch(anchor):
                found = _apply(_CN_ANCHORS, anchor, today)
        if found is not None:
            return found
    return None


def _parse_english(spaced: str, today: date) -> date | None:
    spaced = _EN_LEADING.sub("", spaced)
    for text in (spaced, _strip_suffixes(spaced, (_EN_TIME,))):
        found = _apply(_EN_OFFSETS, text, today) or _apply(_EN_ANCHORS, text, today)
        if found is not None:
            return found
    return None


_LEAD_UNITS = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7, "月": 30,
               "day": 1, "week": 7, "month": 30}
# "提前两周交", "要提前3天报", "两周前交" after the event's date; "two weeks before",
# "3 days in advance", "a week ahead"
# said of what is due (要/得/需要 before it, or a handing-in verb after it): not "病人提前两周
# 出院了"
_LEAD_ZH = re.compile(r"(?:(?:要|得|需要|须|必须|应该|最好)\s*提前\s*(?P<n>" + _NUM
                      + r")?\s*个?(?P<unit>天|日|周|星期|礼拜|月)|提前\s*(?P<n2>" + _NUM
                      + r")?\s*个?(?P<unit2>天|日|周|星期|礼拜|月)\s*(?:把[^，。；,;]{0,10})?"
                      r"(?:交|报|提交|申请|准备|报名|送|递|上报|预约|约|通知|登记|备好|发|去|过去))")
_LEAD_EN = re.compile(r"\b(?P<n>" + _EN_NUM + r")\s+(?P<unit>day|week|month)s?\s+"
                      r"(?:before|ahead|in advance|earlier)\b", re.IGNORECASE)


def lead_time(text: str) -> timedelta | None:
    """How long before a dated event something is due, as a note says it: "新药申请要提前两周
    交" (14 days), "提前一个月报名", "papers due two weeks before". None when `text` says
    no such length ("提前交" says nothing of how long)."""
    zh = _LEAD_ZH.search(text)
    if zh is not None:
        number, unit = zh.group("n") or zh.group("n2"), zh.group("unit") or zh.group("unit2")
        count = _cn_or_arabic(number) if number else 1
        return timedelta(days=count * _LEAD_UNITS[unit]) if count else None
    en = _LEAD_EN.search(text)
    if en is not None:
        count = _en_number(en.group("n").lower())
        return timedelta(days=count * _LEAD_UNITS[en.group("unit").lower()]) if count else None
    return None


def parse_due_date(text: str, today: date) -> date | None:
    """The follow-up date a rep typed, relative to `today`, or None if it is not one.

    See the module docstring for the accepted forms and the rules for ambiguous ones. Never
    raises, and never returns a date before `today` or more than ten years after it, so the
    caller can store the result as is or re-ask on None.
    """
    try:
        if not isinstance(text, str) or len(text) > _MAX_INPUT:
            return None
        normalised = unicodedata.normalize("NFKC", text).lower().strip()
        normalised = _TRAILING_PUNCTUATION.sub("", normalised)
        if not normalised:
            return None
        spaced = re.sub(r"\s+", " ", normalised)
        compact = re.sub(r"\s+", "", normalised)
        found = _parse_chinese(compact, today) or _parse_english(spaced, today)
    except (ValueError, OverflowError):  # absurd offsets such as "99999个月后"
        return None
    if found is None or found < today or (found - today).days > _MAX_DAYS_AHEAD:
        return None
    return found
