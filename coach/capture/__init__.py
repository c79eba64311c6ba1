"""Understanding what a rep types: the customer, hospital, department and next step of a
visit note, and which of the rep's customers it is about.

    lexicon, problems = load_lexicon(Path("playbooks/capture/lexicon.yaml"))
    facts = read_note(lexicon, note, today, known_hospitals)   # NoteFacts
    resolve(facts.mention, accounts, fields)                    # known / ambiguous / new
"""

from coach.capture.corrections import Correction, read_correction
from coach.capture.lexicon import LEXICON_FILE, Lexicon, load_lexicon
from coach.capture.matching import Mention, Resolution, resolve
from coach.capture.reader import (
    NoteFacts,
    looks_like_note,
    mention_in,
    read_note,
    read_note_about,
    says_more_than_who,
)

__all__ = [
    "LEXICON_FILE",
    "Correction",
    "Lexicon",
    "Mention",
    "NoteFacts",
    "Resolution",
    "load_lexicon",
    "looks_like_note",
    "mention_in",
    "read_correction",
    "read_note",
    "read_note_about",
    "resolve",
    "says_more_than_who",
]
