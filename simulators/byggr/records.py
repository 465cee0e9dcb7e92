"""What the ByggR simulator remembers: cases, their handelser and the documents in them.

The arende and handelse XML is kept as received (plus the ids the simulator assigns), so responses show
exactly what a client sent. File contents are kept as bytes with their sha256, so tests can prove a
document arrived intact.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

ARENDE_NS = "www.tekis.se/arende"
CONTRACT_NS = "www.tekis.se/ServiceContract"

# Child order of the xs:sequence in the arende and handelse types; inserted children must respect it.
ARENDE_ORDER = (
    "status",
    "beskrivning",
    "ankomstDatum",
    "slutDatum",
    "uppdateradDatum",
    "registreradDatum",
    "handlaggare",
    "intressentLista",
    "handelseLista",
    "arInomplan",
    "projektnr",
    "objektLista",
    "atgardStartDatum",
    "atgardSlutDatum",
    "arSammanhBebygg",
    "makulerDatum",
    "externRef",
    "prioritet",
    "komplexitet",
)
HANDELSE_ORDER = (
    "riktning",
    "rubrik",
    "startDatum",
    "anteckning",
    "handelseslag",
    "handelsetyp",
    "handelseutfall",
    "sekretess",
    "sekretessKapitel",
    "sekretessParagraf",
    "makulerad",
    "handlingLista",
    "intressentLista",
    "arbetsmaterial",
    "TidDebiterbar",
    "TidEjDebiterbar",
    "handlaggare",
)


def a(name: str) -> str:
    """Qualified name in the arende namespace."""
    return f"{{{ARENDE_NS}}}{name}"


def c(name: str) -> str:
    """Qualified name in the service-contract namespace."""
    return f"{{{CONTRACT_NS}}}{name}"


def set_child(parent: etree._Element, name: str, order: tuple[str, ...]) -> etree._Element:
    """Replace (or add) the arende-namespace child ``name`` at its schema position."""
    for old in parent.findall(a(name)):
        parent.remove(old)
    new = etree.Element(a(name))
    rank = order.index(name)
    for index, child in enumerate(parent):
        if isinstance(child.tag, str) and etree.QName(child).localname in order[rank + 1 :]:
            parent.insert(index, new)
            return new
    parent.append(new)
    return new


def child_text(parent: etree._Element, name: str) -> str | None:
    found = parent.find(a(name))
    return found.text if found is not None else None


@dataclass
class DocumentRecord:
    handling_id: int
    dok_id: str
    name: str
    content: bytes

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class HandelseRecord:
    handelse_id: int
    element: etree._Element  # {arende}handelse with handlingLista, file contents removed
    documents: list[DocumentRecord] = field(default_factory=list)

    @property
    def rubrik(self) -> str | None:
        return child_text(self.element, "rubrik")

    @property
    def anteckning(self) -> str | None:
        return child_text(self.element, "anteckning")


@dataclass
class CaseRecord:
    dnr: str
    arende_id: int
    element: etree._Element  # {arende}arende as received, with dnr, arendeId, status and dates set
    updated: datetime
    handelser: list[HandelseRecord] = field(default_factory=list)

    @property
    def extern_ref(self) -> str | None:
        return child_text(self.element, "externRef")

    @property
    def status(self) -> str | None:
        return child_text(self.element, "status")

    def fastigheter(self) -> list[tuple[etree._Element, etree._Element]]:
        """(abstractArendeObjekt, fastighet) pairs; xsi:type is not needed to find them."""
        pairs = []
        for objekt in self.element.iterfind(f"{a('objektLista')}/{a('abstractArendeObjekt')}"):
            fastighet = objekt.find(a("fastighet"))
            if fastighet is not None:
                pairs.append((objekt, fastighet))
        return pairs

    def summary(self) -> dict[str, object]:
        """A JSON view without personal data: ids, status and document fingerprints only."""
        return {
            "dnr": self.dnr,
            "arendeId": self.arende_id,
            "externRef": self.extern_ref,
            "status": self.status,
            "updated": self.updated.isoformat(),
            "handelser": [
                {
                    "handelseId": h.handelse_id,
                    "rubrik": h.rubrik,
                    "anteckning": h.anteckning,
                    "documents": [
                        {"dokId": d.dok_id, "size": d.size, "sha256": d.sha256} for d in h.documents
                    ],
                }
                for h in self.handelser
            ],
        }
