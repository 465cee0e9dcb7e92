"""A large random attachment written to disk a megabyte at a time, as a ``StoredDocument`` with its real sha256:
for tests that a big drawing reaches a target intact without holding it in memory."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from brygga.plugins import StoredDocument

MEGABYTE = 1024 * 1024


def random_drawing(root: Path, size: int, filename: str) -> StoredDocument:
    """``root/drawing`` filled with ``size`` random bytes (a whole number of megabytes), as a PDF attachment."""
    digest = hashlib.sha256()
    path = root / "drawing"
    with path.open("wb") as out:
        for _ in range(size // MEGABYTE):
            chunk = os.urandom(MEGABYTE)
            digest.update(chunk)
            out.write(chunk)
    return StoredDocument(filename, "application/pdf", size, digest.hexdigest(), path)
