"""Archive: build an FGS 2.0 / E-ARK SIP per case and hand it to the route's archive target."""

from __future__ import annotations

import shutil

from brygga import __version__
from brygga.archive import Agent, build_sip
from brygga.ledger import State
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.deliver import stored_documents
from brygga.pipeline.guard import per_submission


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
            case = ctx.case(sid)
            tenant = Agent(name=route.tenant.name, identification_code=route.tenant.organisationsnummer)
            package = build_sip(case, stored_documents(ctx, case), out_dir=staging,
                                diarienummer=ctx.ledger.get(sid).external_ref, archival_creator=tenant,
                                submitter=tenant, software=("Brygga", __version__))
            location = ctx.adapter(route.archive).deliver_package(package)
            shutil.rmtree(package, ignore_errors=True)
            step.note("ok", f"package {package.name}")
            ctx.ledger.update(sid, state=State.ARCHIVED, archive_location=location)
            done.append(sid)
    return done
