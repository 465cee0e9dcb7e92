"""Submissions put straight into a ledger for the command-line tests: any state, time, reference and case."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from brygga.ledger import Ledger, State

NOW = datetime.now(UTC)
PERSONNUMMER = "198503142385"  # invented, valid Luhn (the bundled samples' applicant)
GIVEN, FAMILY, STREET = "Johan", "Berglund", "Stationsgatan 5"
CASE = {"caseType": "bygglov", "title": "Ansökan om bygglov",
        "parties": [{"kind": "person", "roles": ["applicant"], "personnummer": PERSONNUMMER, "givenName": GIVEN,
                     "familyName": FAMILY, "address": {"street": STREET, "postalCode": "69232", "city": "Kumla"}}]}
PERSONAL = (PERSONNUMMER, "19850314-2385", GIVEN, FAMILY, STREET)


def land(ledger: Ledger, name: str, *, route: str = "kumla-bygglov", tenant: str = "1881",
         reference: str | None = None, ago: timedelta = timedelta(hours=1), state: str = State.LANDED,
         **fields: object) -> str:
    """A submission of the file ``name`` (each name is other content), received ``ago``, in ``state``."""
    sha = hashlib.sha256(f"{route}/{name}".encode()).hexdigest()
    sid = ledger.land(route_id=route, tenant=tenant, content_sha256=sha, raw_path=f"/landing/{sha}",
                      source_name=name).submission_id
    ledger.update(sid, source_reference=reference, received_at=NOW - ago, state=state, **fields)
    return sid


def delivered(ledger: Ledger, name: str, diarienummer: str, **kwargs: object) -> str:
    """A completed submission with its case in ByggR and the canonical case (with personal data) kept."""
    return land(ledger, name, state=State.COMPLETED, external_ref=diarienummer, case_type="bygglov",
                canonical_json=json.dumps(CASE), **kwargs)  # type: ignore[arg-type]


def quarantined(ledger: Ledger, name: str, step: str, reasons: list[str], **kwargs: object) -> str:
    """A submission quarantined at ``step``, its step row saying so (a replay starts from it)."""
    sid = land(ledger, name, **kwargs)  # type: ignore[arg-type]
    ledger.record_step(sid, step, "quarantined", started_at=NOW, duration_ms=3.0, detail=f"{len(reasons)} reason(s)")
    ledger.quarantine(sid, step, reasons)
    return sid


def personnummer_reason(line: int) -> str:
    """The same mapping fault at another place of the input: one group in the quarantine list."""
    return f"mapping bygglov.yaml: parties[0].personnummer (source line {line}): value is not a valid personnummer"
