"""Shared data of the ecos target's tests (a unique module name, unlike conftest): config, payload, documents."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from brygga.plugins import StoredDocument

OCCURRENCE_ANMALAN = "8e21a7d4-3c5b-4f60-a1e2-7b9c0d1e2f31"  # "Anmälan värmepump" in the simulator
SOKANDE = "c4d5e6f7-0a1b-4c2d-8e3f-405162738491"
FASTIGHETSAGARE = "c4d5e6f7-0a1b-4c2d-8e3f-405162738492"
KONTAKTPERSON = "c4d5e6f7-0a1b-4c2d-8e3f-405162738493"
VARMEPUMP = "5b3f8c2e-6a1d-4e7b-9c0f-2d4e6a8b0c11"
FNR_INDUSTRIN = 22040145  # KUMLA INDUSTRIN 1:45 in the simulator's property register
FNR_STENEN = 22044332  # KUMLA STENEN 1:23

CONFIG: dict[str, Any] = {
    "process_type": "Värmepump",
    "occurrence_type": OCCURRENCE_ANMALAN,
    "party_roles": {"applicant": SOKANDE, "property_owner": FASTIGHETSAGARE, "contact": KONTAKTPERSON},
    "document_type": "Situationsplan",
}


def payload() -> dict[str, Any]:
    return {
        "processType": "Värmepump",
        "caseSubtitle": "Anmälan om installation av värmepump, bergvärme",
        "startDate": "2026-03-09T08:31:17+01:00",
        "occurrenceNote": "Bergvärme: 2 borrhål à 185,5 m.",
        "parties": [
            {
                "kind": "person",
                "nationalIdentificationNumber": "19590304-2199",
                "firstName": "Göran",
                "lastName": "Ekström",
                "address": {"streetName": "Mossvägen", "streetNumber": "22", "postCode": "692 92",
                            "postalArea": "Kumla"},
                "roles": ["applicant", "property_owner"],
            },
            {
                "kind": "organisation",
                "nationalIdentificationNumber": "556712-3459",
                "organizationName": "Kumla Borr & Värme AB",
                "roles": ["contact"],
            },
        ],
        "estates": [
            {"designation": "KUMLA INDUSTRIN 1:45", "fnr": FNR_INDUSTRIN},
            {"designation": "KUMLA STENEN 1:23", "fnr": FNR_STENEN},
        ],
    }


def stored(store: Path, name: str, data: bytes, media_type: str = "application/pdf") -> StoredDocument:
    digest = hashlib.sha256(data).hexdigest()
    path = store / f"{digest}-{len(data)}"
    path.write_bytes(data)
    return StoredDocument(name=name, media_type=media_type, size=len(data), sha256=digest, path=path)


