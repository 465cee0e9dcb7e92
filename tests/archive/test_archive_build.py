"""build_sip: layout, METS facts, ERMS mapping, safe names, idempotency and refusal to overwrite."""

from __future__ import annotations

import copy
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from archive_samples import KUMLA, PERSONNUMMER, SUBMITTER, stored
from lxml import etree

from brygga.archive import ArchiveInputError, PackageConflict, build_sip, package_objid, verify_package
from brygga.plugins import StoredDocument

NS = {"m": "http://www.loc.gov/METS/", "csip": "https://DILCIS.eu/XML/METS/CSIPExtensionMETS",
      "xlink": "http://www.w3.org/1999/xlink", "e": "https://DILCIS.eu/XML/ERMS",
      "p": "http://www.loc.gov/premis/v3"}
SAFE_NAME = re.compile(r"^(case\.json|\d{3}-[0-9a-f]{12}\.[a-z0-9]+)$")


def _xml(path: Path) -> etree._Element:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()


def test_package_layout_and_objid(package: Path, case: dict[str, Any]) -> None:
    assert package.name == package_objid(case)
    assert package.name.startswith("brygga-")
    assert _xml(package / "METS.xml").get("OBJID") == package.name
    for rel in ("metadata/descriptive/erms.xml", "metadata/preservation/premis.xml",
                "representations/rep1/METS.xml", "representations/rep1/data/case.json",
                "representations/rep1/metadata/preservation/premis.xml", "documentation/README.txt"):
        assert (package / rel).is_file(), rel
    assert any((package / "schemas").iterdir())
    assert verify_package(package) == []


def test_root_mets_follows_the_validator_facts(package: Path) -> None:
    root = _xml(package / "METS.xml")
    assert root.get("PROFILE") == "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
    assert root.get("TYPE") == "Other"
    creators = root.findall("m:metsHdr/m:agent[@ROLE='CREATOR']", NS)
    assert len(creators) == 1
    assert (creators[0].get("TYPE"), creators[0].get("OTHERTYPE")) == ("OTHER", "SOFTWARE")
    notes = creators[0].findall("m:note", NS)
    assert [n.get(f"{{{NS['csip']}}}NOTETYPE") for n in notes] == ["SOFTWARE VERSION"]
    archivist = root.find("m:metsHdr/m:agent[@ROLE='ARCHIVIST']", NS)
    submitter = root.find("m:metsHdr/m:agent[@OTHERROLE='SUBMITTER']", NS)
    assert archivist.findtext("m:name", namespaces=NS) == KUMLA.name
    assert submitter.findtext("m:note", namespaces=NS) == SUBMITTER.identification_code
    md_ref = root.find("m:dmdSec/m:mdRef", NS)
    assert (md_ref.get("MDTYPE"), md_ref.get("OTHERMDTYPE")) == ("OTHER", "ERMS")
    assert root.find("m:amdSec/m:digiprovMD/m:mdRef", NS).get("MDTYPE") == "PREMIS"
    uses = [g.get("USE") for g in root.findall("m:fileSec/m:fileGrp", NS)]
    assert uses == ["Documentation", "Schemas", "Representations/rep1"]
    for element in [*root.iterfind(".//m:file", NS), *root.iterfind(".//m:mdRef", NS)]:
        assert element.get("SIZE") and element.get("CREATED") and element.get("CHECKSUMTYPE") == "SHA-256"
        assert re.fullmatch(r"[0-9a-f]{64}", element.get("CHECKSUM"))
    smap = root.find("m:structMap", NS)
    assert (smap.get("TYPE"), smap.get("LABEL")) == ("PHYSICAL", "CSIP")
    assert all(div.get("LABEL") for div in smap.iter(f"{{{NS['m']}}}div"))


def test_erms_maps_the_case(package: Path, documents: list[StoredDocument]) -> None:
    erms = _xml(package / "metadata/descriptive/erms.xml")
    assert erms.tag == f"{{{NS['e']}}}erms"
    aggregation = erms.find("e:aggregations/e:aggregation", NS)
    assert aggregation.get("aggregationType") == "caseFile"
    assert aggregation.findtext("e:objectId", namespaces=NS) == "BN 2026-000123"
    assert aggregation.findtext("e:identification[@identificationType='diarienummer']", namespaces=NS) == (
        "BN 2026-000123")
    assert aggregation.findtext("e:title", namespaces=NS) == "Ansökan om bygglov"
    assert "KUMLA STENEN 1:23" in [v.text for v in aggregation.iterfind(".//e:ownElement/e:value", NS)]
    names = [a.findtext("e:name", namespaces=NS) for a in aggregation.findall("e:agents/e:agent", NS)]
    assert names == ["Kumla kommun", "Anna-Karin Ström", "AB Exempel"]
    records = aggregation.findall("e:record", NS)
    assert len(records) == len(documents) + 1  # case.json plus one per document
    titles = [r.findtext("e:title", namespaces=NS) for r in records[1:]]
    assert titles == [d.name for d in documents]  # the submitted names, as metadata
    # The ERMS carries names the schema needs, not the personnummer (that stays in case.json).
    assert PERSONNUMMER.encode() not in (package / "metadata/descriptive/erms.xml").read_bytes()


def test_case_json_is_the_canonical_case(package: Path, case: dict[str, Any]) -> None:
    assert json.loads((package / "representations/rep1/data/case.json").read_text("utf-8")) == case


def test_readme_has_no_personal_data(package: Path) -> None:
    text = (package / "documentation/README.txt").read_text("utf-8")
    assert package.name in text
    for secret in (PERSONNUMMER, "800512-2380", "Ström", "Storgatan"):
        assert secret not in text


def test_submitted_name_never_becomes_a_path(package: Path, tmp_path: Path) -> None:
    data = package / "representations/rep1/data"
    assert all(SAFE_NAME.match(p.name) for p in data.iterdir())
    assert not [p for p in tmp_path.rglob("*") if p.name == "passwd"]
    assert not [p for p in package.rglob("*") if ".." in p.relative_to(package).parts]
    # The submitted name survives as metadata only.
    originals = [e.text for e in _xml(package / "representations/rep1/metadata/preservation/premis.xml")
                 .iterfind(".//p:originalName", NS)]
    assert "../../etc/passwd" in originals
    hrefs = [e.get(f"{{{NS['xlink']}}}href") for e in _xml(package / "representations/rep1/METS.xml")
             .iterfind(".//m:FLocat", NS)]
    assert not [h for h in hrefs if "passwd" in h or ".." in h]


def test_rebuild_is_idempotent(package: Path, case: dict[str, Any], documents: list[StoredDocument],
                               out_dir: Path) -> None:
    before = (package / "METS.xml").read_bytes()
    again = build_sip(copy.deepcopy(case), documents, out_dir=out_dir, diarienummer="BN 2026-000123",
                      archival_creator=KUMLA, submitter=SUBMITTER)
    assert again == package
    assert [p.name for p in out_dir.iterdir()] == [package.name]  # no duplicate, no staging left behind
    assert (package / "METS.xml").read_bytes() == before


def test_different_content_is_refused(package: Path, case: dict[str, Any], documents: list[StoredDocument],
                                      out_dir: Path) -> None:
    changed = copy.deepcopy(case)
    changed["title"] = "Ansökan om bygglov (komplettering)"
    before = (package / "METS.xml").read_bytes()
    with pytest.raises(PackageConflict):
        build_sip(changed, documents, out_dir=out_dir, diarienummer="BN 2026-000123", archival_creator=KUMLA,
                  submitter=SUBMITTER)
    assert (package / "METS.xml").read_bytes() == before
    assert [p.name for p in out_dir.iterdir()] == [package.name]


def test_a_new_diarienummer_is_refused_too(package: Path, case: dict[str, Any],
                                           documents: list[StoredDocument], out_dir: Path) -> None:
    with pytest.raises(PackageConflict):
        build_sip(case, documents, out_dir=out_dir, diarienummer="BN 2026-999999", archival_creator=KUMLA,
                  submitter=SUBMITTER)


def test_objid_is_stable_and_distinct(case: dict[str, Any]) -> None:
    assert package_objid(case) == package_objid(copy.deepcopy(case))
    other = copy.deepcopy(case)
    other["source"]["reference"] = "1002"
    assert package_objid(other) != package_objid(case)
    other_tenant = copy.deepcopy(case)
    other_tenant["tenant"]["kommunkod"] = "0580"
    assert package_objid(other_tenant) != package_objid(case)
    del other["source"]["reference"]
    with pytest.raises(ArchiveInputError):
        package_objid(other)


def test_document_not_matching_its_hash_is_refused(case: dict[str, Any], documents: list[StoredDocument],
                                                   out_dir: Path) -> None:
    documents[0].path.write_bytes(b"changed behind the content store's back")
    with pytest.raises(ArchiveInputError):
        build_sip(case, documents, out_dir=out_dir, diarienummer=None, archival_creator=KUMLA,
                  submitter=SUBMITTER)
    assert list(out_dir.iterdir()) == []  # no package, no staging folder


def test_odd_media_type_gets_a_neutral_name(case: dict[str, Any], tmp_path: Path, out_dir: Path) -> None:
    odd = stored(tmp_path, "x.exe", b"MZ", "application/x-evil; name=../../x")
    package = build_sip(case, [odd], out_dir=out_dir, diarienummer=None, archival_creator=KUMLA,
                        submitter=SUBMITTER)
    names = sorted(p.name for p in (package / "representations/rep1/data").iterdir())
    assert names == [f"001-{odd.sha256[:12]}.bin", "case.json"]
    assert verify_package(package) == []


def test_without_diarienummer_the_source_reference_identifies_the_case(
        case: dict[str, Any], documents: list[StoredDocument], out_dir: Path) -> None:
    package = build_sip(case, documents, out_dir=out_dir, diarienummer=None, archival_creator=KUMLA,
                        submitter=SUBMITTER)
    erms = _xml(package / "metadata/descriptive/erms.xml")
    assert erms.findtext("e:aggregations/e:aggregation/e:objectId", namespaces=NS) == "open-eplatform:1001"


def test_nothing_is_logged(case: dict[str, Any], documents: list[StoredDocument], out_dir: Path,
                           caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        build_sip(case, documents, out_dir=out_dir, diarienummer="BN 2026-000123", archival_creator=KUMLA,
                  submitter=SUBMITTER)
    assert caplog.records == []
