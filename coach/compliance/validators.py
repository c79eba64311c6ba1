"""Checksum validators that rules.yaml names with `validator:`; each takes the matched text.

A validator sees the raw match (separators included) and says whether it is really the kind of
number the rule is after. They are pure functions of the digits, so they are easy to test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Validator = Callable[[str], bool]

# Province-level prefixes of resident ID numbers (GB 11643 / GB/T 2260): mainland provinces,
# plus 71 (Taiwan), 81 (Hong Kong), 82 (Macao) and 83 (Taiwan residents' permits).
_ID_PROVINCES = frozenset({
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
})
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"


def _digits(text: str) -> str:
    """The decimal digits of `text` as ASCII (full-width digits included), other chars dropped."""
    return "".join(str(int(ch)) for ch in text if ch.isdecimal())


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        born = dt.date(year, month, day)
    except ValueError:
        return False
    return born <= dt.date.today()


def id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits of an ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def id_card_checksum(text: str) -> bool:
    """An 18-character resident ID: province, a real birth date and a matching check char."""
    compact = "".join(ch for ch in text if not ch.isspace())
    if len(compact) != 18:
        return False
    body, check = _digits(compact[:17]), compact[17].upper()
    if len(body) != 17 or not (check == "X" or check.isdecimal()):
        return False
    if check != "X":
        check = str(int(check))
    if body[:2] not in _ID_PROVINCES:
        return False
    if not _valid_date(int(body[6:10]), int(body[10:12]), int(body[12:14])):
        return False
    return id_check_char(body) == check


def id_card_shape(text: str) -> bool:
    """An 18-character resident ID whose check character may be mistyped: province and a
    real birth date. A typo in someone's ID number still identifies them."""
    digits = _digits(text[:-1])
    check = text.rstrip()[-1:].upper()
    if len(digits) != 17 or not (check == "X" or check.isdecimal()):
        return False
    if digits[:2] not in _ID_PROVINCES:
        return False
    return _valid_date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))


def card_length(text: str) -> bool:
    """16 to 19 digits, not all the same: a card number, whatever its checksum."""
    digits = _digits(text)
    return 16 <= len(digits) <= 19 and len(set(digits)) > 1


def id_card_15(text: str) -> bool:
    """A 15-digit first-generation ID (before 1999): province and a real 19yy birth date."""
    digits = _digits(text)
    if len(digits) != 15 or digits[:2] not in _ID_PROVINCES:
        return False
    return _valid_date(1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12]))


def luhn(text: str) -> bool:
    """A bank card number: 16 to 19 digits whose Luhn (mod 10) checksum holds."""
    digits = _digits(text)
    if not 16 <= len(digits) <= 19 or len(set(digits)) == 1:
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


VALIDATORS: dict[str, Validator] = {
    "id_card_checksum": id_card_checksum,
    "id_card_15": id_card_15,
    "id_card_shape": id_card_shape,
    "card_length": card_length,
    "luhn": luhn,
}
