"""The package carries the core case schema and the schema of the case's own type, referenced from the METS;
form answers travel in case.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from archive_samples import KUMLA, SUBMITTER
from lxml import etree

from brygga.archive import ArchiveInputError, build_sip, verify_package
from brygga.canonical import CASE_SCHEMA_PATH, CaseTypeRegistry, validate_case
from brygga.canonical.types import TYPES_DIR, type_schema_id
from brygga.plugins import StoredDocument

NS = {"m": "http://www.loc.gov/METS/", "xlink": "http://www.w3.org/1999/xlink"}
FORM_ANSWERS = [
    {"question": "hojd", "label": "Byggnadens högsta höjd (meter)", "value": "5,4"},
    {"question": "sokande/CareOf", "value": ""},
]


def _problems(case: dict[str, Any], registry: CaseTypeRegistry | None = None) -> list[str]:
    # The fixture's second document keeps its "text/plain; charset=utf-8" on purpose (archive naming tests).
    return [p.path for p in validate_case(case, registry) if p.path != "/attachments/1/mediaType"]


def _schema_hrefs(package: Path) -> list[str]:
    root = etree.parse(str(package / "METS.xml"), etree.XMLParser(resolve_entities=False, no_network=True))
    group = root.find(".//m:fileSec/m:fileGrp[@USE='Schemas']", NS)
    return [locat.get(f"{{{NS['xlink']}}}href") for locat in group.iterfind("m:file/m:FLocat", NS)]


def test_form_answers_are_archived_in_case_json_with_the_type_schema(
    case: dict[str, Any], documents: list[StoredDocument], out_dir: Path
) -> None:
    case = {**case, "schemaVersion": "1.1", "formAnswers": FORM_ANSWERS,
            "source": {**case["source"], "familyId": "412", "flowVersion": "3"}}
    assert _problems(case) == []
    package = build_sip(case, documents, out_dir=out_dir, diarienummer="BN 2026-000123", archival_creator=KUMLA,
                        submitter=SUBMITTER)
    archived = json.loads((package / "representations/rep1/data/case.json").read_text(encoding="utf-8"))
    assert archived["formAnswers"] == FORM_ANSWERS
    assert archived["source"]["familyId"] == "412"

    # The core and the case's own type, byte for byte, and no other type.
    schemas = sorted(p.name for p in (package / "schemas").iterdir())
    assert schemas == ["bygglov.v1.schema.json", "case.v1.schema.json"]
    assert (package / "schemas/case.v1.schema.json").read_bytes() == CASE_SCHEMA_PATH.read_bytes()
    assert (package / "schemas/bygglov.v1.schema.json").read_bytes() == (
        TYPES_DIR / "bygglov.v1.schema.json").read_bytes()
    # Both are in the METS Schemas group, with their checksums (verify_package checks those).
    assert _schema_hrefs(package) == ["schemas/case.v1.schema.json", "schemas/bygglov.v1.schema.json"]
    assert verify_package(package) == []
    readme = (package / "documentation/README.txt").read_text(encoding="utf-8")
    assert "case.v1.schema.json, bygglov.v1.schema.json" in readme


def test_a_type_from_another_folder_is_archived_with_its_file(
    case: dict[str, Any], documents: list[StoredDocument], out_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "case-types"
    folder.mkdir()
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": type_schema_id("eldstad"),
              "title": "Eldstad / Fireplace, v1", "description": "Eldstad / Fireplace: en anmälan. A notification.",
              "type": "object", "additionalProperties": False,
              "properties": {"kind": {"type": "string", "enum": ["kamin"]}}, "examples": [{"kind": "kamin"}]}
    (folder / "eldstad.v1.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    registry = CaseTypeRegistry.load([folder])
    case = {**case, "caseType": "eldstad", "details": {"eldstad": {"kind": "kamin"}}}
    assert _problems(case, registry) == []
    package = build_sip(case, documents, out_dir=out_dir, diarienummer=None, archival_creator=KUMLA,
                        submitter=SUBMITTER, case_types=registry)
    assert sorted(p.name for p in (package / "schemas").iterdir()) == ["case.v1.schema.json",
                                                                        "eldstad.v1.schema.json"]
    assert json.loads((package / "schemas/eldstad.v1.schema.json").read_text(encoding="utf-8")) == schema
    assert verify_package(package) == []


def test_a_case_type_without_details_still_gets_its_type_file(
    case: dict[str, Any], documents: list[StoredDocument], out_dir: Path
) -> None:
    case = {key: value for key, value in case.items() if key != "details"}
    case["caseType"] = "fardtjanst"
    package = build_sip(case, documents, out_dir=out_dir, diarienummer=None, archival_creator=KUMLA,
                        submitter=SUBMITTER)
    assert _schema_hrefs(package) == ["schemas/case.v1.schema.json", "schemas/fardtjanst.v1.schema.json"]


def test_details_of_an_unregistered_type_are_not_archived_without_their_schema(
    case: dict[str, Any], documents: list[StoredDocument], out_dir: Path
) -> None:
    case = {**case, "caseType": "eldstad", "details": {"eldstad": {"kind": "kamin"}}}
    with pytest.raises(ArchiveInputError, match="not a registered case type"):
        build_sip(case, documents, out_dir=out_dir, diarienummer=None, archival_creator=KUMLA, submitter=SUBMITTER)
    assert not any(out_dir.iterdir())
