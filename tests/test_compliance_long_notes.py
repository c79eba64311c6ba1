"""The compliance guard on realistic 2,000-character visit notes.

Timings are printed for reference only (run with -s); speed targets live in `make bench`.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from coach.compliance import Guard, load_guard

ROOT = Path(__file__).resolve().parent.parent

LONG_ZH = (
    "今天上午九点到泰山医院内分泌科拜访。先在护士站等了二十分钟，李主任查完房后在办公室见了我，"
    "一共聊了大约三十五分钟，这是第三次正式拜访。上次留下的三期研究摘要他已经看过，这次主要想听"
    "亚洲人群亚组的结果，尤其是HbA1c下降幅度和体重变化。我按照准备好的顺序讲了三点：第一，主要终点"
    "HbA1c较基线下降1.2%，和对照组相比差异有统计学意义；第二，亚洲人群亚组的结果和总体一致；第三，"
    "每日一次口服，饭前饭后都可以，对老年患者比较方便。李主任听得很仔细，中间问了两个问题：一是"
    "肾功能不全的患者怎么调整剂量，二是和二甲双胍联用的数据。第一个问题我按说明书回答了，eGFR低于"
    "45的不建议起始使用；第二个问题我说下次带联合用药的研究全文给他。他对真实世界研究也感兴趣，"
    "说科里正在整理近两年的病例资料，可能明年做一个回顾性分析，到时候希望我们提供学术支持，我说会"
    "转达给医学部，由医学联络官和他对接。\n"
    "关于科室的整体情况：内分泌科现在有两个病区，一共六十张床，门诊每天大概一百二十个号。主任说今年"
    "医院对药占比管得更严，新药进院要先过药事会，下一次药事会在十二月中旬，材料要在十一月底之前交到"
    "药剂科。我已经和药剂科的王老师约了下周三下午两点去送资料，需要准备的东西包括产品说明书、"
    "药物经济学评价、国家医保目录的相关文件，以及两家已经进院的兄弟医院的使用情况说明。心内科和"
    "老年科这个季度对同类产品的需求也在上升，药剂科王老师上次提到全院同类药物一个季度大概用"
    "一千五百盒左右。\n"
    "李主任的风格比较偏数据型，喜欢直接看图表，不太喜欢寒暄，讲话节奏快，问题都很具体。他对新事物"
    "比较开放，是科里最早使用新一代降糖药的医生之一，在省内学术圈也有影响力，下个月要在省级年会上"
    "做一个关于个体化降糖治疗的发言。我问他需不需要幻灯片素材，他说需要最新的指南解读和几张对比"
    "图表，我答应下周五之前整理好发到他的工作邮箱。他也提到科里的年轻医生对我们的产品还不太了解，"
    "希望我们能安排一次科室会，时间定在十二月六日中午十二点半，地点在内分泌科示教室，预计十五到"
    "二十人参加，由李主任主持，请我们的医学经理讲二十分钟，剩下时间讨论。\n"
    "下一步计划：一，下周三送药事会资料，同时确认科室会的场地和投影设备；二，下周五前把幻灯片素材"
    "发给李主任；三，联系医学部安排医学经理讲课，并准备联合用药的研究全文；四，十二月初再拜访一次，"
    "了解药事会的准备情况。整体判断：李主任目前处于评估阶段，对数据认可，关注点在特定人群的安全性和"
    "医院的准入流程，下一步的重点是帮他把价值和本院的患者结合起来。另外孙医生和赵医生是科里两位"
    "年轻的主治，孙医生对新药比较积极，可以作为早期采纳者培养，赵医生比较谨慎，需要更多循证证据，"
    "下次拜访时可以分别约十分钟。今天的拜访比较顺利，主任态度比上次更积极，愿意在科室会上分享他的"
    "经验。离开时在走廊遇到护士长，她问患者教育的手册什么时候能到，我说下周和药事会资料一起送过来，"
    "一共五十份，另外再带二十本血糖记录本给门诊用。护士长还说最近来复诊的老年患者多，很多人不会用"
    "血糖仪，希望我们能配合做一次患者教育活动，时间可以放在一月份，我说回去和市场部商量后再答复。"
)
LONG_EN = (
    'Visit to the endocrinology department at Taishan Hospital this morning. I waited about '
    "twenty minutes at the nurses' station; Dr. Li saw me in his office after the ward round "
    'and we talked for about thirty-five minutes, the third formal visit. He had read the '
    'phase III summary I left last time and wanted the Asian subgroup results, especially the'
    ' HbA1c reduction and weight change. I covered three points: the primary endpoint, HbA1c '
    'down 1.2% from baseline with a significant difference versus control; the Asian subgroup'
    ' consistent with the overall results; and once-daily oral dosing with or without food, '
    'convenient for elderly patients. Dr. Li asked two questions: how to adjust the dose in '
    'renal impairment, and whether we have data combined with metformin. I answered the first'
    ' from the label (not recommended to start below an eGFR of 45) and promised the full '
    'paper on the combination for next time. He is also interested in real-world evidence; '
    'the department is collecting two years of case data for a retrospective analysis next '
    'year and would like academic support, which I said I would pass to Medical so the MSL '
    'can follow up.\n'
    'Department context: two wards, sixty beds, about 120 outpatients a day. The hospital is '
    'stricter on drug spending this year; new products go through the pharmacy committee, '
    'which meets in mid December, with documents due at the pharmacy by the end of November. '
    'I booked next Wednesday at 2 pm with Ms. Wang in the pharmacy to hand in the label, the '
    'pharmacoeconomic evaluation, the reimbursement documents and a summary of use at two '
    'hospitals that already list the product. Cardiology and geriatrics are also asking for '
    'this class; the pharmacy said the whole hospital uses about 1,500 boxes of the class a '
    'quarter.\n'
    'Dr. Li is data-driven: he likes charts, little small talk, a fast pace and precise '
    'questions. He is open to new things, one of the first in the department to use the newer'
    ' agents, and has influence in the provincial academic community; next month he speaks at'
    ' the provincial congress on individualised glucose management. He wants the latest '
    'guideline slides and a few comparison charts by next Friday. He also said the younger '
    'doctors know little about our product and asked for a department meeting on December 6 '
    'at 12:30 in the teaching room, 15 to 20 attendees, chaired by him, with our medical '
    'manager speaking for twenty minutes.\n'
    'Next steps: hand in the committee documents next Wednesday and confirm the room and '
    'projector; send the slides by Friday; ask Medical for the speaker and the combination '
    'paper; visit again in early December. Assessment: evaluation stage, convinced by the '
    'data, focused on safety in special populations and on the listing process. Dr. Sun and '
    'Dr. Zhao are two young attendings; Dr. Sun is keen on new drugs and could be an early '
    'adopter, Dr. Zhao is cautious and wants more evidence. On the way out the head nurse '
    'asked when the patient education booklets will arrive; I will bring fifty next week with'
    ' twenty glucose diaries for the clinic.'
)
LONG_ZH += (
    "\n补充：下午两点又回到内分泌科，在示教室门口碰到孙医生，他刚从门诊下来，聊了十分钟。他说最近"
    "来看糖尿病的年轻人越来越多，很多人体重超标，饮食控制做得不好，他更关心药物对体重的影响和患者"
    "的长期依从性。我给他看了体重变化的图表，他觉得数据不错，但想知道停药以后体重会不会反弹，这个"
    "问题我答应请医学部回复。他还提到科里准备申报一个关于糖尿病前期人群管理的院级课题，问我们有没有"
    "相关的文献，我说可以提供公开发表的指南和综述。赵医生今天轮休，下周再约。"
    "回公司后把今天的拜访记录整理好，更新了客户档案，把李主任的采纳阶段从兴趣调整为评估，证据是他"
    "主动要求了亚组数据和药事会材料，并同意主持科室会。孙医生的阶段仍然是兴趣，思维偏好初步判断为"
    "数据型加关系型，需要后续观察。下周的拜访计划：周一上午人民医院心内科，周三下午泰山医院药剂科，"
    "周五上午中心医院老年科，周五下午整理科室会材料。"
)


ISSUES_ZH = (
    "李主任这个月开了30盒，有个患者吃了我们的药一周后出现皮疹，已经停药。患者张某某，手机13812345678，"
    "住院号2023008812。李主任还暗示过节要红包，想超说明书用于儿童。"
)


def best_of(guard: Guard, text: str, rounds: int = 7, number: int = 50) -> float:
    """Fastest mean time of a check in ms over `rounds` runs of `number` checks."""
    guard.check(text)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(number):
            guard.check(text)
        best = min(best, (time.perf_counter() - start) / number * 1000)
    return best


@pytest.fixture(scope="module")
def guard() -> Guard:
    return load_guard(ROOT / "playbooks" / "compliance" / "rules.yaml")


def test_long_notes_are_judged_whole(guard: Guard, capsys: pytest.CaptureFixture[str]) -> None:
    """2,000-character notes: a clean one raises nothing, one with every issue raises all.
    The per-check time is printed for the closing note; speed targets live in `make bench`."""
    notes = {
        "zh narrative": (LONG_ZH * 2)[:2000],
        "en narrative": (LONG_EN * 2)[:2000],
        "zh with every issue": (LONG_ZH[:1800] + ISSUES_ZH)[:2000],
    }
    timings = {name: best_of(guard, text) for name, text in notes.items()}
    with capsys.disabled():
        print()
        for name, ms in timings.items():
            print(f"compliance check, {name} (2000 chars): {ms:.3f} ms")
    assert guard.check(notes["zh narrative"]).categories == frozenset()
    assert guard.check(notes["zh with every issue"]).categories >= {
        "prescription_count", "adverse_event", "personal_data", "kickback", "off_label"}
