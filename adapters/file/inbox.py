"""Inbox folder source: every regular file waiting in the folder is one submission.

Producers should write to a temporary name and rename when done; names starting with '.' or
ending in .part/.tmp are not picked up. After the raw bytes are landed the file is removed.
Files are read as streams, so their size costs no memory; the route's ``limits`` decide what is too large.
"""

from __future__ import annotations

import functools
import logging
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from brygga.connections import Connection
from brygga.plugins import IncomingItem, configure
from brygga_adapters.file.paths import resolve_config_path

log = logging.getLogger("brygga.adapters.file")

_IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".partial")


def _identity(stat: os.stat_result) -> tuple[int, int, int, int]:
    return stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns


def _takeable(path: Path) -> bool:
    return (not path.name.startswith(".") and not path.name.endswith(_IN_PROGRESS_SUFFIXES) and path.is_file()
            and not path.is_symlink())


def waiting_files(root: Path, pattern: str) -> list[Path]:
    """The files a run would take in from ``root``, by name: the pattern's matches that are neither hidden, nor in
    progress, nor symlinks. The inbox's arrival trigger (brygga_airflow.triggers) watches the same set."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob(pattern) if _takeable(p))


class FileInboxSource:
    config_spec: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["path"],
        "properties": {
            "path": {"type": "string", "description": "Inbox folder; relative to BRYGGA_HOME."},
            "pattern": {"type": "string", "default": "*.xml",
                        "description": "Glob the file names must match; other files are left where they are."},
        },
    }

    def __init__(self, config: dict[str, Any], connection: Connection | None = None) -> None:
        config = configure("file-inbox", self.config_spec, config)
        self.root = resolve_config_path(config["path"])
        self.pattern = config["pattern"]
        self._read: dict[str, tuple[int, int, int, int]] = {}  # what was read, by location: see acknowledge

    def _waiting(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        matching = waiting_files(self.root, self.pattern)
        taken = set(matching)
        self._report_unmatched([p for p in self.root.iterdir() if _takeable(p) and p not in taken])
        return matching

    def _report_unmatched(self, others: list[Path]) -> None:
        """Files the pattern leaves out are reported each run, not silently ignored. File names may name a
        person, so the warning gives their count and kinds only."""
        if not others:
            return
        kinds = Counter(p.suffix.lower() or "(no extension)" for p in others)
        log.warning("inbox %s: %d file(s) do not match the pattern %r and are not taken in (%s); move them out or "
                    "change the source's pattern", self.root, len(others), self.pattern,
                    ", ".join(f"{count} x {kind}" for kind, count in sorted(kinds.items())))

    def poll(self) -> Iterator[IncomingItem]:
        for path in self._waiting():
            try:
                size = path.stat().st_size
            except FileNotFoundError:
                continue  # another run took it in since the listing
            yield IncomingItem(name=path.name, location=str(path), open=functools.partial(self._open, path), size=size)

    def _open(self, path: Path) -> BinaryIO:
        reader = path.open("rb")
        self._read[str(path)] = _identity(os.fstat(reader.fileno()))
        return reader

    def acknowledge(self, item: IncomingItem) -> None:
        """Remove the file that was read, and only that one: a new export renamed in under the same name since
        (another run took the first) is left for the next run."""
        read = self._read.pop(item.location, None)
        try:
            if read is not None and _identity(os.stat(item.location)) != read:
                log.info("inbox %s: a new file arrived under a name just taken in; left for the next run", self.root)
                return
            Path(item.location).unlink()
        except FileNotFoundError:
            pass  # another run took it in and removed it
