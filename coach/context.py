"""One turn's working state: the rep, their store, the running playbook and its variables.

Steps and actions read and write only through a `Turn`, so everything a turn changes is in
one SQLAlchemy session and one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from coach.library import Library
from coach.messages import Attachment, Choice, Reply, safe_filename
from coach.playbook import Playbook, Text
from coach.settings import EngineSettings
from coach.store.conversation import EngineState
from coach.store.models import Account, Rep
from coach.store.repo import NoteText, RepStore
from coach.templating import is_plain, render, render_html
from coach.views import AccountView, account_view, rep_view

#: How far back the notes a turn reads go: the longest look-back of its readers (a
#: formulary date or "already listed" written up to half a year ago).
NOTES_WINDOW_DAYS = 180


@dataclass
class Findings:
    """What the compliance guard found in this turn's text at the door: categories of
    personal data removed, and adverse events recorded (their ids)."""

    redacted: set[str] = field(default_factory=set)
    reports: list[int] = field(default_factory=list)


@dataclass
class Turn:
    store: RepStore
    rep: Rep
    library: Library
    settings: EngineSettings
    now: datetime
    playbook: Playbook
    vars: dict[str, Any]
    state: EngineState = field(default_factory=EngineState)
    findings: Findings = field(default_factory=Findings)
    notices: list[Reply] = field(default_factory=list)  # shown before every other reply
    replies: list[Reply] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    forgotten: bool = False
    _accounts: dict[Any, Account | None] = field(default_factory=dict)
    # everyone at a customer's hospital, by customer id (coach/actions/known.py)
    peers: dict[int, list[Any]] = field(default_factory=dict)

    @property
    def local_now(self) -> datetime:
        """The rep's wall-clock time: "today", 明天 and the daily cap follow their day."""
        return self.now + timedelta(hours=self.settings.utc_offset_hours)

    def local_date(self, moment: datetime) -> str:
        """A stored (UTC) moment as the rep's calendar date."""
        return (moment + timedelta(hours=self.settings.utc_offset_hours)).date().isoformat()

    def local_time(self, moment: datetime) -> str:
        """A stored (UTC) moment as the rep's wall-clock time, to the minute."""
        local = moment + timedelta(hours=self.settings.utc_offset_hours)
        return local.strftime("%Y-%m-%d %H:%M")

    def recent_notes(self, account_ids: Iterable[int], days: int, *,
                     limit: int | None = None) -> list[NoteText]:
        """The rep's notes on `account_ids` from the last `days`, newest first. Read with
        the longest look-back any reader of a turn uses (NOTES_WINDOW_DAYS), so the readers
        after the first (regression, crisis, events, known facts) find them read."""
        window = self.now - timedelta(days=max(days, NOTES_WINDOW_DAYS))
        return self.store.notes_since(account_ids, self.now - timedelta(days=days),
                                      window=window, limit=limit)

    def day_start(self) -> datetime:
        """The UTC moment the rep's current day began."""
        local = self.local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        return local - timedelta(hours=self.settings.utc_offset_hours)

    @property
    def locale(self) -> str:
        return self.rep.locale if self.rep.locale in ("zh", "en") else "zh"

    # the current customer ---------------------------------------------------------------
    def account(self) -> Account | None:
        """The current customer, read once per turn (templates ask for it many times)."""
        account_id = self.vars.get("account")
        if account_id not in self._accounts:
            self._accounts[account_id] = self.store.account(account_id)
        return self._accounts[account_id]

    def require_account(self) -> Account:
        account = self.account()
        if account is None:
            raise LookupError("this step needs a customer; add an `input: account` step first")
        return account

    def account_view(self, account: Account | None) -> AccountView | None:
        if account is None:
            return None
        return account_view(account, self.library.stage_name(account.stage, self.locale),
                            self.library.style_name(account.style, self.locale))

    # texts ----------------------------------------------------------------------------
    def context(self, **extra: Any) -> dict[str, Any]:
        context = {k: v for k, v in self.vars.items() if not k.startswith("_")}
        context.setdefault("command_args", "")
        context.update(
            suspended=self._suspended_title(),
            # `manager`: the team entries of /menu are for a team's manager only
            rep=rep_view(self.rep.name, self.locale, self.is_team_manager()),
            account=self.account_view(self.account()),
            content=self.library.content(self.playbook, self.locale),
            locale=self.locale,
            today=self.local_now.date().isoformat(),
        )
        context.update(extra)
        return context

    def _suspended_title(self) -> str | None:
        """The title of the flow put aside while a note is logged, for a "back to it"
        choice; None when there is none."""
        if not self.state.suspended:
            return None
        playbook = self.library.playbooks.get(self.state.suspended[-1].playbook)
        return playbook.title.get(self.locale) if playbook is not None else None

    def render(self, text: Text | str, **extra: Any) -> str:
        source = text if isinstance(text, str) else text.get(self.locale)
        if is_plain(source):
            return source.strip()
        return render(source, self.context(**extra))

    def render_html(self, text: Text | str, **extra: Any) -> str:
        """An HTML document: every value escaped."""
        source = text if isinstance(text, str) else text.get(self.locale)
        return render_html(source, self.context(**extra))

    def document(self, template: Text | str, filename: str, default: str,
                 **extra: Any) -> None:
        """Render an HTML document (`template`, values escaped) and send it with the next
        reply under `filename` (`default` when the name comes out empty): a signed link where
        documents are served, a file (with its font, coach/documents/replies.py) otherwise."""
        html = self.render_html(template, **extra)
        name = safe_filename(filename, default)
        self.attachments.append(Attachment(name, "text/html", html.encode("utf-8")))

    def is_team_manager(self) -> bool:
        """Whether the person chatting manages a team (the team entries of /menu)."""
        return self.rep.role == "manager" and bool(self.rep.team)

    def message(self, key: str, **context: Any) -> str:
        context.setdefault("rep", rep_view(self.rep.name, self.locale, self.is_team_manager()))
        return self.library.message(key, self.locale, **context)

    def say(self, text: str, choices: tuple[Choice, ...] = ()) -> None:
        """Queue a reply; a pending attachment (a chart, a plan) rides on the next one."""
        attachment = self.attachments.pop(0) if self.attachments else None
        self.replies.append(Reply(text=text, choices=choices, attachment=attachment))

    def flush_attachments(self) -> None:
        while self.attachments:
            attachment = self.attachments.pop(0)
            self.replies.append(Reply(text=attachment.filename, attachment=attachment))

