"""Land one item taken in, the same way whichever way it came (a polled source's item, a webhook's push).

The raw bytes are already in the landing store; this records them in the ledger (``ledger.land``: the same bytes
twice are one submission), with the source reference (e.g. Open ePlatform's FlowInstanceID, read from the start of
the file by brygga.mapping.peek) so an administrator finds it by that reference even when it never translates, and
the ``intake`` step, in one transaction; and the step's metric, all under the submission's correlation id.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from brygga.errors import ConfigError
from brygga.ledger import Ledger, StepRecord
from brygga.mapping import CompiledMapping
from brygga.mapping.peek import peek_route_reference
from brygga.observability.metrics import record_step
from brygga.provenance import correlation
from brygga.routes import Route

__all__ = ["InboundMappings", "Landed", "land_item"]

log = logging.getLogger(__name__)


class InboundMappings:
    """A route's inbound mappings that compile, compiled at the first call and kept: a broken one is translate's
    to report, and intake goes on without it."""

    def __init__(self, route: Route, compile_one: Callable[[Path], CompiledMapping]) -> None:
        self._route = route
        self._compile_one = compile_one
        self._compiled: list[CompiledMapping] | None = None

    def __call__(self) -> list[CompiledMapping]:
        if self._compiled is None:
            self._compiled = []
            for path in self._route.mappings:
                try:
                    self._compiled.append(self._compile_one(path))
                except ConfigError:
                    log.debug("route %s: mapping %s does not compile; its source reference is not read at intake",
                              self._route.id, path.name)
        return self._compiled


@dataclass(frozen=True)
class Landed:
    submission_id: str
    created: bool  # False when the same bytes were already landed for this route
    outcome: str  # of the intake step: "ok", "duplicate", or "quarantined" (new, and quarantined at intake)


def land_item(ledger: Ledger, route: Route, mappings: InboundMappings, *, sha256: str, raw_path: Path, size: int,
              source_name: str, started_at: datetime, t0: float,
              quarantine_reasons: list[str] | None = None) -> Landed:
    """Record landed bytes as a submission of ``route`` (quarantined at intake with ``quarantine_reasons``), with its
    source reference peeked and its intake step, in one transaction; and the step's metric. ``started_at`` and
    ``t0`` (a ``time.perf_counter()``) are when taking the item in began. Bytes landed before keep their submission,
    and get an intake step of their own (``duplicate``)."""
    new_id = str(uuid.uuid4())  # chosen here: the peek and the new submission's records carry it as correlation id
    outcome = "quarantined" if quarantine_reasons is not None else "ok"
    detail = f"sha256={sha256} size={size}"
    with correlation(new_id):
        # Only the start of the file is read, so one over the size limit gets its reference too.
        reference = peek_route_reference(mappings(), raw_path, source_name=source_name)
        duration_ms = (time.perf_counter() - t0) * 1000
        landing = ledger.land(route_id=route.id, tenant=route.tenant.kommunkod, content_sha256=sha256,
                              raw_path=str(raw_path), source_name=source_name, quarantine_reasons=quarantine_reasons,
                              submission_id=new_id, source_reference=reference,
                              record=StepRecord(new_id, "intake", outcome, started_at, duration_ms, detail))
        if landing.created:
            record_step(route.id, "intake", outcome, duration_ms)
            return Landed(new_id, True, outcome)
    with correlation(landing.submission_id):
        duration_ms = (time.perf_counter() - t0) * 1000
        ledger.record_step(landing.submission_id, "intake", "duplicate", started_at=started_at,
                           duration_ms=duration_ms, detail=detail)
        record_step(route.id, "intake", "duplicate", duration_ms)
    return Landed(landing.submission_id, False, "duplicate")
