"""Remember that a set of playbook files passed validation, so that a worker starting on the
same files with the same code skips the validation pass (the template analysis is most of
a load's time: every worker of a deployment, at every start, reached the same verdict).

Sound by construction: the key is a hash of the very texts the loader parsed (each file's
name and text, `SourceFile.digest`) and of the code that judges them (every file of the
`coach` package, the versions of jinja2, pydantic, PyYAML and Python). Only a clean verdict
is stored; a file that changes, appears or goes away gives another key, so it is validated
in full and a malformed playbook is refused as before, never served on an old verdict.
`repcoach check playbooks` never reads the cache.

Where: a cache folder an administrator expects and may delete at any time: the
`playbooks.cache_dir` setting; by default `$CACHE_DIRECTORY` (systemd's `CacheDirectory=`),
else `$XDG_CACHE_HOME/repcoach`, else `~/.cache/repcoach`. One small file per playbook folder
(named by a hash of its absolute path), replaced atomically, so several workers starting at
once on one machine each write the same verdict and none reads half a file. A folder that
cannot be written (a read-only install) only means every start validates in full.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import tempfile
from functools import cache
from importlib.metadata import version
from pathlib import Path

import coach
from coach.loader import LoadResult

log = logging.getLogger(__name__)

#: what `playbooks.cache_dir` says to switch the cache off
OFF = "off"
_CODE_SUFFIXES = (".py", ".json", ".yaml", ".html")
_LIBRARIES = ("jinja2", "pydantic", "PyYAML")


def default_cache_dir() -> Path:
    """The cache folder when the configuration names none (see the module's docstring)."""
    systemd = os.environ.get("CACHE_DIRECTORY")
    if systemd:  # systemd may list several, separated by ':'
        return Path(systemd.split(":")[0])
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "repcoach"


@cache
def code_version() -> str:
    """A hash of the code that validates: every source and data file of the `coach` package
    and the versions of the libraries and Python it relies on. Computed once a process."""
    digest = hashlib.sha256()
    for name in _LIBRARIES:
        digest.update(f"{name}={version(name)}\0".encode())
    digest.update(f"python={platform.python_version()}\0".encode())
    package = Path(coach.__file__).resolve().parent
    files = sorted(p for p in package.rglob("*")
                   if p.suffix in _CODE_SUFFIXES and "__pycache__" not in p.parts)
    for file in files:
        digest.update(f"{file.relative_to(package).as_posix()}\0".encode())
        digest.update(file.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def verdict_key(result: LoadResult) -> str | None:
    """The key of a clean verdict on `result`; None when it has load problems (it can only
    be validated in full) or a file without a digest."""
    if result.issues or result.failed or not result.files:
        return None
    digests = [f.digest for f in result.files]
    if not all(digests):
        return None
    return hashlib.sha256("\n".join([code_version(), *digests]).encode()).hexdigest()


class ValidationCache:
    """Clean verdicts on playbook folders, kept in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, directory: Path) -> Path:
        name = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:24]
        return self.folder / f"playbooks-{name}.json"

    def passed(self, directory: Path, key: str) -> bool:
        """True when files with `key` in `directory` were validated clean before."""
        try:
            stored = json.loads(self._file(directory).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(stored, dict) and stored.get("key") == key

    def remember(self, directory: Path, key: str) -> None:
        """Store a clean verdict; a folder that cannot be written is left alone."""
        target = self._file(directory)
        body = json.dumps({"key": key, "directory": str(directory.resolve())})
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".playbooks-")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(body)
                os.replace(temporary, target)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as exc:
            log.debug("playbook validation not cached in %s: %s", self.folder, exc)
