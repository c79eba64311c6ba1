"""Terminal chat: the console channel, for trying RepCoach with no token and no server.

Reads one message per line. Choices are printed as a numbered list; answer with the number.
Files (charts, plans) are written to a folder and their path is printed.
"""

from __future__ import annotations

import getpass
import hashlib
import sys
from pathlib import Path
from typing import TextIO

from bot.textrender import as_plain_text
from coach.documents.fonts import reply_with_font
from coach.engine import Engine
from coach.messages import Incoming, Reply, safe_filename

PROMPT = "> "


class ConsoleChannel:
    def __init__(self, engine: Engine, *, user: str | None = None,
                 files_dir: Path = Path("data/files"), stdin: TextIO = sys.stdin,
                 stdout: TextIO = sys.stdout, with_ids: bool = False) -> None:
        self.engine = engine
        self.with_ids = with_ids
        self.user = user or getpass.getuser()
        self.files_dir = files_dir
        self.stdin = stdin
        self.stdout = stdout

    def show(self, replies: list[Reply]) -> None:
        for reply in replies:
            self.stdout.write(as_plain_text(reply) + "\n")
            reply = reply_with_font(reply)  # a document opens offline, in its own font
            if reply.attachment is not None:
                # one folder per console user: two reps' exports of a day never overwrite
                folder = self.files_dir / safe_filename(self.user, "console")
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / reply.attachment.filename
                path.write_bytes(reply.attachment.data)
                self.stdout.write(f"[{path}]\n")
            self.stdout.write("\n")
        self.stdout.flush()

    def send(self, text: str | None, *, opened: bool = False,
             message_id: str | None = None) -> list[Reply]:
        return list(self.engine.handle_sync(
            Incoming(channel="console", user_id=self.user, text=text, display_name=self.user,
                     opened=opened, message_id=message_id)
        ).replies)

    def run(self) -> None:
        """Chat until end of input (Ctrl-D). Opening resumes a question left unanswered."""
        self.show(self.send(None, opened=True))
        interactive = self.stdin.isatty()
        while True:
            if interactive:
                self.stdout.write(PROMPT)
                self.stdout.flush()
            line = self.stdin.readline()
            if not line:
                break
            text = line.rstrip("\n")
            if self.with_ids:
                self._replay(text)
                continue
            if not interactive:
                self.stdout.write(f"{PROMPT}{text}\n")
            self.show(self.send(text))

    def _message_key(self, message_id: str) -> str:
        """The id a script gives a line is the user's own: two console users' scripts both
        start at 1, and the second one's lines are not resent lines of the first."""
        user = self.user if len(self.user) <= 64 else hashlib.sha256(
            self.user.encode()).hexdigest()
        return f"console-{user}-{message_id[:48]}"

    def _replay(self, line: str) -> None:
        """`ID<TAB>TEXT`: a message with an id, as a platform would deliver it. Resending a
        line after a crash is safe: an id already handled is answered with nothing. `[done
        ID]` marks the end of each turn for the script driving us."""
        message_id, _, text = line.partition("\t")
        self.stdout.write(f"{PROMPT}{text}\n")
        self.show(self.send(text, message_id=self._message_key(message_id)))
        self.stdout.write(f"[done {message_id}]\n")
        self.stdout.flush()
