"""A built package against the real E-ARK schemas and the official validator (eark-validator 1.1.3).

Needs ../shared/reference (skipped when absent). The validator test also needs BRYGGA_EARK_PYTHON: a Python with
eark-validator==1.1.3 in a venv of its own, since it pins lxml 5.1.0.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from brygga.archive import Agent, build_sip, validate_erms_schema, validate_mets_schema, verify_package
from brygga.plugins import StoredDocument
from brygga.settings import REPO_ROOT

pytestmark = pytest.mark.interop

SHARED = REPO_ROOT.parent / "shared"
# SIP14 wants an un-namespaced NOTETYPE on the software CREATOR's note, which METS forbids: a validator defect.
KNOWN_VALIDATOR_DEFECTS = {"SIP14"}


@pytest.fixture(scope="module")
def earkiv() -> Path:
    # Local stand-in for tests/interop/conftest.py's shared_reference fixture.
    path = SHARED / "reference" / "earkiv"
    if not path.is_dir():
        pytest.skip("../shared/reference/earkiv is not present")
    return path


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


def _run_validator(package: Path) -> dict:
    # `make interop` sets this; the validator pins lxml 5.1.0, so it lives in a venv of its own.
    python = os.environ.get("BRYGGA_EARK_PYTHON") or str(REPO_ROOT / ".venv-eark" / "bin" / "python")
    assert Path(python).exists(), f"{python} not found: run `make interop`, which builds .venv-eark"
    tool = SHARED / "tools" / "eark_validate_offline.py"
    done = subprocess.run([python, str(tool), str(package)], capture_output=True, text=True, timeout=300,
                          check=False)
    # The tool prints a "struct result" line before its JSON report.
    start = done.stdout.find("{")
    assert start >= 0, f"no JSON report (exit {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(done.stdout[start:])


def _messages(report: dict) -> list[dict]:
    return [*report["structure"]["messages"], *report["metadata"]["schema_results"]["messages"],
            *report["metadata"]["schematron_results"]["messages"]]


def test_official_validator_finds_only_known_defects(package: Path, earkiv: Path) -> None:
    report = _run_validator(package)
    by_severity: dict[str, Counter[str]] = {}
    for message in _messages(report):
        by_severity.setdefault(message["severity"].lower(), Counter())[message["rule_id"]] += 1
    errors = by_severity.get("error", Counter())
    warnings = by_severity.get("warn", Counter()) + by_severity.get("warning", Counter())
    assert report["structure"]["status"] == "WellFormed"
    assert report["metadata"]["schema_results"]["status"] == "VALID"
    assert set(errors) <= KNOWN_VALIDATOR_DEFECTS, dict(errors)
    assert errors["SIP14"] == 1, dict(errors)  # one software CREATOR note, one false positive
    assert not warnings, dict(warnings)
