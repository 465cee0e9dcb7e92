"""Intake: take every waiting item from the route's source and land its raw bytes first.

Landing is content-addressed and the ledger has a unique (route, sha256) constraint, so the same
bytes fed twice are one submission. The source item is acknowledged only after landing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import UTC, datetime

from brygga.pipeline.context import PipelineContext

log = logging.getLogger(__name__)


def intake(ctx: PipelineContext) -> list[str]:
    """Land new items and return the run's batch: the new submissions plus the route's unfinished backlog."""
    source = ctx.adapter(ctx.route.source)
    new = duplicates = 0
    for taken, item in enumerate(source.poll(), start=1):
        started, t0 = datetime.now(UTC), time.perf_counter()
        sha256 = hashlib.sha256(item.data).hexdigest()
        _, raw_path = ctx.landing.put(item.data, sha256)
        landing = ctx.ledger.land(route_id=ctx.route.id, tenant=ctx.route.tenant.kommunkod, content_sha256=sha256,
                                  raw_path=str(raw_path), source_name=item.name)
        ctx.ledger.record_step(landing.submission_id, "intake", "ok" if landing.created else "duplicate",
                               started_at=started, duration_ms=(time.perf_counter() - t0) * 1000,
                               detail=f"sha256={sha256}")
        source.acknowledge(item)
        new += landing.created
        duplicates += not landing.created
        if taken >= ctx.route.batch_size:
            break  # the rest waits in the source for the next run
    batch = ctx.ledger.unfinished(ctx.route.id, limit=ctx.route.batch_size)
    log.info("route %s: landed %d new, %d duplicate; batch of %d", ctx.route.id, new, duplicates, len(batch))
    return batch
