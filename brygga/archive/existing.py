"""What a package records about its case: the facts that make two builds "the same package".

``build_sip`` compares the facts it would write with those of a package already at the same path: equal facts
mean the package is already there (rebuilding is idempotent); any difference is a conflict, never an overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from brygga.archive.common import ERMS_NS, METS_NS, REPRESENTATION, safe_parser, sha256_file
from brygga.archive.mets import PREVIOUS_REFERENCE_CODE, SUBMISSION_AGREEMENT


@dataclass(frozen=True)
class PackageFacts:
    payload: dict[str, str]  # {file name in representations/rep1/data: sha256}
    diarienummer: str | None
    submission_agreement: str | None
    previous_package: str | None


def _parse(path: Path) -> etree._Element | None:
    try:
        return etree.parse(str(path), safe_parser()).getroot()
    except (OSError, etree.XMLSyntaxError):
        return None


def _payload(package: Path) -> dict[str, str]:
    data = package / "representations" / REPRESENTATION / "data"
    if not data.is_dir():
        return {}
    return {f.name: sha256_file(f)[0] for f in sorted(data.iterdir()) if f.is_file()}


def _alt_record_id(mets: etree._Element | None, kind: str) -> str | None:
    if mets is None:
        return None
    return mets.findtext(f"m:metsHdr/m:altRecordID[@TYPE='{kind}']", namespaces={"m": METS_NS})


def read_facts(path: Path) -> PackageFacts:
    """The facts recorded in the package at ``path``; what cannot be read counts as absent."""
    package = Path(path)
    erms = _parse(package / "metadata" / "descriptive" / "erms.xml")
    mets = _parse(package / "METS.xml")
    diarienummer = None if erms is None else erms.findtext(
        ".//e:aggregation/e:identification[@identificationType='diarienummer']", namespaces={"e": ERMS_NS})
    return PackageFacts(payload=_payload(package), diarienummer=diarienummer,
                        submission_agreement=_alt_record_id(mets, SUBMISSION_AGREEMENT),
                        previous_package=_alt_record_id(mets, PREVIOUS_REFERENCE_CODE))
