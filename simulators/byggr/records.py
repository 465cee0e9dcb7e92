"""What the ByggR simulator remembers: cases, their handelser and the documents in them.

The arende and handelse XML is kept as received (plus the ids the simulator assigns), so responses show
exactly what a client sent. File contents are kept as bytes with their sha256, so tests can prove a
document arrived intact. ``CaseIndex`` finds cases by property and by externRef without scanning them all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from lxml import etree

ARENDE_NS = "www.tekis.se/arende"
CONTRACT_NS = "www.tekis.se/ServiceContract"
# The installation's local time: real ByggR writes its dates, and batch bounds without an offset, in Swedish time.
STOCKHOLM = ZoneInfo("Europe/Stockholm")

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


def local_date(moment: datetime) -> str:
    """The date ByggR writes for ``moment`` (``uppdateradDatum``, ``slutDatum``...): the Swedish calendar day."""
    return moment.astimezone(STOCKHOLM).date().isoformat()


def norm(text: str | None) -> str:
    """Designations compare case- and space-insensitively, as ByggR's search does."""
    return " ".join((text or "").split()).casefold()


@dataclass
class DocumentRecord:
    handling_id: int
    dok_id: str
    name: str
    content: bytes
    extension: str | None = None
    description: str | None = None
    created: datetime | None = None

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
    # FNRs the simulated property register gave properties sent without one, by position in fastigheter().
    # Kept apart from the element, which stays what the client sent.
    resolved_fnr: dict[int, str] = field(default_factory=dict)

    @property
    def extern_ref(self) -> str | None:
        return child_text(self.element, "externRef")

    @property
    def status(self) -> str | None:
        return child_text(self.element, "status")

    @property
    def handlaggare_id(self) -> str | None:
        """The assigned case officer's id; None before one is assigned (ByggR writes -1 then)."""
        found = self.element.find(a("handlaggare"))
        value = (found.get("handlaggareId") or "").strip() if found is not None else ""
        return value if value not in ("", "-1") else None

    def touch(self, now: datetime) -> None:
        """Record a change: GetUpdatedArenden reports the case for ``now``, and its uppdateradDatum shows the day."""
        self.updated = now
        set_child(self.element, "uppdateradDatum", ARENDE_ORDER).text = local_date(now)

    def fastigheter(self) -> list[tuple[etree._Element, etree._Element]]:
        """(abstractArendeObjekt, fastighet) pairs; xsi:type is not needed to find them."""
        pairs = []
        for objekt in self.element.iterfind(f"{a('objektLista')}/{a('abstractArendeObjekt')}"):
            fastighet = objekt.find(a("fastighet"))
            if fastighet is not None:
                pairs.append((objekt, fastighet))
        return pairs

    def fnr(self, position: int, fastighet: etree._Element) -> str | None:
        """The property's FNR: as sent, else as resolved by the simulator."""
        return (fastighet.get("fnr") or "").strip() or self.resolved_fnr.get(position)

    def summary(self) -> dict[str, object]:
        """A JSON view without personal data: ids, status and document fingerprints only."""
        return {
            "dnr": self.dnr,
            "arendeId": self.arende_id,
            "externRef": self.extern_ref,
            "status": self.status,
            "handlaggareId": self.handlaggare_id,
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


class CaseIndex:
    """dnr by FNR, by (trakt, fbetNr) and by externRef, in registration order: a lookup costs the matches, not every
    case. What it keys on is fixed when a case is registered (its properties, resolved FNRs and externRef)."""

    def __init__(self) -> None:
        self._by_fnr: dict[str, dict[str, None]] = {}
        self._by_designation: dict[tuple[str, str], dict[str, None]] = {}
        self._by_extern_ref: dict[str, dict[str, None]] = {}
        self._rank: dict[str, int] = {}  # registration order, to merge two lists of matches

    def add(self, case: CaseRecord) -> None:
        self._rank.setdefault(case.dnr, len(self._rank))
        for position, (_, fastighet) in enumerate(case.fastigheter()):
            fnr = case.fnr(position, fastighet)
            if fnr:
                self._by_fnr.setdefault(fnr, {})[case.dnr] = None
            trakt, fbet_nr = norm(child_text(fastighet, "trakt")), norm(child_text(fastighet, "fbetNr"))
            if trakt and fbet_nr:
                self._by_designation.setdefault((trakt, fbet_nr), {})[case.dnr] = None
        if case.extern_ref:
            self._by_extern_ref.setdefault(case.extern_ref, {})[case.dnr] = None

    def find(self, fnr: str | None, trakt: str | None, fbet_nr: str | None) -> list[str]:
        found: dict[str, None] = {}
        if fnr:
            found.update(self._by_fnr.get(fnr, {}))
        if trakt and fbet_nr:
            by_designation = self._by_designation.get((norm(trakt), norm(fbet_nr)), {})
            if found and by_designation:  # either list is in registration order; together they are too
                return sorted(found.keys() | by_designation.keys(), key=self._rank.__getitem__)
            found.update(by_designation)
        return list(found)

    def with_extern_ref(self, extern_ref: str) -> list[str]:
        return list(self._by_extern_ref.get(extern_ref, {}))

    def per_extern_ref(self) -> dict[str, int]:
        """How many cases carry each externRef."""
        return {ref: len(dnrs) for ref, dnrs in self._by_extern_ref.items()}

    def clear(self) -> None:
        self._by_fnr.clear()
        self._by_designation.clear()
        self._by_extern_ref.clear()
        self._rank.clear()
