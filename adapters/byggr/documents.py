"""Attachments on their way to ByggR: proven intact before anything is sent.

Building permits come with 10-50 MB drawings, so verification streams the stored file in chunks, and the SOAP
transport streams it again into the request (``SoapService.file_value``), checking the sha256 once more.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from brygga.errors import TargetRejected
from brygga.plugins import StoredDocument

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class VerifiedDocument:
    name: str  # last path component only; the name came from a resident's upload
    path: Path
    size: int
    sha256: str
    position: int  # 1-based, for messages: names of uploads may carry personal data

    @property
    def extension(self) -> str:
        _, dot, extension = self.name.rpartition(".")
        return extension.lower() if dot else ""


def verify(document: StoredDocument, position: int) -> VerifiedDocument:
    """Hash the stored file in chunks; refuse it unless size and sha256 match what intake recorded."""
    digest = hashlib.sha256()
    size = 0
    try:
        with document.path.open("rb") as stored:
            for chunk in iter(lambda: stored.read(CHUNK_BYTES), b""):
                digest.update(chunk)
                size += len(chunk)
    except OSError:
        raise TargetRejected(f"document {position}: stored content cannot be read") from None
    if digest.hexdigest() != document.sha256.lower() or size != document.size:
        raise TargetRejected(f"document {position}: stored content does not match its recorded sha256/size")
    # PureWindowsPath splits on both / and \, so "..\\x/y.pdf" gives "y.pdf".
    name = PureWindowsPath(document.name).name or f"document-{position}"
    return VerifiedDocument(name=name, path=document.path, size=size, sha256=digest.hexdigest(), position=position)


def verify_all(documents: list[StoredDocument]) -> list[VerifiedDocument]:
    return [verify(document, position) for position, document in enumerate(documents, start=1)]
