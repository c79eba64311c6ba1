"""Focused tests of coach.compliance: validators, redaction, 统方, adverse events, flags,
the rules file's error reports, the prefilter's soundness and properties on random text."""

from __future__ import annotations

import re
import string
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach.compliance import CATEGORIES, Guard, GuardConfigError, GuardResult, load_guard
from coach.compliance.normalise import normalise_text
from coach.compliance.prefilter import at_word_boundary, fast_start, fold, needs_of
from coach.compliance.validators import id_card_15, id_card_checksum, id_check_char, luhn

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "playbooks" / "compliance" / "rules.yaml"


@pytest.fixture(scope="module")
def guard() -> Guard:
    return load_guard(RULES)


def kinds(result: GuardResult) -> list[str]:
    return [r.kind for r in result.redactions]


# --- validators -------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [
    "11010519491231002X", "11010519491231002x", "110101199003078515", "370102198507153419",
    "440304197805121236", "320502196201010064", "510107199511204322",
])
def test_valid_id_cards(number: str) -> None:
    assert id_card_checksum(number)


@pytest.mark.parametrize("number", [
    "110101199003078516",   # wrong check digit
    "11010519491231002Y",   # not a check character
    "110101199013078515",   # month 13
    "990101199003078510",   # no such province
    "11010119900307851",    # 17 characters
    "110101209912310014",   # born in the future
])
def test_invalid_id_cards(number: str) -> None:
    assert not id_card_checksum(number)


def test_id_check_char_is_iso_7064_mod_11_2() -> None:
    # GB 11643-1999 worked example
    assert id_check_char("11010519491231002") == "X"
    body = "44030419780512123"
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(body))
    assert id_check_char(body) == "10X98765432"[total % 11]


def test_id_card_with_spaces_and_full_width_digits() -> None:
    assert id_card_checksum("440304 19780512 1236".replace(" ", ""))
    assert id_card_checksum("１１０１０１１９９００３０７８５１５")


def test_old_15_digit_id() -> None:
    assert id_card_15("370102850715341")
    assert not id_card_15("370102851315341")  # month 13
    assert not id_card_15("990102850715341")  # province


@pytest.mark.parametrize(("number", "valid"), [
    ("6222021234567890128", True), ("6228480012345671", True), ("6225 8801 2345 6783", True),
    ("4111111111111111", True), ("6222021234567890127", False), ("4111111111111112", False),
    ("411111111111111", False),   # 15 digits
    ("0000000000000000", False),  # Luhn-valid but not a card
])
def test_luhn(number: str, valid: bool) -> None:
    assert luhn(number) is valid


# --- personal data ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "电话13812345678", "手机 138 1234 5678", "手机：138-1234-5678", "+86 138 1234 5678",
    "+8613812345678", "0086 13812345678", "(+86)13812345678", "（86）13812345678",
    "8613812345678", "call 19912345678.", "１３８１２３４５６７８",
])
def test_mobile_formats_are_redacted(guard: Guard, text: str) -> None:
    result = guard.check(text)
    assert kinds(result) == ["mobile"]
    assert "[手机号/phone]" in result.redacted
    assert not re.search(r"\d{4}", result.redacted)


@pytest.mark.parametrize("text", [
    "每日2次，每次5mg", "批号20231105", "2023-12-05 14:30", "订单号113812345678",
    "12812345678", "共1381234567盒", "HbA1c 7.8%", "400-820-1234", "科室有138张床",
    "中标价13.8元", "1381234567",
])
def test_numbers_that_are_not_personal_data(guard: Guard, text: str) -> None:
    assert guard.check(text).redactions == ()


@pytest.mark.parametrize(("text", "kind"), [
    ("身份证11010519491231002X", "id_card"),
    ("身份证 440304 19780512 1236", "id_card"),
    ("老身份证370102850715341", "id_card"),
    ("卡号6222021234567890128", "bank_card"),
    ("卡号 6228 4800 1234 5671", "bank_card"),
    ("邮箱li.ming@hospital.cn，", "email"),
    ("电话0531-86123456转8021", "landline"),
    ("电话(010)65123456", "landline"),
    ("住院号：2023008812", "patient_id"),
    ("MRN 20231234", "patient_id"),
    ("患者张某某", "patient_name"),
    ("病人王小明说", "patient_name"),
    ("patient Zhang San came back", "patient_name"),
])
def test_each_kind_and_its_placeholder(guard: Guard, text: str, kind: str) -> None:
    result = guard.check(text)
    assert kinds(result) == [kind]
    assert guard.placeholders[kind] in result.redacted


def test_invalid_checksums_are_not_redacted(guard: Guard) -> None:
    assert guard.check("编号110101199003078516").redactions == ()   # ID checksum wrong
    assert guard.check("编号6222021234567890127").redactions == ()  # Luhn wrong


def test_labels_stay_and_only_values_go(guard: Guard) -> None:
    result = guard.check("病人王小明的病历号是A20230915，主任让我帮忙查一下。")
    assert result.redacted == ("病人[患者姓名/patient name]的病历号是[病历号/record number]，"
                               "主任让我帮忙查一下。")


def test_doctor_names_and_medical_words_are_not_patient_names(guard: Guard) -> None:
    for text in ("李主任说患者高血压控制得不错", "患者管理很重要", "患者周末来复诊",
                 "患者于昨日出院", "患者向医生反映", "Dr. Li saw the patient today",
                 "患者曾经用过竞品", "患者严重不适"):
        assert guard.check(text).redactions == (), text


def test_placeholders_are_distinct_and_never_personal_data(guard: Guard) -> None:
    placeholders = list(guard.placeholders.values())
    assert len(set(placeholders)) == len(placeholders)
    for placeholder in placeholders:
        assert guard.check(placeholder).redactions == ()


def test_one_placeholder_per_kind_for_every_occurrence(guard: Guard) -> None:
    result = guard.check("手机13812345678，备用13912345678")
    assert result.redacted == "手机[手机号/phone]，备用[手机号/phone]"
    assert [(r.start, r.end) for r in result.redactions] == [(2, 13), (16, 27)]


SENSITIVE = [
    "患者张某某，手机13812345678，身份证11010519491231002X，卡号6222021234567890128",
    "Patient Wang Wei, MRN 88812345, email wang.wei@example.com, cell +86 186-1234-5678",
    "李主任这个月开了37盒，科室电话0531-86123456",
]


@pytest.mark.parametrize("text", SENSITIVE)
def test_redacted_values_appear_nowhere(guard: Guard, text: str) -> None:
    result = guard.check(text)
    assert result.redactions
    everything = result.redacted + repr(result) + "".join(f.phrase for f in result.flags)
    for redaction in result.redactions:
        value = text[redaction.start:redaction.end]
        assert value not in everything
        digits = re.sub(r"\D", "", value)
        if len(digits) >= 2:
            assert digits not in re.sub(r"\D", "", everything.replace(value, ""))
        assert value not in repr(redaction)


def test_clean_note_is_returned_as_is(guard: Guard) -> None:
    text = "李主任对三期数据感兴趣，下周科室会。"
    result = guard.check(text)
    assert result == GuardResult(text)
    assert not result.has_issues
    assert result.categories == frozenset()


# --- 统方 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "redacted"), [
    ("李主任这个月开了30盒。", "李主任这个月开了[处方数/Rx count]盒。"),
    ("王医生上周处方了12张，下周科室会。", "王医生上周处方了[处方数/Rx count]张，下周科室会。"),
    ("陈主任的处方量从每月20张涨到35张。",
     "陈主任的处方量从每月[处方数/Rx count]张涨到[处方数/Rx count]张。"),
    ("他这周开了二十多支", "他这周开了[处方数/Rx count]支"),
    ("Dr. Li wrote 20 scripts last month.", "Dr. Li wrote [处方数/Rx count] scripts last month."),
])
def test_per_doctor_counts_lose_the_number_only(guard: Guard, text: str, redacted: str) -> None:
    result = guard.check(text)
    assert result.redacted == redacted
    assert [f.category for f in result.flags] == ["prescription_count"]
    assert "[处方数/Rx count]" in result.flags[0].phrase
    assert not re.search(r"\d", result.flags[0].phrase.replace("Rx", ""))


@pytest.mark.parametrize("text", [
    "心内科本月用量上升", "医院进药200盒", "李主任说科室每月300盒", "科室上个月总共用了300盒",
    "陈主任建议每日2次，每次5mg", "李主任说这个药一盒28片，能吃4周",
    "崔医生开了个讲座，来了50多个人",
    "Dr. Tang said his team wrote 150 scripts last month.", "The hospital ordered 200 boxes.",
    "主任说科室每月300盒，他自己开了不少",
])
def test_department_and_hospital_volumes_are_not_flagged(guard: Guard, text: str) -> None:
    result = guard.check(text)
    assert "prescription_count" not in result.categories
    assert result.redacted == text


def test_a_second_doctor_in_the_sentence_is_still_found(guard: Guard) -> None:
    result = guard.check("主任说科室每月300盒，他这个月开了20盒")
    assert result.redacted == "主任说科室每月300盒，他这个月开了[处方数/Rx count]盒"


# --- adverse events ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "有个患者吃了我们的药一周后出现皮疹", "一位患者用药后转氨酶升高", "病人服药后恶心呕吐",
    "有患者因为胃不舒服停药了", "除了轻微头晕，没有其他不良反应", "吃了我们的药之后住院了",
    "a patient developed a rash after the first dose", "hospitalised after taking our drug",
    "No other side effects apart from mild nausea after taking it.",
])
def test_adverse_events(guard: Guard, text: str) -> None:
    result = guard.check(text)
    assert result.adverse_event is not None
    assert result.adverse_event.phrases
    assert result.has_issues


@pytest.mark.parametrize("text", [
    "没有不良反应", "未见不良反应", "无副作用", "用了三个月未见明显皮疹、瘙痒等不良反应",
    "有没有副作用还要观察", "不良反应发生率低", "三期研究中不良反应发生率很低",
    "李主任担心副作用", "我们的药副作用小", "患者头晕来就诊", "用药后头晕明显改善",
    "有过敏史的患者慎用", "过敏性鼻炎患者越来越多", "no side effects", "No adverse events so far.",
    "Dr. Li asked whether it has side effects", "the label lists rash as a common side effect",
])
def test_not_adverse_events(guard: Guard, text: str) -> None:
    assert guard.check(text).adverse_event is None


def test_adverse_event_phrase_is_redacted_too(guard: Guard) -> None:
    result = guard.check("患者王小明过敏，手机13812345678")
    assert result.adverse_event is not None
    assert "王小明" not in repr(result)


# --- kickbacks, gifts, off-label --------------------------------------------------------------


@pytest.mark.parametrize(("text", "category"), [
    ("李主任暗示要回扣", "kickback"), ("每开一盒给5块", "kickback"),
    ("给赵主任微信转账2000元", "kickback"),
    ("Dr. Wang asked for a commission on every box", "kickback"),
    ("送了一张购物卡", "gift"), ("Gave Dr. Zhang a gift card", "gift"),
    ("李主任想超说明书用于儿童", "off_label"), ("He wants to use it off-label", "off_label"),
])
def test_flags(guard: Guard, text: str, category: str) -> None:
    result = guard.check(text)
    assert [f.category for f in result.flags] == [category]
    assert result.flags[0].rule
    assert result.flags[0].phrase in text


@pytest.mark.parametrize("text", [
    "我们从来不给医生回扣", "合规培训强调禁止回扣", "李主任要好处费，我婉拒了", "患者现金支付",
    "公司规定不能送礼品卡", "我们不能推广超说明书用法", "说明书外包装破损",
    "We never pay kickbacks.", "I said we cannot discuss off-label use.",
])
def test_negated_or_rules_talk_is_not_flagged(guard: Guard, text: str) -> None:
    assert guard.check(text).flags == ()


# --- explanations -----------------------------------------------------------------------------


def test_every_category_is_explained_in_both_locales(guard: Guard) -> None:
    assert set(guard.categories) == set(CATEGORIES)
    for category in CATEGORIES:
        zh, en = guard.explanation(category, "zh"), guard.explanation(category, "en")
        assert zh and en and zh != en
        assert len(re.findall(r"[\u4e00-\u9fff]", zh)) > len(re.findall(r"[A-Za-z]", zh))
        assert len(re.findall(r"[A-Za-z]", en)) > 10 * len(re.findall(r"[\u4e00-\u9fff]", en))
        assert guard.explanation(category, "fr") == zh


def test_key_facts_are_in_the_explanations(guard: Guard) -> None:
    rx = guard.explanation("prescription_count", "zh")
    assert "医药代表备案管理办法" in rx and "2020年12月1日" in rx
    assert "2020" in guard.explanation("prescription_count", "en")
    assert "24" in guard.explanation("adverse_event", "zh")
    assert "day 0" in guard.explanation("adverse_event", "en")
    with pytest.raises(KeyError):
        guard.explanation("no_such_category", "zh")


# --- rules.yaml errors ------------------------------------------------------------------------

BROKEN = textwrap.dedent("""\
    version: 1
    boundaries: {clause: '[，。]', sentence: '[。]'}
    defines:
      words: [甲, 乙]
    kinds:
      mobile: {placeholder: '[phone]'}
      other: {placeholder: '[phone]'}
    redact:
      - id: phone
        kind: mobile
        pattern: '1[3-9]\\d{9}'
        validator: no_such_check
      - id: phone
        kind: nowhere
        pattern: '(unclosed'
    suppressors:
      kickback:
        - id: neg
          before: '没有'
          near: '有'
    rules:
      - id: r1
        category: kickback
        pattern: '{{missing}}'
      - id: r2
        category: bribes
        pattern: '回扣'
      - id: r3
        category: gift
        pattern: 'a*'
      - id: r4
        category: kickback
        pattern: '回扣'
        suppressors: [nope]
      - id: r5
        category: gift
        ignore_case: true
        pattern: 'Gift'
    explanations:
      kickback: {zh: 回扣, en: Kickbacks}
      gift: {zh: 礼品}
    """)


def _line(source: str, marker: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `marker`."""
    hits = [i for i, line in enumerate(source.splitlines(), 1) if marker in line]
    return hits[nth - 1]


def _problems(path: Path) -> dict[int, str]:
    with pytest.raises(GuardConfigError) as caught:
        load_guard(path)
    issues = caught.value.issues
    assert issues and all(issue.file == str(path) for issue in issues)
    assert str(caught.value) == "\n".join(str(issue) for issue in issues)
    by_line: dict[int, str] = {}
    for issue in issues:
        by_line[issue.line] = by_line.get(issue.line, "") + " " + issue.message
    return by_line


def test_a_broken_rules_file_reports_every_problem_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    # shape errors (pydantic) come first and stop before meaning checks
    assert _problems(path) == {_line(BROKEN, "gift: {zh: 礼品}"):
                               " explanations > gift: missing key 'en'"}

    fixed = BROKEN.replace("gift: {zh: 礼品}", "gift: {zh: 礼品, en: Gifts}")
    path.write_text(fixed, encoding="utf-8")
    messages = _problems(path)
    expected = {
        _line(fixed, "other: {placeholder"): "reuses the placeholder",
        _line(fixed, "validator: no_such_check"): "unknown validator 'no_such_check'",
        _line(fixed, "kind: nowhere"): "unknown kind 'nowhere'",
        _line(fixed, "(unclosed"): "bad regular expression",
        _line(fixed, "- id: neg"): "needs exactly one of before / after / near / inside",
        _line(fixed, "{{missing}}"): "unknown define {{missing}}",
        _line(fixed, "category: bribes"): "unknown category 'bribes'",
        _line(fixed, "'a*'"): "matches the empty string",
        _line(fixed, "suppressors: [nope]"): "no suppressor 'nope'",
        _line(fixed, "pattern: 'Gift'"): "write G in lowercase",
        _line(fixed, "explanations:"): "has no explanation",
        _line(fixed, "- id: phone", 2): "id 'phone' is used twice",
    }
    for line, text in expected.items():
        assert line in messages, (line, text, messages)
        assert text in messages[line], (line, messages[line])


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("version: 1\nkinds: [\n  - a\nredact: x\n", encoding="utf-8")
    with pytest.raises(GuardConfigError) as caught:
        load_guard(path)
    (issue,) = caught.value.issues
    assert (issue.file, issue.code) == (str(path), "yaml-syntax") and issue.line > 1
    assert str(caught.value) == str(issue)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(GuardConfigError, match=":1: unreadable: "):
        load_guard(tmp_path / "nope.yaml")


def test_shipped_rules_load(guard: Guard) -> None:
    assert len(guard.rules.rules) > 10 and len(guard.rules.redactors) > 5


# --- prefilter --------------------------------------------------------------------------------


def test_needs_of_picks_distinctive_literals() -> None:
    needs = needs_of(re.compile("回扣|返点|红包"))
    assert needs is not None and set(needs.exact) == {"回扣", "返点", "红包"}
    needs = needs_of(re.compile(r"1(?<!\d1)[3-9]\d{9}"))
    assert needs is not None and needs.literals == ("1",)
    assert needs_of(re.compile(r"\d+")) is None
    assert needs_of(re.compile("a?b*")) is None
    folded = needs_of(re.compile("(?i:kickback)"))
    assert folded is not None and folded.folded == ("kickback",)


def test_fold_keeps_length_and_matches_re_ignorecase() -> None:
    for code in range(0x110000):
        ch = chr(code)
        assert len(fold(ch)) == 1, hex(code)
    ascii_ci = re.compile("(?i)[a-z]")
    for code in range(0x80, 0x110000):
        ch = chr(code)
        if ascii_ci.fullmatch(ch):
            assert fold(ch) in string.ascii_lowercase, hex(code)


def test_patterns_follow_the_speed_convention(guard: Guard) -> None:
    """rules.yaml, Speed: every scanned pattern starts with a literal or a class."""
    # skipped on almost every note: email needs "@"; patient_name_marked_zh needs a bracket
    # and 患者/病人, patient_is_zh 病号/病人/患者 (their name comes first, so they cannot start
    # with a literal)
    gated_by_a_rare_sign = {"email", "patient_name_marked_zh", "patient_is_zh"}
    slow = [r.id for r in guard.rules.redactors
            if not fast_start(r.regex) and r.id not in gated_by_a_rare_sign]
    slow += [r.id for r in guard.rules.rules if r.quantity is None and not fast_start(r.regex)]
    slow += [f"{r.id} (quantity)" for r in guard.rules.rules
             if r.quantity is not None and not fast_start(r.quantity.regex)]
    assert slow == []


WORDS = [*"ab cd_é9 患者.-'", "rash", "Rash", "side effects", "hives", "adr", "ALT is up",
         "off-label", "gift card", "he", "MRN 12345", "kickbacks"]
WORDY = st.lists(st.sampled_from(WORDS), max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(WORDY, st.integers(0, 40))
def test_word_boundary_check_is_re_word_boundary(text: str, pos: int) -> None:
    pos = min(pos, len(text))
    assert at_word_boundary(text, pos) == bool(re.compile(r"\b").match(text, pos))


@settings(max_examples=300, deadline=None)
@given(WORDY.map(str.lower))
def test_hoisted_word_start_matches_like_the_original(text: str) -> None:
    guard = _shared_guard()
    hoisted = [r.regex for r in guard.rules.rules if r.word_start]
    hoisted += [r.regex for r in guard.rules.redactors if r.word_start]
    assert hoisted
    for scan in hoisted:
        original = re.compile("\\b" + scan.pattern, scan.flags)
        expected = [m.span() for m in original.finditer(text)]
        found, pos = [], 0
        while (match := scan.search(text, pos)) is not None:
            if not at_word_boundary(text, match.start()):
                pos = match.start() + 1
                continue
            found.append(match.span())
            pos = max(match.end(), match.start() + 1)
        assert found == expected, scan.pattern


# --- properties on random text ----------------------------------------------------------------

ALPHABET = st.sampled_from(list(
    "0123456789 -+()（）@._:：，。；,;!?\n患者病人李王张主任医生他开了盒支张处方每月这周不良反应"
    "副作用过敏皮疹头晕用药后吃没有未见回扣红包购物卡超说明书统方住院号科室医院XxDrLi"
    "patientrashscriptsMRNıſKİ"
))
NOTES = st.text(ALPHABET, max_size=120) | st.text(max_size=60)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NOTES)
def test_random_text_never_raises_and_is_consistent(text: str) -> None:
    guard = _shared_guard()
    result = guard.check(text)
    text = normalise_text(text)  # offsets refer to the text as the rules read it
    # redactions are ordered, disjoint, inside the text, and rebuild the redacted text
    pos, rebuilt = 0, []
    for r in result.redactions:
        assert pos <= r.start < r.end <= len(text)
        rebuilt.append(text[pos:r.start] + r.placeholder)
        pos = r.end
    rebuilt.append(text[pos:])
    assert "".join(rebuilt) == result.redacted
    # the stored text holds no personal data a second check would find
    again = guard.check(result.redacted)
    assert [r for r in again.redactions if r.category == "personal_data"] == []
    # the prefilter only ever skips work, never changes an answer
    assert Guard(guard.rules, prefilter=False).check(text) == result


@settings(max_examples=200, deadline=None)
@given(st.integers(10_000_000_000, 19_999_999_999), st.sampled_from(["", " ", "-"]),
       st.text(st.sampled_from("患者说电话是，。 abc"), max_size=8))
def test_any_mobile_number_is_redacted(number: int, sep: str, before: str) -> None:
    digits = str(number)
    if digits[1] not in "3456789":
        return
    formatted = sep.join([digits[:3], digits[3:7], digits[7:]])
    result = _shared_guard().check(before + formatted + "。")
    assert formatted not in result.redacted
    assert "mobile" in result.redacted_kinds


_GUARD: list[Guard] = []


def _shared_guard() -> Guard:
    if not _GUARD:
        _GUARD.append(load_guard(RULES))
    return _GUARD[0]


def test_a_placeholder_is_never_read_as_a_word(guard: Guard) -> None:
    """"no." in an earlier version's "[病历号/record no.]" once hid the event as a negation."""
    current = guard.placeholders["patient_id"]
    for placeholder in ("[病历号/record no.]", "[身份证号/ID no.]", current):
        note = f"Patient {placeholder} developed a rash after taking our drug."
        result = guard.check(note)
        assert result.adverse_event is not None, placeholder
        assert result.redacted == note  # a placeholder is left as it is
    assert "no" not in " ".join(guard.placeholders.values()).lower().split()


def test_invisible_characters_hide_nothing(guard: Guard) -> None:
    """Format characters (zero-width space and joiners, BOM) once split every word."""
    zw = "\u200b"
    result = guard.check(f"李主任说有个病人用了我们的药后起了荨{zw}麻疹，"
                         f"电话138{zw}1234\u20605678，他还想要回{zw}扣")
    assert result.adverse_event is not None
    assert "[手机号/phone]" in result.redacted and "5678" not in result.redacted
    assert "kickback" in result.categories


@pytest.mark.parametrize(("note", "special"), [
    ("有个病人吃我们的药两个月，怀孕了才发现", "pregnancy"),
    ("哺乳期的妈妈在打我们的针，一直母乳喂养", "breastfeeding"),
    ("老人把我们的药一天吃了一整板，送来洗胃", "overdose"),
    ("有年轻人拿我们的止咳水当饮料喝，上瘾了", "misuse"),
    ("药房把我们的药发错了，给了另一个病人", "medication_error"),
    ("病人用我们的药一个月，血糖一点没降", "lack_of_effect"),
    ("主任给一个10岁的孩子用了我们的药，说明书是18岁以上", "off_label_use"),
    ("这批我们的针剂里有异物，护士没敢用", "quality_complaint"),
    ("用了我们的白蛋白后，病人乙肝表面抗原转阳", "infection_transmission"),
    ("pt on our drug found out she is 8 weeks pregnant", "pregnancy"),
    ("pt on our tablets took 4 instead of 1, came to ER", "overdose"),
])
def test_special_situations_are_reports_without_harm(guard: Guard, note: str,
                                                     special: str) -> None:
    assert guard.check(note).adverse_event is not None, special


@pytest.mark.parametrize("note", [
    "没有病人出现皮疹，主任很满意",
    "说明书里提到恶心和腹泻，主任问发生率",
    "主任担心用我们的药会出现低血糖",
    "主任问孕妇能不能用我们的药，我说请医学部回复",
    "用了我们的药以后血糖降下来了，头晕也好了",
    "集采的副作用就是价格太低",
])
def test_talk_about_side_effects_is_no_report(guard: Guard, note: str) -> None:
    result = guard.check(note)
    assert result.adverse_event is None and result.possible_event is None, note


def test_an_event_with_a_patient_but_no_product_is_a_question(guard: Guard) -> None:
    result = guard.check("李主任说有个病人上周严重腹泻 住院了三天")
    assert result.adverse_event is None and result.possible_event is not None


@pytest.mark.parametrize(("note", "category"), [
    ("今天塞了个信封给张主任，他说下个月多用点我们的", "kickback"),
    ("讲课费按处方量算，上个月开得多这次就多给点", "kickback"),
    ("帮我查一下张主任的处方量", "prescription_count"),
    ("让药房导一下各医生的用量排名", "prescription_count"),
    ("主任想给儿童用，说明书没写，我说国外有人用过，可以试试", "off_label"),
    ("主任女儿考上大学，我送了个iPhone", "gift"),
])
def test_flags_by_meaning(guard: Guard, note: str, category: str) -> None:
    assert category in guard.check(note).categories, note


@pytest.mark.parametrize(("note", "category"), [
    # found by a new-rep trial (issue 13): each was missed once
    ("中山医院肿瘤科陈主任讲 有个患者用药第三天死了 家属在闹", "adverse_event"),
    ("打完针没多久人就不行了", "adverse_event"),
    ("李主任说有个孕妇在用我们的药", "adverse_event"),
    ("病人用了三个月一点效果没有", "adverse_event"),
    ("病人拿我们的药当减肥药吃", "adverse_event"),
    ("药过期了还在给病人用", "adverse_event"),
    ("药盒里发现药片有黑点 批号2305", "adverse_event"),
    ("张主任把我们的药用在儿童身上 说明书没有儿童适应症", "adverse_event"),
    ("答应下个月带他去三亚开会 费用我们出", "gift"),
    ("跟药剂科要了李主任的处方数据", "prescription_count"),
    ("我跟他说我们的药也可以用在儿童 效果很好", "off_label"),
    ("他老婆生日 我送了个包", "gift"),
    ("3号床李阿姨 用药后头晕", "personal_data"),
    ("患者 Zhang Wei 主任说下周复查", "personal_data"),
])
def test_what_a_trial_rep_wrote_is_caught(guard: Guard, note: str, category: str) -> None:
    assert category in guard.check(note).categories, note


@pytest.mark.parametrize("note", [
    "李主任问处方量能不能给他看 我说我们不统方",
    "说我们药说明书外还可以治偏头痛 我没接话",
    "给他带了点资料",
    "科室会 公司标准工作餐 人均60 有签到有讲课PPT",
])
def test_what_a_trial_rep_wrote_raises_nothing(guard: Guard, note: str) -> None:
    assert guard.check(note).categories == frozenset(), note


@pytest.mark.parametrize("text", [
    "刘院长关注合理用药，新药进院要严格，但如果临床确实需要、有指南推荐可以考虑",
    "进院要走药事会流程，下个月开会",
])
def test_listing_rules_talk_is_not_a_kickback(guard: Guard, text: str) -> None:
    """Found by a trial rep: "进院要…" alone flagged a kickback for the manager, for good."""
    assert [f.category for f in guard.check(text).flags] == []


@pytest.mark.parametrize("text", ["他暗示进院要给点好处", "进院要五万进院费"])
def test_money_to_get_listed_is_a_kickback(guard: Guard, text: str) -> None:
    assert "kickback" in [f.category for f in guard.check(text).flags]


def test_flagged_clauses_reach_the_promise_that_made_the_flag(guard: Guard) -> None:
    """A follow-up must come from neither the gift nor the promise beside it."""
    note = "李主任想看指南，周五送过去。上次给他科室送了购物卡，他答应下个月多开我们的药"
    spans = guard.flagged_clauses(note)
    kept_out = "".join(ch if any(s <= i < e for s, e in spans) else "_"
                       for i, ch in enumerate(note))
    assert "送了购物卡" in kept_out and "下个月多开" in kept_out
    assert "周五送过去" not in kept_out
    assert guard.flagged_clauses("李主任想看指南，周五送过去") == []


@pytest.mark.parametrize(("note", "report"), [
    ("何主任说竞品那边有病人吃了出皮疹，他们换成我们的了", False),
    ("主任说竞品那个药有个病人心率慢到40 后来换成我们的了", False),
    ("孙主任说用X公司那个药的病人有两个肝酶升高 考虑换我们的", False),
    ("竞品用了没效果 换成我们的以后病人肝酶高了", True),
    ("主任说有个病人从竞品换成我们的药后出了皮疹", True),
    ("X公司的药和我们的药一起用 病人血小板掉得厉害", True),
])
def test_a_competitors_patient_is_no_report_one_switched_to_ours_is(guard: Guard, note: str,
                                                                    report: bool) -> None:
    """Trial B finding 4: an event on another company's drug starts no clock of ours; the
    same note where the patient then took ours does, whichever order it is told in."""
    assert (guard.check(note).adverse_event is not None) is report
