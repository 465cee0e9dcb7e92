"""Inbox folder source: every regular file waiting in the folder is one submission.

Producers should write to a temporary name and rename when done; names starting with '.' or
ending in .part/.tmp are not picked up. After the raw bytes are landed the file is removed.
Files are read as streams, so their size costs no memory; the route's ``limits`` decide what is too large.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from brygga.connections import Connection
from brygga.plugins import IncomingItem, configure
from brygga_adapters.file.paths import resolve_config_path

_IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".partial")


class FileInboxSource:
    config_spec: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["path"],
        "properties": {
            "path": {"type": "string", "description": "Inbox folder; relative to BRYGGA_HOME."},
            "pattern": {"type": "string", "default": "*.xml"},
        },
    }

    def __init__(self, config: dict[str, Any], connection: Connection | None = None) -> None:
        config = configure("file-inbox", self.config_spec, config)
        self.root = resolve_config_path(config["path"])
        self.pattern = config["pattern"]

    def _waiting(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(
            p for p in self.root.glob(self.pattern)
            if p.is_file() and not p.is_symlink() and not p.name.startswith(".")
            and not p.name.endswith(_IN_PROGRESS_SUFFIXES)
        )

    def poll(self) -> Iterator[IncomingItem]:
        for path in self._waiting():
            yield IncomingItem(name=path.name, location=str(path), open=functools.partial(path.open, "rb"),
                               size=path.stat().st_size)

    def acknowledge(self, item: IncomingItem) -> None:
        Path(item.location).unlink(missing_ok=True)
