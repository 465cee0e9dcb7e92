"""Inbox folder source: every regular file waiting in the folder is one submission.

Producers should write to a temporary name and rename when done; names starting with '.' or
ending in .part/.tmp are not picked up. After the raw bytes are landed the file is removed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from brygga_adapters.file.paths import resolve_config_path

from brygga.connections import Connection
from brygga.plugins import IncomingItem, configure

log = logging.getLogger(__name__)

_IN_PROGRESS_SUFFIXES = (".part", ".tmp", ".partial")


class FileInboxSource:
    config_spec: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "required": ["path"],
        "properties": {
            "path": {"type": "string", "description": "Inbox folder; relative to BRYGGA_HOME."},
            "pattern": {"type": "string", "default": "*.xml"},
            "max_bytes": {"type": "integer", "minimum": 1, "default": 100 * 1024 * 1024,
                          "description": "Larger files are moved to <inbox>/oversize/ and reported."},
        },
    }

    def __init__(self, config: dict[str, Any], connection: Connection | None = None) -> None:
        config = configure("file-inbox", self.config_spec, config)
        self.root = resolve_config_path(config["path"])
        self.pattern = config["pattern"]
        self.max_bytes = config["max_bytes"]

    def _waiting(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(
            p for p in self.root.glob(self.pattern)
            if p.is_file() and not p.is_symlink() and not p.name.startswith(".")
            and not p.name.endswith(_IN_PROGRESS_SUFFIXES)
        )

    def poll(self) -> Iterator[IncomingItem]:
        oversize = 0
        for path in self._waiting():
            if path.stat().st_size > self.max_bytes:
                target = self.root / "oversize"
                target.mkdir(exist_ok=True)
                path.rename(target / path.name)
                oversize += 1
                continue
            yield IncomingItem(name=path.name, data=path.read_bytes(), location=str(path))
        if oversize:
            log.warning("moved %d file(s) over %d bytes to %s", oversize, self.max_bytes, self.root / "oversize")

    def acknowledge(self, item: IncomingItem) -> None:
        Path(item.location).unlink(missing_ok=True)
