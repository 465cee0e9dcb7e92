"""Built packages against the real E-ARK schemas, the official validator (eark-validator 1.1.3) and its CSIP/SIP
schematron rules on the representation METS, which the validator skips.

Two packages are checked: a first one (with a submission agreement, a real PDF and PNG) and a komplettering
(revision 2) that refers to it. Needs ../shared/reference (skipped when absent). The validator tests also need
BRYGGA_EARK_PYTHON: a Python with eark-validator==1.1.3 in a venv of its own, since it pins lxml 5.1.0.
"""

from __future__ import annotations

import copy
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from archive_samples import KUMLA, SUBMISSION_AGREEMENT, SUBMITTER, pdf_bytes, png_bytes, stored
from eark_report import (
    EXPECTED_ERRORS,
    NOT_FOR_A_REPRESENTATION,
    assert_only_known_validator_defects,
    schematron_failures,
    validator_verdict,
)
from lxml import etree

from brygga.archive import build_sip, package_objid, validate_erms_schema, validate_mets_schema, verify_package
from brygga.plugins import StoredDocument

pytestmark = pytest.mark.interop

NS = {"m": "http://www.loc.gov/METS/", "p": "http://www.loc.gov/premis/v3"}

def _case(docs: list[StoredDocument]) -> dict[str, Any]:
    return {
        "schemaVersion": "1.0", "caseType": "bygglov", "tenant": {"kommunkod": "1881", "name": "Kumla kommun"},
        "source": {"system": "open-eplatform", "reference": "1001"},
        "receivedAt": "2026-10-14T09:12:44+02:00", "title": "Ansökan om bygglov",
        "parties": [{"kind": "person", "roles": ["applicant"], "personnummer": "198005122380",
                     "givenName": "Anna-Karin", "familyName": "Ström"},
                    {"kind": "organisation", "roles": ["property_owner"], "organisationsnummer": "5560360793",
                     "name": "AB Exempel"}],
        "properties": [{"fastighetsbeteckning": "KUMLA STENEN 1:23"}],
        "attachments": [{"sourceId": str(7000 + i), "name": d.name, "mediaType": d.media_type, "size": d.size,
                         "sha256": d.sha256} for i, d in enumerate(docs)],
    }


@pytest.fixture(scope="module")
def earkiv(shared_reference: Path) -> Path:
    return shared_reference / "earkiv"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("eark")
    docs = [stored(root, "Situationsplan.pdf", pdf_bytes("Situationsplan"), "application/pdf"),
            stored(root, "Fasadritning.png", png_bytes(), "image/png"),
            stored(root, "Beskrivning.txt", b"Nybyggnad av enbostadshus.\n", "text/plain")]
    case = _case(docs)
    first = build_sip(case, docs, out_dir=root / "out", diarienummer="BN 2026-000123", archival_creator=KUMLA,
                      submitter=SUBMITTER, submission_agreement=SUBMISSION_AGREEMENT)
    new = [stored(root, "Komplettering.pdf", pdf_bytes("Komplettering"), "application/pdf")]
    amended = copy.deepcopy(case)
    amended["attachments"] += _case(new)["attachments"]
    amendment = build_sip(amended, new, out_dir=root / "out", diarienummer="BN 2026-000123",
                          archival_creator=KUMLA, submitter=SUBMITTER,
                          submission_agreement=SUBMISSION_AGREEMENT, revision=2,
                          previous_package=package_objid(case))
    for package in (first, amendment):
        assert verify_package(package) == []
    return {"first": first, "amendment": amendment}


@pytest.fixture(scope="module", params=["first", "amendment"])
def package(request: pytest.FixtureRequest, built: dict[str, Path]) -> Path:
    return built[request.param]


def test_every_mets_validates_against_mets_and_dilcis_schemas(package: Path, earkiv: Path) -> None:
    assert validate_mets_schema(package, earkiv) == []


def test_the_schema_check_does_catch_an_invalid_mets(built: dict[str, Path], earkiv: Path, tmp_path: Path) -> None:
    broken = tmp_path / built["first"].name
    broken.mkdir()
    mets = (built["first"] / "METS.xml").read_bytes().replace(b'<dmdSec ID="dmd-erms"', b"<dmdSec")
    (broken / "METS.xml").write_bytes(mets)
    problems = validate_mets_schema(broken, earkiv)
    assert problems and all(p.startswith("METS.xml:") for p in problems)


def test_erms_validates_against_erms_v3(package: Path, earkiv: Path) -> None:
    # Includes the GDPR restriction with its person agents and, in the amendment, the relation.
    assert validate_erms_schema(package, earkiv) == []


def test_premis_validates_against_premis_3(package: Path, earkiv: Path) -> None:
    xsd = next(earkiv.rglob("premis-v3-0.xsd"), None)
    assert xsd is not None, "no premis-v3-0.xsd under the reference folder"
    schema = etree.XMLSchema(etree.parse(str(xsd), etree.XMLParser(no_network=True, resolve_entities=False)))
    for premis in sorted(package.rglob("premis.xml")):
        assert schema.validate(etree.parse(str(premis))), (premis, list(schema.error_log))


def test_premis_names_the_pronom_formats(built: dict[str, Path]) -> None:
    premis = etree.parse(str(built["first"] / "representations/rep1/metadata/preservation/premis.xml")).getroot()
    keys = {obj.findtext("p:originalName", namespaces=NS): obj.findtext(".//p:formatRegistryKey", namespaces=NS)
            for obj in premis.iterfind("p:object", NS)}
    assert keys == {None: None, "Situationsplan.pdf": "fmt/276", "Fasadritning.png": "fmt/11",
                    "Beskrivning.txt": None}  # case.json and plain text have no PRONOM signature


def test_the_headers_carry_the_submission_agreement_and_the_previous_package(built: dict[str, Path]) -> None:
    def header(package: Path) -> tuple[str, list[tuple[str, str]]]:
        hdr = etree.parse(str(package / "METS.xml")).getroot().find("m:metsHdr", NS)
        return hdr.get("RECORDSTATUS"), [(a.get("TYPE"), a.text) for a in hdr.findall("m:altRecordID", NS)]

    assert header(built["first"]) == ("NEW", [("SUBMISSIONAGREEMENT", SUBMISSION_AGREEMENT)])
    assert header(built["amendment"]) == ("SUPPLEMENT", [("SUBMISSIONAGREEMENT", SUBMISSION_AGREEMENT),
                                                         ("PREVIOUSREFERENCECODE", built["first"].name)])


def test_official_validator_verdict_is_exactly_the_known_one(package: Path) -> None:
    assert_only_known_validator_defects(package)


def test_the_validator_verdict_does_see_new_errors(built: dict[str, Path], tmp_path: Path) -> None:
    broken = tmp_path / built["first"].name
    shutil.copytree(built["first"], broken)
    mets = broken / "METS.xml"
    mets.write_bytes(mets.read_bytes().replace(b'csip:CONTENTINFORMATIONTYPE="citserms_v3_0" PROFILE',
                                               b'csip:CONTENTINFORMATIONTYPE="OTHER" PROFILE', 1))
    errors, _ = validator_verdict(broken)
    assert {"CSIP4", "CSIP5"} <= set(errors) and errors != EXPECTED_ERRORS


def test_representation_mets_meets_every_csip_rule_that_applies(package: Path) -> None:
    failures = schematron_failures(package / "representations/rep1/METS.xml", "CSIP", "SIP")
    # Only the package-level rules fail, once each, and the validator's own SIP14 defect.
    assert failures == Counter(dict.fromkeys(NOT_FOR_A_REPRESENTATION, 1)) + EXPECTED_ERRORS, dict(failures)


def test_the_representation_check_does_see_a_broken_mets(built: dict[str, Path], tmp_path: Path) -> None:
    mets = tmp_path / "METS.xml"
    original = (built["first"] / "representations/rep1/METS.xml").read_bytes()
    broken = original.replace(b' CHECKSUMTYPE="SHA-256">', b">", 1).replace(b'LOCTYPE="URL"', b'LOCTYPE="OTHER"', 1)
    assert broken != original
    mets.write_bytes(broken)
    failures = schematron_failures(mets, "CSIP")
    assert {"CSIP36", "CSIP72"} <= set(failures), dict(failures)
