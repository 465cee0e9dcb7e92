"""A komplettering: a package of its own (revision 2, 3, ...) that refers to the package it amends."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from archive_samples import KUMLA, SUBMISSION_AGREEMENT, SUBMITTER, pdf_bytes, stored
from lxml import etree

from brygga.archive import ArchiveInputError, PackageConflict, build_sip, package_objid, verify_package
from brygga.plugins import StoredDocument

NS = {"m": "http://www.loc.gov/METS/", "e": "https://DILCIS.eu/XML/ERMS", "p": "http://www.loc.gov/premis/v3"}
DIARIENUMMER = "BN 2026-000123"


def _xml(path: Path) -> etree._Element:
    return etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()


@pytest.fixture
def amended_case(case: dict[str, Any]) -> dict[str, Any]:
    amended = copy.deepcopy(case)
    amended["details"]["bygglov"]["description"] = "Nybyggnad av enbostadshus med garage"
    return amended


@pytest.fixture
def new_document(tmp_path: Path) -> StoredDocument:
    store = tmp_path / "content-2"
    store.mkdir()
    return stored(store, "Reviderad situationsplan.pdf", pdf_bytes("Reviderad"), "application/pdf")


def _amend(case: dict[str, Any], documents: list[StoredDocument], out_dir: Path, **overrides: Any) -> Path:
    arguments: dict[str, Any] = {"revision": 2, "previous_package": package_objid(case),
                                 "submission_agreement": SUBMISSION_AGREEMENT}
    arguments.update(overrides)
    return build_sip(case, documents, out_dir=out_dir, diarienummer=DIARIENUMMER, archival_creator=KUMLA,
                     submitter=SUBMITTER, **arguments)


def test_each_revision_has_its_own_stable_objid(case: dict[str, Any]) -> None:
    first, second, third = (package_objid(case, revision=r) for r in (1, 2, 3))
    assert len({first, second, third}) == 3
    assert package_objid(copy.deepcopy(case), revision=2) == second
    assert first == package_objid(case)
    other_case = copy.deepcopy(case)
    other_case["source"]["reference"] = "1002"
    assert package_objid(other_case, revision=2) != second
    for bad in (0, -1, True, 1.5, "2"):
        with pytest.raises(ArchiveInputError):
            package_objid(case, revision=bad)  # type: ignore[arg-type]


def test_the_amendment_refers_to_the_package_it_amends(package: Path, amended_case: dict[str, Any],
                                                       new_document: StoredDocument, out_dir: Path) -> None:
    first_mets = (package / "METS.xml").read_bytes()
    amendment = _amend(amended_case, [new_document], out_dir)

    assert amendment.name == package_objid(amended_case, revision=2) != package.name
    assert verify_package(amendment) == []
    assert (package / "METS.xml").read_bytes() == first_mets  # the first package is left as it was
    header = _xml(amendment / "METS.xml").find("m:metsHdr", NS)
    assert header.get("RECORDSTATUS") == "SUPPLEMENT"
    assert [(a.get("TYPE"), a.text) for a in header.findall("m:altRecordID", NS)] == [
        ("SUBMISSIONAGREEMENT", SUBMISSION_AGREEMENT), ("PREVIOUSREFERENCECODE", package.name)]
    assert "revision 2" in _xml(amendment / "METS.xml").get("LABEL")

    aggregation = _xml(amendment / "metadata/descriptive/erms.xml").find("e:aggregations/e:aggregation", NS)
    relations = aggregation.findall("e:relation", NS)
    assert [(r.get("relationType"), r.get("otherRelationType"), r.text) for r in relations] == [
        ("own_relation_definition", "supplements", package.name)]
    assert aggregation.findtext("e:identification[@identificationType='diarienummer']", namespaces=NS) == (
        DIARIENUMMER)
    premis = _xml(amendment / "metadata/preservation/premis.xml")
    assert package.name in premis.findtext(".//p:eventDetail", namespaces=NS)


def test_the_amendment_holds_the_whole_new_case_and_only_the_new_documents(
        package: Path, amended_case: dict[str, Any], new_document: StoredDocument, out_dir: Path) -> None:
    amendment = _amend(amended_case, [new_document], out_dir)
    data = amendment / "representations/rep1/data"
    assert sorted(p.name for p in data.iterdir()) == ["001-" + new_document.sha256[:12] + ".pdf", "case.json"]
    assert json.loads((data / "case.json").read_text("utf-8")) == amended_case
    titles = [r.findtext("e:title", namespaces=NS)
              for r in _xml(amendment / "metadata/descriptive/erms.xml").iterfind(".//e:record", NS)]
    assert titles[1:] == ["Reviderad situationsplan.pdf"]
    readme = (amendment / "documentation/README.txt").read_text("utf-8")
    assert package.name in readme and SUBMISSION_AGREEMENT in readme


def test_a_later_revision_needs_the_package_it_amends(amended_case: dict[str, Any], new_document: StoredDocument,
                                                      out_dir: Path) -> None:
    with pytest.raises(ArchiveInputError, match="previous_package"):
        _amend(amended_case, [new_document], out_dir, previous_package=None)
    with pytest.raises(ArchiveInputError):
        _amend(amended_case, [new_document], out_dir, previous_package=package_objid(amended_case, revision=2))
    with pytest.raises(ArchiveInputError):
        _amend(amended_case, [new_document], out_dir, revision=1)  # a first package amends none
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_rebuilding_an_amendment_is_idempotent(package: Path, amended_case: dict[str, Any],
                                               new_document: StoredDocument, out_dir: Path) -> None:
    amendment = _amend(amended_case, [new_document], out_dir)
    before = (amendment / "METS.xml").read_bytes()
    assert _amend(copy.deepcopy(amended_case), [new_document], out_dir) == amendment
    assert (amendment / "METS.xml").read_bytes() == before
    assert sorted(p.name for p in out_dir.iterdir()) == sorted([package.name, amendment.name])


@pytest.mark.parametrize("change", [
    {"submission_agreement": "KS 2027/0001"},
    {"submission_agreement": None},
    {"previous_package": "brygga-00000000-0000-5000-8000-000000000000"},
    {"diarienummer": "BN 2026-999999"},
])
def test_an_amendment_recording_something_else_is_refused(amended_case: dict[str, Any],
                                                          new_document: StoredDocument, out_dir: Path,
                                                          change: dict[str, Any]) -> None:
    amendment = _amend(amended_case, [new_document], out_dir)
    before = (amendment / "METS.xml").read_bytes()
    diarienummer = change.pop("diarienummer", DIARIENUMMER)
    arguments = {"revision": 2, "previous_package": package_objid(amended_case),
                 "submission_agreement": SUBMISSION_AGREEMENT, **change}
    with pytest.raises(PackageConflict):
        build_sip(amended_case, [new_document], out_dir=out_dir, diarienummer=diarienummer,
                  archival_creator=KUMLA, submitter=SUBMITTER, **arguments)
    assert (amendment / "METS.xml").read_bytes() == before


def test_an_amendment_with_other_documents_is_refused(amended_case: dict[str, Any], new_document: StoredDocument,
                                                      documents: list[StoredDocument], out_dir: Path) -> None:
    _amend(amended_case, [new_document], out_dir)
    with pytest.raises(PackageConflict):
        _amend(amended_case, [new_document, documents[0]], out_dir)
