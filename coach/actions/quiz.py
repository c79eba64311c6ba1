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
    yield from require_content(*[("quadrants", q, "name") for q in STYLES])(playbook)


class QuizView(TypedDict):
    """`quiz` in a template, after `score_quiz`."""

    scores: dict[str, float]
    dominant: list[str]
    ranked: list[str]
    least: list[str]
    least_score: float
    max_score: float


@action("score_quiz", provides=("quiz",), content_check=_check, shapes={"quiz": QuizView})
def score_quiz(turn: Turn, _args: Mapping[str, Any]) -> None:
    """Score the thinking-preference quiz (choices scoring `dimensions: [A, B, C, D]`): `quiz`
    holds `scores`, `dominant` (one or two letters), `ranked`, `least`, `least_score` and
    `max_score`; the result is stored on the rep with this playbook's id and version.
    `content.quadrants.X.name` must exist for X in A..D."""
    totals = scores(turn)
    top = dominant(totals, STYLES)
    turn.store.add_quiz_result(turn.playbook.id, turn.playbook.version, totals,
                               "".join(top), turn.now)
    turn.attachments.append(_chart(turn, totals, top))
    order = ranked(totals, STYLES)
    low = min((totals.get(q, 0.0) for q in STYLES), default=0.0)
    # the quadrants used least, all of them when several tie ("全局型" alone would be
    # wrong when three tie at 0); none when every quadrant scores the same
    least = [q for q in order if totals.get(q, 0.0) == low and q not in top]
    turn.vars["quiz"] = QuizView(
        scores={k: int(v) if float(v).is_integer() else v for k, v in totals.items()},
        dominant=top,
        ranked=order,
        least=least if len(least) < len(STYLES) else [],
        least_score=int(low) if float(low).is_integer() else low,
        max_score=max(totals.values(), default=0),
    )


def _chart(turn: Turn, totals: Mapping[str, float], top: list[str]) -> Attachment:
    """The four scores as a picture; English labels where no Chinese font is installed."""
    locale = turn.locale if turn.locale == "en" or can_draw_chinese() else "en"
    names = {q: turn.library.style_name(q, locale) or q for q in STYLES}
    title = turn.playbook.title.get(locale)
    png = quadrant_scores(totals, names, title, highlight=top)
    return Attachment(filename="thinking-preference.png", mime_type="image/png", data=png,
                      kind="photo")
