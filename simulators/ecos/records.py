"""What the Ecos simulator remembers: parties, cases with their occurrences, documents, estates and roles.

Document contents are kept as bytes with their sha256, so tests can prove a document arrived intact.
``summary`` views carry ids, names of reference data and fingerprints, never names or identity numbers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath


@dataclass
class PartyRecord:
    party_id: str
    kind: str  # "person" or "organization"
    identity_number: str  # normalised: 12-digit personnummer, 10-digit organisationsnummer
    first_name: str | None = None
    last_name: str | None = None
    organization_name: str | None = None
    addresses: list[dict[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {"party_id": self.party_id, "kind": self.kind, "addresses": len(self.addresses)}


@dataclass
class DocumentRecord:
    document_id: str
    filename: str
    content: bytes
    content_type: str | None = None
    document_type_id: str | None = None
    note: str | None = None
    status_id: str | None = None  # a DocumentStatusId; None: the installation's incoming status
    sha256: str = ""

    def __post_init__(self) -> None:
        self.sha256 = hashlib.sha256(self.content).hexdigest()

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def extension(self) -> str:
        """How GetDocument names the file kind: the filename's suffix, e.g. ``.pdf``."""
        return PurePosixPath(self.filename).suffix.lower()

    def summary(self) -> dict[str, object]:
        return {"document_id": self.document_id, "document_type_id": self.document_type_id,
                "status_id": self.status_id, "size": self.size, "sha256": self.sha256}


@dataclass
class OccurrenceRecord:
    occurrence_id: str
    occurrence_type_id: str
    date: datetime
    note: str | None
    documents: list[DocumentRecord] = field(default_factory=list)


@dataclass
class RoleConnection:
    connection_id: str
    party_id: str
    role_id: str


@dataclass
class EstateRecord:
    connection_id: str
    fnr: int
    designation: str


@dataclass
class CaseRecord:
    case_id: str
    case_number: str
    process_type_id: str
    process_type_name: str
    registered: datetime
    subtitle_free: str | None = None
    external_case_number: str | None = None
    occurrences: list[OccurrenceRecord] = field(default_factory=list)
    roles: list[RoleConnection] = field(default_factory=list)
    estates: list[EstateRecord] = field(default_factory=list)

    @property
    def documents(self) -> list[DocumentRecord]:
        return [document for occurrence in self.occurrences for document in occurrence.documents]

    def has_role(self, party_id: str, role_id: str | None = None) -> bool:
        return any(c.party_id == party_id and (role_id is None or c.role_id == role_id) for c in self.roles)

    def summary(self) -> dict[str, object]:
        """A JSON view without personal data. CaseSubtitleFree is left out: a title may name a person."""
        return {
            "case_id": self.case_id,
            "case_number": self.case_number,
            "process_type": self.process_type_name,
            "external_case_number": self.external_case_number,
            "registered": self.registered.isoformat(),
            "occurrences": [
                {"occurrence_id": o.occurrence_id, "occurrence_type_id": o.occurrence_type_id,
                 "documents": [d.summary() for d in o.documents]}
                for o in self.occurrences
            ],
            "roles": [{"party_id": c.party_id, "role_id": c.role_id} for c in self.roles],
            "estates": [{"fnr": e.fnr} for e in self.estates],
        }
