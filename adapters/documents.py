"""What every case target does with a submission's documents and amendments, whatever the case system.

Documents are proven intact before anything is sent: building permits come with 10-50 MB drawings, so
verification streams the stored file in chunks, and the transports stream it again into the request (SOAP:
``SoapService.file_value``; REST: ``brygga_adapters.rest.documents``), checking the sha256 once more.

An amendment's note tells the case officer what changed (field names, never values) and ends with the marker a
retry looks for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from brygga.errors import TargetRejected
from brygga.plugins import StoredDocument

CHUNK_BYTES = 1 << 20

# Canonical field names in an amendment, as a Swedish case officer reads them; unknown names are shown as they are.
_FIELD_LABELS = {
    "parties": "parter",
    "properties": "fastigheter",
    "attachments": "bilagor",
    "title": "rubrik",
    "details": "ärendeuppgifter",
    "details.bygglov": "uppgifter om åtgärden",
}


@dataclass(frozen=True)
class VerifiedDocument:
    name: str  # last path component only; the name came from a resident's upload
    path: Path
    size: int
    sha256: str
    position: int  # 1-based, for messages: names of uploads may carry personal data

    @property
    def extension(self) -> str:
        """The file name's extension without the dot, lower case; empty when it has none."""
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


def amendment_note(marker: str, revision: int, changed_fields: Iterable[str]) -> str:
    """The note of what an amendment adds (a ByggR handelse, Ecos documents): what changed, then the marker."""
    # The Swedish label for the case officer, the canonical name for whoever traces it back to the form.
    labels = [f"{_FIELD_LABELS[name]} ({name})" if name in _FIELD_LABELS else name for name in changed_fields]
    changed = f" Ändrade uppgifter: {', '.join(labels)}." if labels else ""
    return f"Komplettering via e-tjänst, version {revision}.{changed}\n{marker}"
