"""A tiny canonical case and documents of our own making (a real PDF and PNG among them); no reference files
needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from archive_samples import KUMLA, PERSONNUMMER, SUBMITTER, pdf_bytes, png_bytes, stored

from brygga.archive import build_sip
from brygga.plugins import StoredDocument


@pytest.fixture
def documents(tmp_path: Path) -> list[StoredDocument]:
    store = tmp_path / "content"
    store.mkdir()
    return [
        stored(store, "Situationsplan.pdf", pdf_bytes(), "application/pdf"),
        stored(store, "../../etc/passwd", b"not really a password file\n", "text/plain; charset=utf-8"),
        stored(store, "Fasadritning.png", png_bytes(), "image/png"),
    ]


@pytest.fixture
def case(documents: list[StoredDocument]) -> dict[str, Any]:
    return {
        "schemaVersion": "1.0",
        "caseType": "bygglov",
        "tenant": {"kommunkod": "1881", "name": "Kumla kommun"},
        "source": {"system": "open-eplatform", "reference": "1001", "flowId": "1187",
                   "flowName": "Ansökan om bygglov"},
        "receivedAt": "2026-10-14T09:12:44+02:00",
        "title": "Ansökan om bygglov",
        "parties": [
            {"kind": "person", "roles": ["applicant"], "personnummer": PERSONNUMMER,
             "givenName": "Anna-Karin", "familyName": "Ström",
             "address": {"street": "Storgatan 12", "postalCode": "69231", "city": "Kumla"}},
            {"kind": "organisation", "roles": ["property_owner"], "organisationsnummer": "5560360793",
             "name": "AB Exempel"},
        ],
        "properties": [{"fastighetsbeteckning": "KUMLA STENEN 1:23",
                        "objectIdentity": "909a6a63-5f3b-90ec-e040-ed8f66444c3f"}],
        "details": {"bygglov": {"measure": "nybyggnad", "description": "Nybyggnad av enbostadshus"}},
        "attachments": [{"sourceId": "7001", "name": d.name, "mediaType": d.media_type, "size": d.size,
                         "sha256": d.sha256} for d in documents],
    }


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "archive-out"


@pytest.fixture
def package(case: dict[str, Any], documents: list[StoredDocument], out_dir: Path) -> Path:
    return build_sip(case, documents, out_dir=out_dir, diarienummer="BN 2026-000123", archival_creator=KUMLA,
                     submitter=SUBMITTER)
