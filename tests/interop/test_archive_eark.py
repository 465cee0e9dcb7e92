"""A built package against the real E-ARK schemas and the official validator (eark-validator 1.1.3).

Needs ../shared/reference (skipped when absent). The validator test also needs BRYGGA_EARK_PYTHON: a Python with
eark-validator==1.1.3 in a venv of its own, since it pins lxml 5.1.0.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from eark_report import assert_only_known_validator_defects
from lxml import etree

from brygga.archive import Agent, build_sip, validate_erms_schema, validate_mets_schema, verify_package
from brygga.plugins import StoredDocument

pytestmark = pytest.mark.interop



@pytest.fixture(scope="module")
def earkiv(shared_reference: Path) -> Path:
    return shared_reference / "earkiv"


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("eark")
    docs = []
    for name, data, media_type in (("Situationsplan.pdf", b"%PDF-1.4\n% stand-in\n", "application/pdf"),
                                   ("Fasadritning.png", b"\x89PNG\r\n\x1a\n stand-in", "image/png")):
        digest = hashlib.sha256(data).hexdigest()
        (root / digest).write_bytes(data)
        docs.append(StoredDocument(name, media_type, len(data), digest, root / digest))
    case = {
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
    built = build_sip(case, docs, out_dir=root / "out", diarienummer="BN 2026-000123",
                      archival_creator=Agent("Kumla kommun", "2120001637"),
                      submitter=Agent("Kumla kommun", "1881"))
    assert verify_package(built) == []
    return built


def test_every_mets_validates_against_mets_and_dilcis_schemas(package: Path, earkiv: Path) -> None:
    assert validate_mets_schema(package, earkiv) == []


def test_the_schema_check_does_catch_an_invalid_mets(package: Path, earkiv: Path, tmp_path: Path) -> None:
    broken = tmp_path / package.name
    broken.mkdir()
    mets = (package / "METS.xml").read_bytes().replace(b'<dmdSec ID="dmd-erms"', b"<dmdSec")
    (broken / "METS.xml").write_bytes(mets)
    problems = validate_mets_schema(broken, earkiv)
    assert problems and all(p.startswith("METS.xml:") for p in problems)


def test_erms_validates_against_erms_v3(package: Path, earkiv: Path) -> None:
    assert validate_erms_schema(package, earkiv) == []


def test_premis_validates_against_premis_3(package: Path, earkiv: Path) -> None:
    xsd = next(earkiv.rglob("premis-v3-0.xsd"), None)
    assert xsd is not None, "no premis-v3-0.xsd under the reference folder"
    schema = etree.XMLSchema(etree.parse(str(xsd), etree.XMLParser(no_network=True, resolve_entities=False)))
    for premis in sorted(package.rglob("premis.xml")):
        assert schema.validate(etree.parse(str(premis))), (premis, list(schema.error_log))


def test_official_validator_finds_only_known_defects(package: Path, earkiv: Path) -> None:
    assert_only_known_validator_defects(package)
