"""Archive: build an FGS 2.0 / E-ARK SIP per case version and hand it to the route's archive target.

An amendment gets a package of its own, with the full new case and the documents no earlier package of the case
holds, which refers to the package of the version that created the case.

The hand-over is claimed like a delivery (``@archive``): two runs at once do not hand the same package over at
the same time, and an archive target's transient faults are retried by time. A package has a stable name, and an
archive target finds it by that name, so a second hand-over (a run that listed the submission before another
archived it) delivers nothing new. Each run builds its packages in a staging folder of its own, which a killed
run leaves behind for the next run to sweep.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from brygga import __version__
from brygga.archive import Agent, build_sip, package_objid
from brygga.canonical.serialize import loads_case
from brygga.ledger import State, Submission
from brygga.ledger.workers import Liveness, liveness, worker_id
from brygga.pipeline.attempts import CallSite, attempt, call_site_key
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.deliver import stored_documents
from brygga.pipeline.guard import StepHandle, per_submission
from brygga.pipeline.revisions import new_attachments
from brygga.routes import ArchiveSpec, Route, Tenant

ARCHIVE = "@archive"


@dataclass(frozen=True)
class _Destination:
    """One e-archive a case's package goes to: the route's, or that of a tenant a target works for."""

    site: str  # the call site in the ledger: "@archive", or "@archive:<target id>"
    spec: ArchiveSpec
    tenant: Tenant
    target_id: str | None = None  # whose diarienummer the package carries; None: the route's first target's

    @property
    def what(self) -> str:
        return "the archive target" if self.target_id is None else f"the archive of {self.tenant.name}"


def _destinations(route: Route, case: dict[str, Any]) -> list[_Destination]:
    found = [_Destination(ARCHIVE, route.archive, route.tenant)] if route.archive is not None else []
    return found + [_Destination(f"{ARCHIVE}:{t.id}", t.archive, t.tenant, t.id)
                    for t in route.targets_for(case) if t.archive is not None and t.tenant is not None]


def _hand_over(ctx: PipelineContext, submission: Submission, case: dict[str, Any], staging: Path,
               destination: _Destination) -> tuple[str, str]:
    """Build the package and hand it to the archive target: its location, and a note for the ledger."""
    attachments, revision, first_package = case.get("attachments", []), 1, None
    archived = [v for v in ctx.ledger.earlier_versions(submission) if v.archive_location is not None]
    if submission.amends is not None or archived:
        # A package per version: a later one refers to the first and holds only the documents none of them has.
        archived_cases = [loads_case(v.canonical_json or "{}") for v in archived]
        attachments, revision = new_attachments(archived_cases, case), submission.revision or 1
        first_package = package_objid(case)
    creator = Agent(name=destination.tenant.name, identification_code=destination.tenant.organisationsnummer)
    diarienummer = submission.external_ref if destination.target_id is None else \
        ctx.ledger.delivered_ref(submission.id, destination.target_id)
    out_dir = staging / destination.site.strip("@").replace(":", "-")  # one package name per case, per archive
    out_dir.mkdir(exist_ok=True)
    package = build_sip(case, stored_documents(ctx, attachments), out_dir=out_dir,
                        diarienummer=diarienummer, archival_creator=creator, submitter=creator,
                        software=("Brygga", __version__), revision=revision, previous_package=first_package,
                        submission_agreement=destination.spec.submission_agreement)
    try:
        location = ctx.adapter(destination.spec).deliver_package(package)
    finally:  # built again next time if the hand-over failed
        shutil.rmtree(package, ignore_errors=True)
    to = "" if destination.target_id is None else f" to {destination.tenant.name}"
    return location, f"package {package.name}{to}" + (f" (revision {revision}, refers to {first_package})"
                                                      if first_package else "")


# Staging folders of runs that were killed hold cases and documents: they go once their run is known to be gone,
# or after a day (their run may be on another host).
STALE_STAGING = timedelta(days=1)


def _staging_prefix() -> str:
    return "run-" + worker_id().replace(":", "~").replace("/", "+") + "-"


def _sweep_stale_staging(root: Path) -> None:
    for entry in root.iterdir():
        owner = entry.name.removeprefix("run-").rsplit("-", 1)[0].replace("~", ":").replace("+", "/")
        try:
            old = time.time() - entry.stat().st_mtime > STALE_STAGING.total_seconds()
        except FileNotFoundError:
            continue
        if old or (entry.name.startswith("run-") and liveness(owner) is Liveness.GONE):
            shutil.rmtree(entry, ignore_errors=True)


def _archive_one(ctx: PipelineContext, step: StepHandle, submission: Submission, case: dict[str, Any],
                 staging: Path, destinations: list[_Destination]) -> str | None:
    """Hand the case's package to each of its archives; the first one's location once all have it, else None.

    With several archives, each one's hand-over stays recorded with its location, so a failure on one side
    retries that side only. (A route's single archive keeps no row: its location is the submission's.)
    """
    locations, notes = [], []
    for destination in destinations:
        # A package is found by its stable name at the target: an interrupted hand-over needs no settle delay.
        policy = replace(destination.spec.retry, in_doubt_delay=timedelta(0))
        site = CallSite(submission.id, destination.site, call_site_key(submission.id, destination.site), policy,
                        destination.what)
        hand_over = partial(_hand_over, ctx, submission, case, staging, destination)
        handed = attempt(ctx, step, site, hand_over, external_ref=lambda r: r[0], forget=len(destinations) == 1)
        if handed is None:
            return None
        if handed.result is not None:
            location, note = handed.result
            notes.append(note)
        else:
            location = handed.external_ref or ""
            notes.append(f"{destination.what}: handed over in an earlier run")
        locations.append(location)
    step.note("ok", "; ".join(notes))
    return locations[0]


def archive(ctx: PipelineContext, ids: list[str]) -> list[str]:
    done: list[str] = []
    staging_root = ctx.settings.home / "archive-staging"
    staging_root.mkdir(parents=True, exist_ok=True)
    _sweep_stale_staging(staging_root)
    with tempfile.TemporaryDirectory(dir=staging_root, prefix=_staging_prefix()) as run_staging:
        for sid in ctx.ledger.in_state(ids, State.DELIVERED):
            with per_submission(ctx, sid, "archive") as step:
                submission, case = ctx.ledger.get(sid), ctx.case(sid)
                destinations = _destinations(ctx.route, case)
                if not destinations:
                    step.note("skipped", "route has no archive target")
                    if ctx.ledger.advance(sid, State.DELIVERED, state=State.ARCHIVED):
                        done.append(sid)
                    continue
                location = _archive_one(ctx, step, submission, case, Path(run_staging), destinations)
                if location is not None and ctx.ledger.advance(sid, State.DELIVERED, state=State.ARCHIVED,
                                                                archive_location=location):
                    done.append(sid)
    return done
