"""A manager's team funnel (/funnel): the team's key accounts by adoption stage, and how they
moved over the last weeks, as a picture and as numbers; for one rep or by hospital on request.

Read-only, like /team: only a manager sees it, only for reps of their own team. What counts
as a key account (`key_tiers`) and the window (`weeks`) are the playbook's content.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from coach.actions.registry import ContentIssue, action, require_content
from coach.charts import stage_funnel
from coach.funnel import (
    MOVES,
    UNDIAGNOSED,
    Tally,
    by_hospital,
    key_tiers,
    moves,
    tally,
    team_members,
)
from coach.messages import Attachment
from coach.playbook import STAGES, Playbook
from coach.store.models import Rep

if TYPE_CHECKING:
    from coach.context import Turn

HOSPITALS = "hospitals"  # the view's id for "by hospital"
MAX_HOSPITALS = 15


def _check(playbook: Playbook) -> Iterable[ContentIssue]:
    yield from require_content(("key_tiers",), ("weeks",), ("moves",), ("undiagnosed",),
                               ("unknown_hospital",), ("chart_title",), ("chart_note",),
                               ("hospital_words",))(playbook)
    for move in MOVES:
        if move not in (playbook.content.get("moves") or {}):
            yield (("content", "moves"), "missing-move", f"content.moves needs `{move}`")


@action("team_funnel", provides=("funnel", "funnel_reps"), content_check=_check)
def team_funnel(turn: Turn, _args: Mapping[str, Any]) -> None:
    """The funnel of the whole team, of one rep (`/funnel 张三`, or picked), by hospital
    (`/funnel 医院`), or of one hospital (`/funnel 泰山医院`). `funnel` is None for anyone
    but a manager."""
    manager = turn.rep
    turn.vars["funnel"] = None
    if manager.role != "manager" or not manager.team:
        return
    content = turn.library.content(turn.playbook, turn.locale)
    members = team_members(turn.store.session, manager)
    typed = str(turn.vars.get("command_args") or "").strip()
    picked = str(turn.vars.get("funnel_view") or "").strip()
    turn.vars["command_args"] = turn.vars["funnel_view"] = None
    turn.vars["funnel_reps"] = [{"id": str(m.id), "label": m.name} for m in members]
    since = turn.now - timedelta(weeks=int(content["weeks"]))
    everyone = moves(turn.store.session, [m.id for m in members], since,
                     key_tiers(turn.library))
    unknown = str(content["unknown_hospital"])
    view, rep, hospital = _view(typed or picked, members, content,
                                sorted({f.account.hospital or unknown for f in everyone}))
    if rep is not None:
        found = [f for f in everyone if f.account.rep_id == rep.id]
    elif hospital is not None:
        found = [f for f in everyone if (f.account.hospital or unknown) == hospital]
    else:
        found = everyone
    label = rep.name if rep is not None else (hospital or manager.team)
    whole = tally(label, found)
    turn.vars["funnel"] = {
        "team": manager.team, "view": view, "label": label, "weeks": int(content["weeks"]),
        "unmatched": typed if view == "unmatched" else "",
        **_numbers(turn, whole, content),
        "reps": [{"name": m.name, **_numbers(turn, tally(m.name, [f for f in found
                                                                  if f.account.rep_id == m.id]),
                                             content)}
                 for m in members
                 if view == "team" or any(f.account.rep_id == m.id for f in found)]
        if view in ("team", "hospital") else [],
        "hospitals": [{"name": t.label, **_numbers(turn, t, content)}
                      for t in by_hospital(found, unknown)
                      ][:MAX_HOSPITALS] if view == HOSPITALS else [],
        "back": [{"name": f.account.name, "hospital": f.account.hospital or "",
                  "rep": next((m.name for m in members if m.id == f.account.rep_id), ""),
                  "before": turn.library.stage_name(f.before, turn.locale),
                  "after": turn.library.stage_name(f.after, turn.locale)}
                 for f in found if f.direction == "back"],
    }
    if view in ("team", "rep", "hospital") and whole.total:
        _picture(turn, whole, content)


def _view(typed: str, members: list[Rep], content: Mapping[str, Any],
          hospitals: list[str]) -> tuple[str, Rep | None, str | None]:
    """What was asked for: the team, one rep (by id from a pick, or by a typed name), the
    view by hospital, one hospital of the team's key accounts (by its name, or a part of it
    only one has), or something that is none of these ("unmatched")."""
    if not typed:
        return "team", None, None
    if typed == HOSPITALS or typed.lower() in [str(w).lower() for w in
                                               content["hospital_words"]]:
        return HOSPITALS, None, None
    for member in members:
        if typed == str(member.id) or typed == member.name:
            return "rep", member, None
    if typed in hospitals:
        return "hospital", None, typed
    partial = [m for m in members if typed in m.name]
    if len(partial) == 1:
        return "rep", partial[0], None
    places = [h for h in hospitals if typed in h]
    if not partial and len(places) == 1:
        return "hospital", None, places[0]
    return "unmatched", None, None


def _numbers(turn: Turn, counted: Tally, content: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "total": counted.total,
        "stages": [{"key": s, "name": turn.library.stage_name(s, turn.locale),
                    "count": counted.stages[s]} for s in STAGES],
        "undiagnosed": counted.stages[UNDIAGNOSED],
        "moves": [{"key": m, "name": content["moves"][m], "count": counted.moves[m]}
                  for m in MOVES],
        **{m: counted.moves[m] for m in MOVES},
    }


def _picture(turn: Turn, counted: Tally, content: Mapping[str, Any]) -> None:
    funnel = turn.vars["funnel"]
    title = turn.render(content["chart_title"], funnel=funnel)
    note = turn.render(content["chart_note"], funnel=funnel)
    png = stage_funnel(title, [(s["name"], s["count"]) for s in funnel["stages"]],
                       [(m["name"], m["count"]) for m in funnel["moves"]], note)
    turn.attachments.append(Attachment("funnel.png", "image/png", png, kind="photo"))
