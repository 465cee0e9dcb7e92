"""build_sip: layout, METS facts, ERMS mapping (GDPR restrictions), PRONOM formats, safe names, idempotency and
refusal to overwrite."""

from __future__ import annotations

import copy
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from archive_samples import KUMLA, PDF_1_7, PERSONNUMMER, PNG_1_0, SUBMISSION_AGREEMENT, SUBMITTER, stored
from lxml import etree

from brygga.archive import ArchiveInputError, PackageConflict, build_sip, package_objid, verify_package
from brygga.plugins import StoredDocument

NS = {"m": "http://www.loc.gov/METS/", "csip": "https://DILCIS.eu/XML/METS/CSIPExtensionMETS",
      "xlink": "http://www.w3.org/1999/xlink", "e": "https://DILCIS.eu/XML/ERMS",
      "p": "http://www.loc.gov/premis/v3"}
SAFE_NAME = re.compile(r"^(case\.json|\d{3}-[0-9a-f]{12}\.[a-z0-9]+)$")
CSIP_CONTENT_TYPE = f"{{{NS['csip']}}}CONTENTINFORMATIONTYPE"
CSIP_OTHER_CONTENT_TYPE = f"{{{NS['csip']}}}OTHERCONTENTINFORMATIONTYPE"
# The package id of the conftest case; existing packages must keep their ids, so this never changes.
FIXTURE_OBJID = "brygga-2484bbcc-a63a-5386-90ed-15b5ad8a3e3d"


def _xml(path: Path) -> etree._Element:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()


def test_package_layout_and_objid(package: Path, case: dict[str, Any], tmp_path: Path) -> None:
    assert package.name == package_objid(case) == FIXTURE_OBJID
    # Nothing is written beside the package: no staging folder left, no temporary file of FIDO's or ours.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive-out", "content"]
    assert [p.name for p in package.parent.iterdir()] == [package.name]
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
    submitter = root.find("m:metsHdr/m:agent[@OTHERROLE='SUBMITTER']", NS)
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


def test_the_kommun_is_the_archivist_identified_by_its_organisationsnummer(package: Path) -> None:
    archivists = _xml(package / "METS.xml").findall("m:metsHdr/m:agent[@ROLE='ARCHIVIST']", NS)
    assert len(archivists) == 1
    assert archivists[0].get("TYPE") == "ORGANIZATION"
    assert archivists[0].findtext("m:name", namespaces=NS) == KUMLA.name
    notes = archivists[0].findall("m:note", NS)
    assert [(n.get(f"{{{NS['csip']}}}NOTETYPE"), n.text) for n in notes] == [
        ("IDENTIFICATIONCODE", KUMLA.identification_code)]


def test_content_information_type_is_cits_erms(package: Path) -> None:
    for mets in (package / "METS.xml", package / "representations/rep1/METS.xml"):
        root = _xml(mets)
        assert root.get(CSIP_CONTENT_TYPE) == "citserms_v3_0", mets
        assert root.get(CSIP_OTHER_CONTENT_TYPE) is None, mets  # only beside OTHER
    # Every fileGrp keeps OTHER + OTHERCONTENTINFORMATIONTYPE: the validator's CSIP63 accepts nothing else.
    groups = {g.get("USE"): (g.get(CSIP_CONTENT_TYPE), g.get(CSIP_OTHER_CONTENT_TYPE))
              for mets in (package / "METS.xml", package / "representations/rep1/METS.xml")
              for g in _xml(mets).iterfind("m:fileSec/m:fileGrp", NS)}
    assert groups == {"Documentation": ("OTHER", "NONE"), "Schemas": ("OTHER", "NONE"),
                      "Representations/rep1": ("OTHER", "citserms_v3_0"), "Data": ("OTHER", "citserms_v3_0")}


def test_the_representation_div_sits_beside_representations_as_csip_places_it(package: Path) -> None:
    top = _xml(package / "METS.xml").find("m:structMap/m:div", NS)
    assert [d.get("LABEL") for d in top.findall("m:div", NS)] == [
        "Metadata", "Documentation", "Schemas", "Representations", "Representations/rep1"]
    representations = top.find("m:div[@LABEL='Representations']", NS)
    assert [f.get("FILEID") for f in representations.findall("m:fptr", NS)] == ["grp-rep1"]
    assert representations.find("m:div", NS) is None
    mptrs = top.findall("m:div[@LABEL='Representations/rep1']/m:mptr", NS)
    assert len(mptrs) == 1
    assert mptrs[0].get(f"{{{NS['xlink']}}}href") == "representations/rep1/METS.xml"
    assert mptrs[0].get(f"{{{NS['xlink']}}}title") == "grp-rep1"


def test_header_without_a_submission_agreement(package: Path) -> None:
    header = _xml(package / "METS.xml").find("m:metsHdr", NS)
    assert header.get("RECORDSTATUS") == "NEW"
    assert header.findall("m:altRecordID", NS) == []


def test_header_names_the_submission_agreement(case: dict[str, Any], documents: list[StoredDocument],
                                               out_dir: Path) -> None:
    package = build_sip(case, documents, out_dir=out_dir, diarienummer="BN 2026-000123", archival_creator=KUMLA,
                        submitter=SUBMITTER, submission_agreement=SUBMISSION_AGREEMENT)
    header = _xml(package / "METS.xml").find("m:metsHdr", NS)
    assert [(a.get("TYPE"), a.text) for a in header.findall("m:altRecordID", NS)] == [
        ("SUBMISSIONAGREEMENT", SUBMISSION_AGREEMENT)]
    assert header.get("RECORDSTATUS") == "NEW"
    # The representation METS describes the representation; the agreement is the package's.
    assert _xml(package / "representations/rep1/METS.xml").findall("m:metsHdr/m:altRecordID", NS) == []
    assert verify_package(package) == []


def test_a_blank_submission_agreement_is_refused(case: dict[str, Any], documents: list[StoredDocument],
                                                 out_dir: Path) -> None:
    with pytest.raises(ArchiveInputError):
        build_sip(case, documents, out_dir=out_dir, diarienummer=None, archival_creator=KUMLA, submitter=SUBMITTER,
                  submission_agreement="  ")
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


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
    assert aggregation.find("e:relation", NS) is None  # a first package refers to no earlier one
    # The ERMS carries names the schema needs, not the personnummer (that stays in case.json).
    assert PERSONNUMMER.encode() not in (package / "metadata/descriptive/erms.xml").read_bytes()


def _restriction_names(node: etree._Element) -> list[str]:
    return [a.findtext("e:name", namespaces=NS) for a in node.findall("e:agent", NS)]


def test_persons_have_a_gdpr_restriction_and_organisations_do_not(package: Path) -> None:
    aggregation = _xml(package / "metadata/descriptive/erms.xml").find("e:aggregations/e:aggregation", NS)
    restrictions = aggregation.findall("e:restriction", NS)
    assert [r.get("restrictionType") for r in restrictions] == ["gdpr"]
    assert "2016/679" in restrictions[0].findtext("e:regulation", namespaces=NS)
    assert _restriction_names(restrictions[0]) == ["Anna-Karin Ström"]  # the person, not "AB Exempel"
    assert PERSONNUMMER not in etree.tostring(restrictions[0], encoding="unicode")
    # The record holding the personal data (case.json) is restricted; the documents are not marked.
    records = aggregation.findall("e:record", NS)
    restricted = [r.findtext("e:objectId", namespaces=NS).rsplit("/", 1)[-1] for r in records
                  if r.find("e:restriction[@restrictionType='gdpr']", NS) is not None]
    assert restricted == ["case.json"]


def test_a_case_of_organisations_only_has_no_gdpr_restriction(case: dict[str, Any],
                                                                 documents: list[StoredDocument],
                                                                 out_dir: Path) -> None:
    organisations_only = copy.deepcopy(case)
    organisations_only["parties"] = [p for p in case["parties"] if p["kind"] == "organisation"]
    package = build_sip(organisations_only, documents, out_dir=out_dir, diarienummer=None, archival_creator=KUMLA,
                        submitter=SUBMITTER)
    erms = _xml(package / "metadata/descriptive/erms.xml")
    assert erms.findall(".//e:restriction", NS) == []
    assert [a.findtext("e:name", namespaces=NS) for a in erms.iterfind(".//e:agents/e:agent", NS)] == [
        "Kumla kommun", "AB Exempel"]


def test_every_person_party_is_named_in_the_restriction(case: dict[str, Any], documents: list[StoredDocument],
                                                       out_dir: Path) -> None:
    more = copy.deepcopy(case)
    more["parties"].append({"kind": "person", "roles": ["representative"], "givenName": "Per",
                            "familyName": "Ombudsson"})
    package = build_sip(more, documents, out_dir=out_dir, diarienummer=None, archival_creator=KUMLA,
                        submitter=SUBMITTER)
    restriction = _xml(package / "metadata/descriptive/erms.xml").find(".//e:aggregation/e:restriction", NS)
    assert _restriction_names(restriction) == ["Anna-Karin Ström", "Per Ombudsson"]


def test_premis_gives_the_pronom_format_of_each_data_file(package: Path) -> None:
    premis = _xml(package / "representations/rep1/metadata/preservation/premis.xml")
    formats = {}
    for obj in premis.iterfind("p:object", NS):
        original = obj.findtext("p:originalName", namespaces=NS)
        fmt = obj.find("p:objectCharacteristics/p:format", NS)
        formats[original or obj.findtext("p:objectIdentifier/p:objectIdentifierValue", namespaces=NS)] = (
            fmt.findtext("p:formatRegistry/p:formatRegistryName", namespaces=NS),
            fmt.findtext("p:formatRegistry/p:formatRegistryKey", namespaces=NS),
            fmt.findtext("p:formatDesignation/p:formatName", namespaces=NS))
    assert formats["Situationsplan.pdf"] == ("PRONOM", PDF_1_7, "Acrobat PDF 1.7 - Portable Document Format")
    assert formats["Fasadritning.png"] == ("PRONOM", PNG_1_0, "Portable Network Graphics")
    # Plain text and JSON have no PRONOM signature: no registry, the media type as the name.
    assert formats["../../etc/passwd"] == (None, None, "text/plain")
    assert formats["data/case.json"] == (None, None, "application/json")
    # The identification is an event of its own, by FIDO.
    event = premis.find("p:event[p:eventType='format identification']", NS)
    agent_id = event.findtext("p:linkingAgentIdentifier/p:linkingAgentIdentifierValue", namespaces=NS)
    agent = next(a for a in premis.iterfind("p:agent", NS)
                 if a.findtext("p:agentIdentifier/p:agentIdentifierValue", namespaces=NS) == agent_id)
    assert (agent.findtext("p:agentName", namespaces=NS), agent.findtext("p:agentType", namespaces=NS)) == (
        "FIDO", "software")
    assert len(event.findall("p:linkingObjectIdentifier", NS)) == 4


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
    assert package_objid(case) == package_objid(copy.deepcopy(case)) == package_objid(case, revision=1)
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
    # The format comes from the content, whatever the submitter declared: "MZ" starts a DOS/Windows executable.
    premis = _xml(package / "representations/rep1/metadata/preservation/premis.xml")
    assert [e.text for e in premis.iterfind(".//p:formatRegistryKey", NS)] == ["x-fmt/409"]


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
