"""Archive: build an FGS 2.0 / E-ARK SIP per case version and hand it to the route's archive target.

An amendment gets a package of its own, with the full new case and the documents no earlier package of the case
holds, which refers to the package of the version that created the case.
"""

from __future__ import annotations

import shutil

from brygga import __version__
from brygga.archive import Agent, build_sip, package_objid
from brygga.canonical.serialize import loads_case
from brygga.ledger import State
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.deliver import stored_documents
from brygga.pipeline.guard import per_submission
from brygga.pipeline.revisions import new_attachments


def archive(ctx: PipelineContext, ids: list[str]) -> list[str]:
    done: list[str] = []
    route = ctx.route
    staging = ctx.settings.home / "archive-staging"
    for sid in ctx.ledger.in_state(ids, State.DELIVERED):
        with per_submission(ctx, sid, "archive") as step:
            if route.archive is None:
                step.note("skipped", "route has no archive target")
                ctx.ledger.update(sid, state=State.ARCHIVED)
                done.append(sid)
                continue
            submission = ctx.ledger.get(sid)
            case = ctx.case(sid)
            attachments, revision, first_package = case.get("attachments", []), 1, None
            if submission.amends is not None:
                # The documents the case's packages already hold are not archived again.
                archived = [loads_case(v.canonical_json or "{}") for v in ctx.ledger.earlier_versions(submission)
                            if v.archive_location is not None]
                attachments, revision = new_attachments(archived, case), submission.revision or 1
                first_package = package_objid(case)  # the package of the version that created the case
            tenant = Agent(name=route.tenant.name, identification_code=route.tenant.organisationsnummer)
            package = build_sip(case, stored_documents(ctx, attachments), out_dir=staging,
                                diarienummer=submission.external_ref, archival_creator=tenant, submitter=tenant,
                                software=("Brygga", __version__), revision=revision, previous_package=first_package,
                                submission_agreement=route.archive.submission_agreement)
            try:
                location = ctx.adapter(route.archive).deliver_package(package)
            finally:  # built again next time if the hand-over failed
                shutil.rmtree(package, ignore_errors=True)
            step.note("ok", f"package {package.name}" + (f" (revision {revision}, refers to {first_package})"
                                                         if first_package else ""))
            ctx.ledger.update(sid, state=State.ARCHIVED, archive_location=location)
            done.append(sid)
    return done
