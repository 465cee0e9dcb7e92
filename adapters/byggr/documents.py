"""Attachments on their way to ByggR: read from the content store and proven intact before sending."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PureWindowsPath

from brygga.errors import TargetRejected
from brygga.plugins import StoredDocument


@dataclass(frozen=True)
class VerifiedDocument:
    name: str  # last path component only; the name came from a resident's upload
    content: bytes
    sha256: str

    @property
    def extension(self) -> str:
        _, dot, extension = self.name.rpartition(".")
        return extension.lower() if dot else ""


def read_verified(document: StoredDocument, position: int) -> VerifiedDocument:
    """Read the stored bytes and refuse them unless size and sha256 match what intake recorded.

    Messages name the position, not the file name: names of uploads may carry personal data.
    """
    try:
        content = document.path.read_bytes()
    except OSError:
        raise TargetRejected(f"document {position}: stored content cannot be read") from None
    digest = hashlib.sha256(content).hexdigest()
    if digest != document.sha256.lower() or len(content) != document.size:
        raise TargetRejected(f"document {position}: stored content does not match its recorded sha256/size")
    # PureWindowsPath splits on both / and \, so "..\\x/y.pdf" gives "y.pdf".
    name = PureWindowsPath(document.name).name or f"document-{position}"
    return VerifiedDocument(name=name, content=content, sha256=digest)
