"""Both locales, every playbook: which playbooks no transcript checks in Chinese or in English.

Reps use the bot in Chinese or in English, and a playbook's English text is as much a part of
it as its Chinese one; a flow tested in one language only can ship a broken reply in the
other. A transcript covers the playbooks its `covers:` lists, in each locale it checked a
reply in (the rep's locale as stored, see `testkit.transcripts.Script.step`), so a transcript
that only sends /lang at the start counts for English alone.
"""

from __future__ import annotations

from pathlib import Path

from coach.issues import Issue
from coach.library import Library
from testkit.transcripts import LOCALES, Transcript

CODE = "one-locale"


def playbook_file(playbook_dir: Path | None, playbook_id: str, fallback: str) -> str:
    """Where the author finds the playbook: `playbooks/<id>.yaml` when it is there."""
    if playbook_dir is not None and (playbook_dir / f"{playbook_id}.yaml").is_file():
        return str(playbook_dir / f"{playbook_id}.yaml")
    return fallback


def locale_issues(library: Library, transcripts: list[tuple[str, Transcript]],
                  checked: dict[str, set[str]], folder: str,
                  playbook_dir: Path | None = None) -> list[Issue]:
    """One issue per playbook and locale that no transcript in `folder` checks, naming the
    transcripts that check it in the other locale (the ones to translate)."""
    issues = []
    for playbook_id in sorted(library.playbooks):
        covering = {locale: [Path(file).name for file, transcript in transcripts
                             if playbook_id in transcript.covers
                             and locale in checked.get(file, set())]
                    for locale in LOCALES}
        for locale, language in LOCALES.items():
            if covering[locale]:
                continue
            others = [f"{LOCALES[other]} by {', '.join(files)}"
                      for other, files in covering.items() if other != locale and files]
            where = ("; it is checked in " + "; ".join(others)) if others else \
                "; no transcript covers it at all"
            issues.append(Issue(
                playbook_file(playbook_dir, playbook_id, folder), 1, CODE,
                f"playbook {playbook_id}: no transcript in {folder} checks a reply in "
                f"{language} ({locale}){where}"))
    return issues
