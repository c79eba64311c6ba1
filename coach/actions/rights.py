"""Data rights in chat: `/export` sends everything we hold, `/forget` deletes it all."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from coach.actions.registry import action
from coach.messages import Attachment
from coach.store.export import as_csv, as_json, collect, erase

if TYPE_CHECKING:
    from coach.context import Turn


@action("export_data", provides=("export",))
def export_data(turn: Turn, _args: Mapping[str, Any]) -> None:
    data = collect(turn.store.session, turn.rep)
    stamp = turn.local_now.strftime("%Y%m%d")
    turn.attachments.append(Attachment(f"repcoach-export-{stamp}.json", "application/json",
                                       as_json(data)))
    turn.attachments.append(Attachment(f"repcoach-export-{stamp}.csv", "text/csv",
                                       as_csv(data)))
    turn.vars["export"] = {"accounts": len(data["accounts"]), "notes": len(data["notes"])}


@action("forget_me")
def forget_me(turn: Turn, _args: Mapping[str, Any]) -> None:
    erase(turn.store.session, turn.rep)
    turn.forgotten = True
