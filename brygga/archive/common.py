"""Shared building blocks of the archive package: agents, namespaces, hashing, time stamps, XML output."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from brygga.archive.formats import FileFormat

METS_NS = "http://www.loc.gov/METS/"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
SIP_NS = "https://DILCIS.eu/XML/METS/SIPExtensionMETS"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
ERMS_NS = "https://DILCIS.eu/XML/ERMS"
PREMIS_NS = "http://www.loc.gov/premis/v3"

SIP_PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
CHECKSUM_TYPE = "SHA-256"
REPRESENTATION = "rep1"
CASE_JSON = "case.json"


@dataclass(frozen=True)
class Agent:
    """An organisation named in the package header, e.g. the archival creator "Kumla kommun".

    ``identification_code`` is the organisationsnummer or kommunkod: an organisation's number, never a person's.
    """

    name: str
    identification_code: str


@dataclass(frozen=True)
class PackageFile:
    """One file written into the package, with the facts every METS reference must carry."""

    rel_path: str  # POSIX path relative to the package root, always one we generated
    media_type: str
    size: int
    sha256: str
    created: str  # xs:dateTime
    original_name: str | None = None  # the submitted name: metadata only, never a path
    file_format: FileFormat | None = None  # identified for the representation's data files only


def now_timestamp() -> str:
    """An xs:dateTime in UTC to the second; METS, PREMIS and ERMS all accept it."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def sha256_file(path: Path) -> tuple[str, int]:
    """(hex digest, size) read in blocks, so large attachments are never held in memory whole."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def xml_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def safe_parser() -> etree.XMLParser:
    """Explicit parser for reading packages back: no DTDs, no entities, no network (see DESIGN.md)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
