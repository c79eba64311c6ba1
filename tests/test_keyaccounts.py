"""Key-account features beyond what a transcript can check: the matrix picture (a valid PNG
that shows the customers' names and the quadrant names), the development plan document
section by section (and its changes section after a new visit), and the case library seen by
a manager (their team's lessons, no other team's), with reps enrolled by code on a channel
that needs one."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

from PIL import Image

from coach.charts import can_draw_chinese, labels_in
from coach.engine import Engine
from coach.library import Library
from coach.messages import Attachment, Reply
from coach.testing import MemoryChat

SECTIONS = ("analysis", "goals", "resources", "communication", "evaluation")

# (name and hospital, scale, influence, cooperation, recognition, support) as button labels
ZH_CUSTOMERS = (
    ("孙教授 泰山医院 心内科", "中", "影响很大", "稳定", "全国", "很少"),        # invest
    ("刘医生 泰山医院 心内科", "小", "有一些", "上升很快", "还在起步", "很多"),  # develop
    ("王医生 人民医院 内科", "小", "不太有", "在收缩", "还在起步", "很多"),      # maintain
    ("赵医生 人民医院 内科", "中", "不太有", "稳定", "还在起步", "很少"),        # minimise
)
EN_CUSTOMERS = (
    ("Prof Sun, Taishan Hospital", "Medium", "A lot", "Stable", "National", "Little"),
    ("Dr Liu, Taishan Hospital", "Small", "Some", "Rising fast", "Just starting", "A lot"),
    ("Dr Wang, People's Hospital", "Small", "Hardly", "Shrinking", "Just starting", "A lot"),
    ("Dr Zhao, People's Hospital", "Medium", "Hardly", "Stable", "Just starting", "Little"),
)
EXPECTED_QUADRANT = {"孙教授": "invest", "刘医生": "develop", "王医生": "maintain",
                     "赵医生": "minimise", "Prof Sun": "invest", "Dr Liu": "develop",
                     "Dr Wang": "maintain", "Dr Zhao": "minimise"}


def attachments(replies: list[Reply]) -> list[Attachment]:
    return [r.attachment for r in replies if r.attachment is not None]


def to_english(chat: MemoryChat) -> None:
    chat.say("/lang")
    chat.press("English")


def screen(chat: MemoryChat, customer: tuple[str, ...], add_label: str) -> None:
    who, *answers = customer
    chat.say("/screen")
    chat.say(who)
    chat.press(add_label)
    replies: list[Reply] = []
    for answer in answers:
        replies = chat.press(answer)
    assert "🏷" in MemoryChat.text(replies), MemoryChat.text(replies)


def quadrant_names(library: Library, locale: str) -> dict[str, str]:
    content = library.content(library.playbooks["matrix"], locale)
    return {key: str(q["name"]) for key, q in content["quadrants"].items()}


def check_matrix_picture(replies: list[Reply], names: list[str],
                         quadrants: dict[str, str]) -> None:
    pictures = attachments(replies)
    assert len(pictures) == 1, [a.filename for a in pictures]
    picture = pictures[0]
    assert picture.mime_type == "image/png" and picture.kind == "photo"
    assert picture.filename.endswith(".png")
    Image.open(io.BytesIO(picture.data)).verify()  # raises on a broken image
    image = Image.open(io.BytesIO(picture.data))
    assert image.format == "PNG" and image.size[0] > 300 and image.size[1] > 300
    labels = labels_in(picture.data)
    for name in names:
        assert name in labels, (name, labels)
    for quadrant in quadrants.values():
        assert quadrant in labels, (quadrant, labels)


def test_matrix_picture_shows_customers_and_quadrants(chat: MemoryChat,
                                                      library: Library) -> None:
    chat.say("/start")
    assert not attachments(chat.say("/matrix"))  # nothing screened: no picture
    for customer in ZH_CUSTOMERS:
        screen(chat, customer, "新建")
    replies = chat.say("/matrix")
    text = MemoryChat.text(replies)
    zh = quadrant_names(library, "zh")
    for name, quadrant in EXPECTED_QUADRANT.items():
        if not name.isascii():
            assert f"【{zh[quadrant]}】{name}" in text, text
    # without a Chinese font the picture falls back to the English quadrant names
    drawn = zh if can_draw_chinese() else quadrant_names(library, "en")
    check_matrix_picture(replies, ["孙教授", "刘医生", "王医生", "赵医生"], drawn)


def test_matrix_picture_in_english(chat: MemoryChat, library: Library) -> None:
    chat.say("/start")
    to_english(chat)
    for customer in EN_CUSTOMERS:
        screen(chat, customer, "Add:")
    replies = chat.say("/matrix")
    text = MemoryChat.text(replies)
    en = quadrant_names(library, "en")
    for name, quadrant in EXPECTED_QUADRANT.items():
        if name.isascii():
            assert f"[{en[quadrant]}] {name}" in text, text
    check_matrix_picture(replies, ["Prof Sun", "Dr Liu", "Dr Wang", "Dr Zhao"], en)


def test_matrix_picture_follows_a_new_screening(chat: MemoryChat, library: Library) -> None:
    chat.say("/start")
    screen(chat, ZH_CUSTOMERS[0], "新建")
    first = labels_in(attachments(chat.say("/matrix"))[0].data)
    assert "孙教授" in first and "刘医生" not in first
    screen(chat, ZH_CUSTOMERS[1], "新建")
    second = labels_in(attachments(chat.say("/matrix"))[0].data)
    assert "孙教授" in second and "刘医生" in second


class Sections(HTMLParser):
    """The plan document's text by section: what follows each <h2 id=...> up to the next."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: dict[str, str] = {"head": ""}
        self.current = "head"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h2":
            self.current = dict(attrs).get("id") or "?"
            self.sections[self.current] = ""

    def handle_data(self, data: str) -> None:
        self.sections[self.current] += data


def plan_document(replies: list[Reply]) -> tuple[Attachment, dict[str, str], str]:
    documents = attachments(replies)
    assert len(documents) == 1, [a.filename for a in documents]
    document = documents[0]
    assert document.mime_type == "text/html" and document.kind == "document"
    html = document.data.decode("utf-8")
    parser = Sections()
    parser.feed(html)
    return document, parser.sections, html


def test_plan_document_section_by_section_and_what_changed(chat: MemoryChat) -> None:
    chat.say("/start")
    proposal = MemoryChat.text(chat.say("李主任说 <b>先试试</b>，给几个病人试。泰山医院心内科"))
    assert "李主任 · 泰山医院 · 心内科（新客户）" in proposal
    assert "→ 阶段：试用？" in proposal  # the note's signal: trial
    chat.press("✅ 保存")  # saves the customer, the note and the trial stage
    chat.press("完成")
    chat.say("/screen")
    chat.say("李主任")
    for answer in ("大", "影响很大", "稳定", "本院", "很少"):
        chat.press(answer)
    chat.say("/needs")
    chat.say("李主任")
    for answer in ("很强", "很强", "不明显"):
        chat.press(answer)
    chat.say("/plan")
    chat.say("李主任")
    chat.press("采纳")
    replies = chat.say("3个月后")
    summary = MemoryChat.text(replies)
    assert "📄 李主任的客户发展计划书" in summary
    assert "目标：2027-02-22 前推进到「采纳」" in summary

    document, sections, html = plan_document(replies)
    assert document.filename == "客户发展计划书-李主任-2026-11-22.html"
    for section in SECTIONS:
        assert f'<h2 id="{section}">' in html
    assert set(sections) == {"head", *SECTIONS}, sections.keys()  # no changes yet
    assert "客户发展计划书：李主任" in sections["head"] and "泰山医院" in sections["head"]
    analysis = sections["analysis"]
    assert "采纳阶段：试用" in analysis
    assert "A 核心大客户" in analysis
    assert "主要需求：学术、利益" in analysis
    assert "2026-11-22 试用" in analysis  # stage history
    assert "2026-11-22 李主任说 <b>先试试</b>，给几个病人试。泰山医院心内科" in analysis  # the note
    assert "<b>先试试</b>" not in html and "&lt;b&gt;先试试&lt;/b&gt;" in html  # escaped
    assert "在 2027-02-22 前推进到「采纳」" in sections["goals"]
    resources = sections["resources"]
    assert "矩阵位置「加大投入」" in resources
    assert "学术需求：" in resources and "利益需求：" in resources
    assert "绝不送礼、给钱或回扣" in resources
    communication = sections["communication"]
    assert "试用阶段：全力支持，让价值看得见，尽快收集反馈。" in communication
    assert communication.count("李主任在试用阶段") >= 1  # tactics with their why
    evaluation = sections["evaluation"]
    assert "2027-02-20 前重新评估阶段与风格" in evaluation  # 90 days after screening
    assert "2027-02-22 检查目标是否达成" in evaluation

    # a week later: a new visit moves him to adoption; regenerate with the same goal
    chat.say("/log")
    assert "→ 阶段：采纳？" in MemoryChat.text(chat.say("李主任：合适的病人常规用了"))
    chat.press("✅ 保存")
    chat.press("完成")
    chat.say("/plan")
    chat.say("李主任")
    replies = chat.press("保持现有目标")
    assert "与 2026-11-22 的计划相比：\n· 阶段：试用 → 采纳\n· 拜访记录数：1 → 2" in (
        MemoryChat.text(replies))
    _, sections, html = plan_document(replies)
    assert set(sections) == {"head", *SECTIONS, "changes"}
    assert "采纳阶段：采纳" in sections["analysis"]
    assert "合适的病人常规用了" in sections["analysis"]
    assert "在 2027-02-22 前巩固「采纳」" in sections["goals"]  # kept; he is there now
    changes = sections["changes"]
    assert "与 2026-11-22 的计划相比" in changes
    assert "阶段：试用 → 采纳" in changes and "拜访记录数：1 → 2" in changes
    assert "分级" not in changes  # what did not change is not listed


def test_plan_document_in_english(chat: MemoryChat) -> None:
    chat.say("/start")
    to_english(chat)
    proposal = MemoryChat.text(chat.say(
        "Dr Li asked for samples to try it on two patients. Taishan Hospital, Cardiology"))
    assert "Dr Li · Taishan Hospital" in proposal and "(new customer)" in proposal
    assert "→ stage: Trial?" in proposal
    chat.press("✅ Save")
    chat.press("Done")
    chat.say("/plan")
    chat.say("Dr Li")
    chat.press("Adoption")
    replies = chat.say("in 3 months")
    document, sections, _ = plan_document(replies)
    assert document.filename == "development-plan-Dr Li-2026-11-22.html"
    assert set(sections) == {"head", *SECTIONS}
    assert "Adoption stage: Trial" in sections["analysis"]
    assert "Dr Li asked for samples to try it on two patients" in sections["analysis"]
    assert 'Reach "Adoption" by 2027-02-22.' in sections["goals"]
    assert "Not screened yet: rate the customer with /screen" in sections["resources"]
    assert "Trial: full support, make the value visible" in sections["communication"]
    assert "Check the goal on 2027-02-22" in sections["evaluation"]
    chat.say("/log")
    chat.say("Dr Li: quick hello before his clinic")
    chat.press("✅ Save")
    chat.press("Done")
    chat.say("/plan")
    chat.say("Dr Li")
    _, sections, _ = plan_document(chat.press("Keep the current goal"))
    assert re.search(r"Changes since the plan of 2026-11-22\s*Visit notes: 1 → 2",
                     sections["changes"]), sections["changes"]


# the case library across a team ------------------------------------------------------------
def enrolled(engine: Engine, name: str, user_id: str, **kwargs: str) -> MemoryChat:
    """A rep on a channel that needs a code (like Telegram), enrolled with /start CODE."""
    chat = MemoryChat(engine, user_id=user_id, channel="telegram", display_name=name)
    code = engine.enroll(name, **kwargs)
    assert "开通成功" in MemoryChat.text(chat.say(f"/start {code}"))
    return chat


def lesson_after_moving_back(chat: MemoryChat, customer: str, lesson: str) -> None:
    """Trial from a note's signal, then /stage finds evaluation: the bot asks for a lesson."""
    assert "→ 阶段：试用？" in MemoryChat.text(chat.say(f"人民医院{customer}说先试试"))
    chat.press("✅ 保存")
    chat.press("完成")
    chat.say("/stage")
    chat.say(customer)
    for answer in ("还能说出特点", "问适合哪类病人", "正在问、正在比较", "用过一阵，最近少了",
                   "以前是，最近在减少", "认真讨论利弊和风险", "不清楚", "竞品或仿制药进来了"):
        chat.press(answer)
    assert "一句话复盘" in MemoryChat.text(chat.press("完成"))
    chat.say(lesson)


def test_a_manager_sees_the_teams_lessons_and_reps_see_their_own(engine: Engine) -> None:
    wang = enrolled(engine, "王芳", "tg-101", team="east")
    zhang = enrolled(engine, "张伟", "tg-102", team="east")
    li = enrolled(engine, "李雷", "tg-103", team="west")
    manager = enrolled(engine, "赵经理", "tg-104", role="manager", team="east")
    lesson_after_moving_back(wang, "陈主任", "仿制药进院后要马上回访，讲清对他病人的价值")
    lesson_after_moving_back(li, "周主任", "仿制药来了，他只看价格")

    seen = MemoryChat.text(manager.say("/cases 仿制药"))
    assert "📚 找到 1 条经验" in seen
    assert "陈主任（王芳）：仿制药进院后要马上回访" in seen  # whose lesson it is
    assert "周主任" not in seen and "李雷" not in seen  # another team's stays hidden

    own = MemoryChat.text(wang.say("/cases 仿制药"))
    assert "陈主任：仿制药进院后要马上回访" in own and "（王芳）" not in own
    assert "没有找到相关经验" in MemoryChat.text(zhang.say("/cases 仿制药"))  # reps: own only
    west = MemoryChat.text(li.say("/cases 仿制药"))
    assert "周主任：仿制药来了" in west and "陈主任" not in west

    # with no keyword the manager sees the whole team's lessons
    manager.say("/cases")
    everything = MemoryChat.text(manager.press("跳过"))
    assert "王芳" in everything and "李雷" not in everything


def test_plan_document_escapes_every_value_and_shows_changes_readably(
        chat: MemoryChat, engine: Engine) -> None:
    """A colleague named like HTML once landed raw in the document, and changed roles read
    as Python lists ("决策链 ['张主任:decision_maker']")."""
    from sqlalchemy import update

    from coach.store.models import Account

    chat.say("/start")
    chat.say("泰山医院心内科李主任说想看数据")
    chat.press("✅ 保存")
    chat.press("完成")
    chat.say("/plan")
    chat.say("李主任")
    chat.press("采纳")
    chat.say("3个月后")
    chat.say("泰山医院药剂科 王主任 聊了进院流程")
    chat.press("✅ 保存")
    chat.press("完成")
    with engine.database.transaction() as session:
        session.execute(update(Account).where(Account.name == "王主任").values(
            name='<img src=x onerror="alert(1)">', role="decision_maker",
            roles=["decision_maker"]))
    chat.say("/plan")
    chat.say("李主任")
    replies = chat.press("保持现有目标")
    document, sections, html = plan_document(replies)
    assert "<img" not in html and "&lt;img src=x" in html
    assert "&amp;lt;" not in html  # escaped once, not twice
    assert '决策链：新增<img src=x onerror="alert(1)">（决策者）' in sections["changes"]
    assert "决策者" in sections["changes"] and "['" not in sections["changes"]
    assert "/" not in document.filename and '"' not in document.filename
