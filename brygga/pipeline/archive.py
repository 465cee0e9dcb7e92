"""Archive: build an FGS 2.0 / E-ARK SIP per case version and hand it to the route's archive target.

An amendment gets a package of its own, with the full new case and the documents no earlier package of the case
holds, which refers to the package of the version that created the case.

The hand-over is claimed like a delivery (``@archive``): two runs at once do not hand the same package over at
the same time, and an archive target's transient faults are retried by time. A package has a stable name, and an
archive target finds it by that name, so a second hand-over (a run that listed the submission before another
archived it) delivers nothing new. Each run builds its packages in a staging folder of its own, which a killed
run leaves behind for the next run to sweep. A target that offers a staging folder on its own file system
(``staging_folder()``, as the archive folder does) gets its packages built there, and moves them into place by a
rename instead of copying them.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable
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
from brygga.pipeline.guard import StepHandle, per_submission
from brygga.pipeline.revisions import new_attachments
from brygga.routes import ArchiveSpec, Route, TargetSpec, Tenant

ARCHIVE = "@archive"


@dataclass(frozen=True)
class _Destination:
    """One e-archive a case's packages go to: the route's, or that of another kommun a target works for."""

    spec: ArchiveSpec
    tenant: Tenant
    target: TargetSpec | None = None  # None: the route's archive

    @property
    def site(self) -> str:
        """The call site in the ledger: "@archive", or "@archive:<target id>"."""
        return ARCHIVE if self.target is None else f"{ARCHIVE}:{self.target.id}"

    @property
    def held_by(self) -> str | None:
        """Another kommun's archive gets packages of its own (naming.package_objid)."""
        return None if self.target is None else self.tenant.kommunkod

    @property
    def what(self) -> str:
        return "the archive target" if self.target is None else f"the archive of {self.tenant.name}"


def _destinations(route: Route, case: dict[str, Any]) -> list[_Destination]:
    found = [_Destination(route.archive, route.tenant)] if route.archive is not None else []
    return found + [_Destination(t.archive, t.tenant, t)
                    for t in route.targets_for(case) if t.archive is not None and t.tenant is not None]


def _archived_before(ctx: PipelineContext, submission: Submission, destination: _Destination) -> list[Submission]:
    """The earlier versions whose package this archive holds (another kommun's may not have had them all)."""
    earlier = ctx.ledger.earlier_versions(submission)
    if destination.target is None:  # its row is kept while another archive still waits
        return [v for v in earlier if v.archive_location is not None or ctx.ledger.delivered_ref(v.id, ARCHIVE)]
    return [v for v in earlier if ctx.ledger.delivered_ref(v.id, destination.site)]


def _hand_over(ctx: PipelineContext, submission: Submission, case: dict[str, Any], staging: RunStaging,
               destination: _Destination) -> tuple[str, str]:
    """Build the package and hand it to the archive target: its location, and a note for the ledger."""
    attachments, revision, first_package = case.get("attachments", []), 1, None
    archived = _archived_before(ctx, submission, destination)
    if archived or (destination.target is None and submission.amends is not None):
        # A package per version: a later one refers to the first and holds only the documents none of them has.
        archived_cases = [loads_case(v.canonical_json or "{}") for v in archived]
        attachments, revision = new_attachments(archived_cases, case), submission.revision or 1
        first_package = package_objid(case, held_by=destination.held_by)
    if not destination.spec.with_documents:  # neither the files nor their names (a file name may name a person)
        attachments, case = [], {k: v for k, v in case.items() if k != "attachments"}
    creator = Agent(name=destination.tenant.name, identification_code=destination.tenant.organisationsnummer)
    diarienummer = submission.external_ref if destination.target is None else \
        ctx.ledger.delivered_ref(submission.id, destination.target.id)
    target = ctx.adapter(destination.spec)
    out_dir = staging.folder_for(target) / destination.site.strip("@").replace(":", "-")  # another archive: apart
    out_dir.mkdir(exist_ok=True)
    package = build_sip(case, ctx.content.documents(attachments), out_dir=out_dir,
                        diarienummer=diarienummer, archival_creator=creator, submitter=creator,
                        software=("Brygga", __version__), revision=revision, previous_package=first_package,
                        submission_agreement=destination.spec.submission_agreement, held_by=destination.held_by)
    try:
        location = target.deliver_package(package)  # moved away when the target renamed it into place
    finally:  # built again next time if the hand-over failed
        shutil.rmtree(package, ignore_errors=True)
    to = "" if destination.target is None else f" to {destination.tenant.name} ({location})"
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


class RunStaging:
    """The run's staging folders: one in each target's own staging folder, else one under BRYGGA_HOME.

    Made on first use; each staging root is swept of killed runs' folders then. Removed when the run ends, and a
    target's staging folder with them when no other run is using it, so the drop folder is left as it was.
    """

    def __init__(self, default_root: Path) -> None:
        self.default_root = default_root
        self.folders: dict[Path, Path] = {}  # staging root: this run's folder in it

    def folder_for(self, target: object) -> Path:
        staging_folder = getattr(target, "staging_folder", None)
        # On the target's file system, so that its hand-over is a rename (see ArchiveFolderTarget).
        if not callable(staging_folder):
            return self._folder_in(self.default_root, lambda: self.default_root)
        return self._folder_in(None, lambda: Path(staging_folder()))

    def _folder_in(self, known: Path | None, make_root: Callable[[], Path]) -> Path:
        root = known if known is not None else make_root()
        folder = self.folders.get(root)
        if folder is not None:
            return folder
        for _ in range(3):  # another run's end may remove an empty staging root between mkdir and the sweep or mkdtemp
            root.mkdir(parents=True, exist_ok=True)
            try:
                _sweep_stale_staging(root)
                folder = Path(tempfile.mkdtemp(dir=root, prefix=_staging_prefix()))
                break
            except FileNotFoundError:
                root = make_root()
        else:
            raise FileNotFoundError(f"staging folder {root} keeps disappearing")
        self.folders[root] = folder
        return folder

    def __enter__(self) -> RunStaging:
        self.default_root.mkdir(parents=True, exist_ok=True)
        _sweep_stale_staging(self.default_root)  # killed runs' folders, even when this run builds nothing here
        return self

    def __exit__(self, *_: object) -> None:
        for root, folder in self.folders.items():
            shutil.rmtree(folder, ignore_errors=True)
            if root != self.default_root:
                with contextlib.suppress(OSError):  # in use by another run, or not ours to remove
                    root.rmdir()


def _archive_one(ctx: PipelineContext, step: StepHandle, submission: Submission, case: dict[str, Any],
                 staging: RunStaging, destinations: list[_Destination]) -> str | None:
    """Hand the case's package to each of its archives; the first one's location once all have it, else None.

    Another kommun's archive keeps its row with the location: it tells which versions that archive holds, and a
    failure on one side retries that side only. The route's own archive keeps none when it is the only one (its
    location is the submission's).
    """
    locations: list[str | None] = []
    notes = []
    for destination in destinations:
        # A package is found by its stable name at the target: an interrupted hand-over needs no settle delay.
        policy = replace(destination.spec.retry, in_doubt_delay=timedelta(0))
        site = CallSite(submission.id, destination.site, call_site_key(submission.id, destination.site), policy,
                        destination.what)
        hand_over = partial(_hand_over, ctx, submission, case, staging, destination)
        forget = destination.target is None and len(destinations) == 1
        handed = attempt(ctx, step, site, hand_over, external_ref=lambda r: r[0], forget=forget)
        if handed is None:
            if step.quarantined:
                return None
            locations.append(None)  # waits; the other archives go on
        elif handed.result is not None:
            locations.append(handed.result[0])
            notes.append(handed.result[1])
        else:
            locations.append(handed.external_ref)
            notes.append(f"{destination.what}: handed over in an earlier run")
    if None in locations:
        return None
    step.note("ok", "; ".join(notes))
    return locations[0]


def archive(ctx: PipelineContext, ids: list[str]) -> list[str]:
    done: list[str] = []
    with RunStaging(ctx.settings.home / "archive-staging") as staging:
        for submission in ctx.ledger.load(ids, State.DELIVERED):
            sid = submission.id
            with per_submission(ctx, sid, "archive") as step:
                case = ctx.case_of(submission)
                destinations = _destinations(ctx.route, case)
                if not destinations:
                    step.note("skipped", "route has no archive target")
                    if step.advance(State.DELIVERED, state=State.ARCHIVED):
                        done.append(sid)
                    continue
                location = _archive_one(ctx, step, submission, case, staging, destinations)
                if location is not None and step.advance(State.DELIVERED, state=State.ARCHIVED,
                                                         archive_location=location):
                    done.append(sid)
    return done
