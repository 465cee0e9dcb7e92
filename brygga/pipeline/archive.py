"""Archive: build an FGS 2.0 / E-ARK SIP per case version and hand it to the route's archive target.

An amendment (revision 2, …) gets a package of its own, with the full new case and the documents that are
new in it, which refers to the first version's package.
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
            revision = submission.revision or 1
            attachments, previous = case.get("attachments", []), None
            if revision > 1:
                earlier = [loads_case(v.canonical_json or "{}")
                           for v in ctx.ledger.versions(route.id, submission.source_reference or "")
                           if v.revision is not None and v.revision < revision]
                attachments, previous = new_attachments(earlier, case), package_objid(case)
            tenant = Agent(name=route.tenant.name, identification_code=route.tenant.organisationsnummer)
            package = build_sip(case, stored_documents(ctx, attachments), out_dir=staging,
                                diarienummer=submission.external_ref, archival_creator=tenant, submitter=tenant,
                                software=("Brygga", __version__), revision=revision, previous_package=previous,
                                submission_agreement=route.archive.submission_agreement)
            location = ctx.adapter(route.archive).deliver_package(package)
            shutil.rmtree(package, ignore_errors=True)
            step.note("ok", f"package {package.name}" + (f" (revision {revision}, refers to {previous})"
                                                         if previous else ""))
            ctx.ledger.update(sid, state=State.ARCHIVED, archive_location=location)
            done.append(sid)
    return done
