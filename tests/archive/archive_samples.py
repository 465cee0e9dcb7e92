"""Sample agents and a document helper for the archive tests (a unique module name, unlike conftest)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from brygga.archive import Agent
from brygga.plugins import StoredDocument

PERSONNUMMER = "198005122380"
KUMLA = Agent("Kumla kommun", "2120001637")
SUBMITTER = Agent("Kumla kommun, kommunarkivet", "1881")


def stored(store: Path, name: str, data: bytes, media_type: str) -> StoredDocument:
    digest = hashlib.sha256(data).hexdigest()
    path = store / digest
    path.write_bytes(data)
    return StoredDocument(name=name, media_type=media_type, size=len(data), sha256=digest, path=path)
