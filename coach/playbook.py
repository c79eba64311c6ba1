"""Playbook and step models: the structure of the YAML files, nothing about running them.

Pydantic checks shape (types, unknown keys, missing keys) and `coach.validate` checks meaning.
Both report through `coach.issues.Issue` with the file and line of the offending YAML.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

LOCALES: tuple[str, ...] = ("zh", "en")
InputKind = Literal["text", "name", "number", "date", "days", "account", "item"]
END = "end"


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a playbook must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A user-facing text in both locales; each is a jinja2 template.

    Both are optional here so that a missing translation is reported by validation together
    with every other problem, instead of stopping the file's shape check.
    """

    zh: str | None = None
    en: str | None = None

    def get(self, locale: str) -> str:
        chosen = self.en if locale == "en" else self.zh
        return chosen if chosen is not None else (self.zh or self.en or "")


class ChoiceSpec(Strict):
    """One button of a question. `when` (a template expression) shows it only when true:
    "don't remind me" only when there is a date to drop. Typed numbers follow the buttons
    actually shown, so a hidden choice never shifts what "2" means."""

    label: Text
    when: str | None = None
    value: str | int | None = None
    scores: dict[str, float] = Field(default_factory=dict)
    evidence: Text | None = None
    next: str | None = None
    # a sign of moving back (用得少了): weighs twice in a diagnosis and is always listed
    decline: bool = False


class BranchCase(Strict):
    when: str
    next: str


StepKind = Literal["say", "choice", "input", "action", "set", "branch"]


class StepSpec(Strict):
    """One step. Exactly one of say / ask / action / set / branch makes its kind."""

    id: str
    say: Text | None = None
    ask: Text | None = None
    choices: list[ChoiceSpec] | None = None
    input: InputKind | None = None
    save: str | None = None
    optional: bool = False
    passthrough: bool = False
    # a choice step: typed text that picks no choice goes to this step, in the variable
    # `typed` (the log proposal reads "改到下周二" as a correction)
    on_text: str | None = None
    keep: bool = False
    create: bool = False
    min: float | None = None
    max: float | None = None
    items: str | None = None  # `input: item`: the variable holding [{id, label}, …] to pick from
    query: str | None = None  # `input: account`: a variable holding a customer to look up first
    # `input: account` with `create`: keep a new customer in this variable instead of adding
    # it at once, so it is added only when the flow saves (a cancelled log adds nobody)
    create_into: str | None = None
    # the step's texts speak of the current customer as 他 / he: said with the pronoun the
    # rep writes for them (她 / she when the rep's notes do; coach/actions/pronoun.py)
    pronoun: bool = False
    action: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    set: dict[str, str] | None = None
    branch: list[BranchCase] | None = None
    next: str | None = None

    @property
    def kinds(self) -> list[StepKind]:
        """Every kind this step claims; validation insists on exactly one."""
        found: list[StepKind] = []
        if self.say is not None:
            found.append("say")
        if self.ask is not None:
            found.append("choice" if self.input is None else "input")
        if self.action is not None:
            found.append("action")
        if self.set is not None:
            found.append("set")
        if self.branch is not None:
            found.append("branch")
        return found

    @property
    def kind(self) -> StepKind:
        return self.kinds[0]


class Playbook(Strict):
    id: str
    version: int = Field(ge=1)
    title: Text
    summary: Text | None = None
    commands: list[str] = Field(default_factory=list)
    keywords: dict[str, list[str]] = Field(default_factory=dict)
    dimensions: list[str] = Field(default_factory=list)
    content: dict[str, Any] = Field(default_factory=dict)
    start: str | None = None
    steps: list[StepSpec]

    def step(self, step_id: str) -> StepSpec | None:
        for step in self.steps:
            if step.id == step_id:
                return step
        return None

    @property
    def first_step(self) -> str:
        return self.start or self.steps[0].id

    def following(self, step_id: str) -> str:
        """The step after `step_id` in file order, or END after the last one."""
        ids = [s.id for s in self.steps]
        index = ids.index(step_id)
        return ids[index + 1] if index + 1 < len(ids) else END


class FreeText(Strict):
    playbook: str
    save: str


class CommandSpec(Strict):
    name: str
    description: Text


class Labels(Strict):
    """Names shared by every playbook: adoption stages and thinking-style quadrants."""

    stages: dict[str, Text]
    styles: dict[str, Text]
    roles: dict[str, Text] = Field(default_factory=dict)
    classes: dict[str, Text] = Field(default_factory=dict)
    quadrants: dict[str, Text] = Field(default_factory=dict)
    adopters: dict[str, Text] = Field(default_factory=dict)
    needs: dict[str, Text] = Field(default_factory=dict)
    objections: dict[str, Text] = Field(default_factory=dict)
    # typed answers to a button that is not there ("确定"): coach/turn/button_words.py
    controls: dict[str, Text] = Field(default_factory=dict)


class Catalog(Strict):
    """The engine's own texts, shared labels and the command menu (`system.yaml`)."""

    id: str
    version: int = Field(ge=1)
    free_text: FreeText
    reschedule: str
    kept_notes: str = "kept"  # offers notes typed mid-question that were not logged yet
    # a short message naming a feature ("计划书", "看看我的客户"): open it, or log it as a note
    feature_offer: str = "offer"
    review: str = "stage"
    commands: list[CommandSpec]
    labels: Labels
    messages: dict[str, Text]


STAGES: tuple[str, ...] = ("awareness", "interest", "evaluation", "trial", "adoption")
STYLES: tuple[str, ...] = ("A", "B", "C", "D")


REQUIRED_MESSAGES: tuple[str, ...] = (
    "welcome",
    "not_enrolled",
    "enroll_ok",
    "enroll_bad_code",
    "unknown_command",
    "unknown_command_close",
    "command_choice_label",
    "cancel_title",
    "stale_button",
    "cancelled",
    "cancelled_back",
    "nothing_to_cancel",
    "choose_from_list",
    "answered_earlier_list",
    "invalid_number",
    "number_out_of_range",
    "invalid_date",
    "date_out_of_range",
    "empty_message",
    "message_too_long",
    "long_message_kept",
    "button_not_active",
    "flow_done",
    "skip_label",
    "account_prompt",
    "account_none_yet",
    "account_matches",
    "account_not_found",
    "account_unknown",
    "account_create_label",
    "account_retype_label",
    "account_picked",
    "account_created",
    "account_label",
    "coaching_no_stage",
    "reminder",
    "reminder_log_label",
    "reminder_reschedule_label",
    "reminder_drop_label",
    "reminder_dropped",
    "nudge",
    "adverse_event_reminder",
    "adverse_event_forwarded_label",
    "adverse_event_escalation",
    "adverse_event_question",
    "compliance_flag_notice",
    "access_revoked",
    "access_revoked_report",
    "erased_start_again", "erased_start_again_label", "erased_need_code", "erased_report",
    "report_correction",
    "report_moved",
    "followup_move_item",
    "enroll_too_many",
    "media_not_sent",
    "document_link",
    "document_expired",
    "document_forged",
    "report_kind_event",
    "report_kind_death",
    "report_kind_pregnancy",
    "report_kind_breastfeeding",
    "report_kind_overdose",
    "report_kind_misuse",
    "report_kind_medication_error",
    "report_kind_lack_of_effect",
    "report_kind_off_label_use",
    "report_kind_quality_complaint",
    "report_kind_infection_transmission",

    "adverse_event_yes_label",
    "adverse_event_no_label",
    "adverse_event_confirmed",
    "adverse_event_not_one",
    "adverse_event_dismiss_label",
    "adverse_event_dismiss_ask",
    "adverse_event_dismissed",
    "dismiss_reason_no_event",
    "dismiss_reason_competitor",
    "dismiss_reason_reported",
    "dismiss_reason_not_patient",
    "dismiss_reason_unrelated",
    "dismiss_reason_typed",
    "dismiss_reason_not_taken",
    "adverse_event_repeat",
    "prescription_count_removed",
    "today_report_item_label", "today_reports_label", "today_back_label",
    "today_report_ask",
    "adverse_event_forwarded",
    "forward_confirm", "forward_confirm_label", "forward_not_yet_label", "forward_kept_open",
    "forward_undo_label", "today_undo_label", "today_item_changed", "forward_undone",
    "forward_undo_too_late",
    "nudge_review_label",
    "nudge_snooze_label",
    "nudge_snoozed",
    "saved_nothing",
    "adverse_event_notice",
    "note_parked",
    "regression_evidence",
    "note_trimmed",
    "coaching_card",
    "today_crisis_label",
    "digest_manager",
    "digest_rep",
    "digest_manager_document",
    "digest_rep_document",
    "digest_filename",
    "digest_document_link",
    "too_many_kept",
    "name_not_a_name", "account_not_a_name", "team_forgotten_rep", "team_revoked_rep",
    "team_own_reports",
    "date_needs_words",
    "park_label",
    "resumed",
    "no_choices_waiting",
    "words_not_a_number",
)
