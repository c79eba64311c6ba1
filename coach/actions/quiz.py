"""The thinking-preference self-reflection: score, keep history, report all four quadrants."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from coach.actions.common import scores
from coach.actions.registry import ContentIssue, action, require_content
from coach.charts import can_draw_chinese, quadrant_scores
from coach.messages import Attachment
from coach.playbook import STYLES, Playbook
from coach.scoring import dominant, ranked

if TYPE_CHECKING:
    from coach.context import Turn


def _check(playbook: Playbook) -> Iterable[ContentIssue]:
    if list(playbook.dimensions) != list(STYLES):
        yield (("dimensions",), "bad-dimensions",
               f"score_quiz needs `dimensions: {list(STYLES)}`")
    yield from require_content(*[("quadrants", q, key) for q in STYLES
                                 for key in ("name", "blind_spot", "neglected")])(playbook)


class QuizView(TypedDict):
    """`quiz` in a template, after `score_quiz`."""

    scores: dict[str, float]
    dominant: list[str]
    ranked: list[str]
    least: list[str]
    least_score: float
    max_score: float
    leading: list[str]  # every quadrant as strong as the dominant ones, all described
    tied: bool  # several share the top score
    blind: list[str]  # the leading quadrants whose blind spot no other leading one belies
    neglected: list[str]  # else the least used, whose `neglected` text is the blind spot


@action("score_quiz", provides=("quiz",), content_check=_check, shapes={"quiz": QuizView})
def score_quiz(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Score the thinking-preference quiz (choices scoring `dimensions: [A, B, C, D]`): `quiz`
    holds `scores`, `dominant` (one or two letters), `ranked`, `least`, `least_score` and
    `max_score`; the result is stored on the rep with this playbook's id and version.
    `leading` is every quadrant as strong as the dominant ones (three tied at the top are
    all described); `blind` the leading quadrant whose blind spot speaks of neglecting no
    other leading one (`content.quadrants.X.neglects`), else `neglected` the quadrant used
    least, whose `neglected` text is the blind spot: a blind spot never contradicts a style
    as strong. `content.quadrants.X.name`, `blind_spot` and `neglected` must exist."""
    totals = scores(turn)
    top = dominant(totals, STYLES)
    turn.store.add_quiz_result(turn.playbook.id, turn.playbook.version, totals,
                               "".join(top), turn.now)
    turn.attachments.append(_chart(turn, totals, top))
    order = ranked(totals, STYLES)
    low = min((totals.get(q, 0.0) for q in STYLES), default=0.0)
    # the quadrants used least, all of them when several tie ("全局型" alone would be
    # wrong when three tie at 0); none when every quadrant scores the same
    leading = leading_quadrants(totals, top)
    least = [q for q in order if totals.get(q, 0.0) == low and q not in leading]
    content = turn.library.content(turn.playbook, turn.locale)["quadrants"]
    blind = [q for q in leading
             if not set(content[q].get("neglects") or []) & set(leading)]
    turn.vars["quiz"] = QuizView(
        scores={k: int(v) if float(v).is_integer() else v for k, v in totals.items()},
        dominant=top,
        ranked=order,
        least=least if len(least) < len(STYLES) else [],
        least_score=int(low) if float(low).is_integer() else low,
        max_score=max(totals.values(), default=0),
        leading=leading,
        tied=len([q for q in STYLES if totals.get(q, 0.0) == max(totals.values(), default=0)])
        > 1,
        blind=blind[:1],
        # a tie whose blind spots contradict one another ("只讲数据、忽略感受" to someone as
        # strong in 人际型): the blind spot is the quadrant used least
        neglected=[] if blind or not least or len(least) == len(STYLES) else least[:1],
    )


def leading_quadrants(totals: Mapping[str, float], top: list[str]) -> list[str]:
    """The dominant quadrants (`top`, one or two) and every other quadrant as strong as
    the weaker of them: three tied at the top are all described, not the first two."""
    if not top:
        return []
    floor = min(totals.get(q, 0.0) for q in top)
    return [q for q in ranked(totals, STYLES) if q in top or totals.get(q, 0.0) >= floor]


def _chart(turn: Turn, totals: Mapping[str, float], top: list[str]) -> Attachment:
    """The four scores as a picture; English labels where no Chinese font is installed."""
    locale = turn.locale if turn.locale == "en" or can_draw_chinese() else "en"
    names = {q: turn.library.style_name(q, locale) or q for q in STYLES}
    title = turn.playbook.title.get(locale)
    png = quadrant_scores(totals, names, title, highlight=top)
    return Attachment(filename="thinking-preference.png", mime_type="image/png", data=png,
                      kind="photo")
