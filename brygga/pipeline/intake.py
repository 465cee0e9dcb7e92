"""Intake: take every waiting item from the route's source and land its raw bytes first.

Landing is content-addressed and the ledger has a unique (route, sha256) constraint, so the same
bytes fed twice are one submission. The source item is acknowledged only after landing. Items are copied
as streams; one over the route's ``limits.max_file_bytes`` is landed all the same and quarantined with a
reason that names its size and the limit, so nothing is lost and an administrator can still replay it.

A new submission gets its source reference (e.g. Open ePlatform's FlowInstanceID) here, read from the start of the
file (brygga.mapping.peek, through brygga.pipeline.landing, which the webhook intake lands with too), so an
administrator finds it by that reference even when it never translates; translate stores the reference the mapping
gives, the same one, when it does.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from brygga.errors import BryggaError
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.landing import InboundMappings, land_item
from brygga.provenance import correlation
from brygga.redact import redact

log = logging.getLogger(__name__)


def intake(ctx: PipelineContext) -> list[str]:
    """Land new items and return the run's batch: the route's unfinished backlog (the new submissions among them),
    and those quarantined at intake in this run."""
    source = ctx.adapter(ctx.route.source)
    limit = ctx.route.limits.max_file_bytes
    new = duplicates = oversize = 0
    quarantined: list[str] = []  # at intake, in this run: part of the batch, so the run's check sees them
    mappings = InboundMappings(ctx.route, ctx.mapping)  # compiled at the first new item, once per run
    for taken, item in enumerate(source.poll(), start=1):
        started, t0 = datetime.now(UTC), time.perf_counter()
        try:
            with item.open() as reader:
                sha256, raw_path, size = ctx.landing.put_stream(reader)
        except FileNotFoundError:
            continue  # another run took it in between listing and reading: it is that run's

        reasons = [f"the file is {size:,} bytes, over the route's limit of {limit:,} bytes (limits.max_file_bytes); "
                   "raise the limit or replay to take it in anyway"] if size > limit else None
        landed = land_item(ctx.ledger, ctx.route, mappings, sha256=sha256, raw_path=raw_path, size=size,
                           source_name=item.name, started_at=started, t0=t0, quarantine_reasons=reasons)
        too_large = landed.outcome == "quarantined"
        with correlation(landed.submission_id):
            try:
                source.acknowledge(item)
            except BryggaError as exc:
                # Landed all the same: the item is taken in again next run as a duplicate, and the items after it
                # are not held up by one the source would not let go of (a read-only partner account, say).
                log.warning("route %s: submission %s is landed, but its source did not take the acknowledgement: "
                            "%s", ctx.route.id, landed.submission_id, redact(str(exc)))
        new += landed.created
        duplicates += not landed.created
        oversize += too_large
        if too_large:
            quarantined.append(landed.submission_id)
        if taken >= ctx.route.batch_size:
            break  # the rest waits in the source for the next run
    batch = ctx.ledger.unfinished(ctx.route.id, limit=ctx.route.batch_size) + quarantined
    log.info("route %s: landed %d new (%d over the size limit), %d duplicate; batch of %d", ctx.route.id, new,
             oversize, duplicates, len(batch))
    return batch

