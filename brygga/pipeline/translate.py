"""Translate: inbound mapping to the canonical case, validation, and routing by case type.

Whatever fails goes to quarantine with reasons a person understands. Nothing is dropped.
"""

from __future__ import annotations

import logging

from brygga.canonical.serialize import dumps_case
from brygga.errors import ConfigError
from brygga.ledger import State
from brygga.mapping import InvalidSource, MappingFailed
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.guard import per_submission

log = logging.getLogger(__name__)

CANONICAL = "canonical/case.v1"


def translate(ctx: PipelineContext, ids: list[str]) -> list[str]:
    mapping = ctx.mapping(ctx.route.mapping)
    if mapping.output_schema != CANONICAL:
        # The mapping validates its own output; requiring it here means no case skips validation.
        raise ConfigError(f"{ctx.route.mapping}: an inbound mapping must declare output_schema: {CANONICAL}")
    done: list[str] = []
    for sid in ctx.ledger.in_state(ids, State.LANDED):
        with per_submission(ctx, sid, "translate") as step:
            submission = ctx.ledger.get(sid)
            raw = ctx.landing.get(submission.content_sha256)
            try:
                case = mapping.run(raw, context=ctx.route.mapping_context, source_name=submission.source_name,
                                   attachment_sink=lambda sha, data: ctx.content.put(data, sha))
            except MappingFailed as failed:
                step.quarantine([str(p) for p in failed.problems])
                continue
            except InvalidSource as exc:
                step.quarantine([str(exc)])
                continue
            case_type = case["caseType"]
            if not ctx.route.targets_for(case_type):
                step.quarantine([f"route {ctx.route.id!r} has no target for case type {case_type!r}"])
                continue
            ctx.ledger.update(sid, state=State.TRANSLATED, case_type=case_type,
                              source_reference=str(case["source"]["reference"]),
                              canonical_json=dumps_case(case).decode())
            done.append(sid)
    return done
