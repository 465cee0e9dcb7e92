"""Submissions put straight into a ledger for the admin tests: in any state, at any time, with any reference."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from brygga.ledger import Ledger, State

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def land(ledger: Ledger, name: str = "a.xml", *, route: str = "kumla-bygglov", tenant: str = "1881",
         reference: str | None = None, received_at: datetime | None = None, state: str = State.LANDED,
         **fields: object) -> str:
    """A submission of the bytes ``name`` names (so each name is other content), in ``state``."""
    sha = hashlib.sha256(f"{route}/{name}".encode()).hexdigest()
    sid = ledger.land(route_id=route, tenant=tenant, content_sha256=sha, raw_path=f"/landing/{sha}",
                      source_name=name).submission_id
    ledger.update(sid, source_reference=reference, received_at=received_at or T0, state=state, **fields)
    return sid


def quarantine(ledger: Ledger, name: str, step: str, reasons: list[str], **kwargs: object) -> str:
    """A submission quarantined at ``step``, with that step's row saying so (replay reads it)."""
    sid = land(ledger, name, **kwargs)  # type: ignore[arg-type]
    ledger.record_step(sid, step, "quarantined", started_at=T0, duration_ms=1.0, detail=f"{len(reasons)} reason(s)")
    ledger.quarantine(sid, step, reasons)
    return sid
