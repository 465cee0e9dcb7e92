"""Translate: inbound mapping to the canonical case, validation, routing by case type, enrichment from the
kommun's registers, a preflight of every target, and the version of the submission (first, amendment or
duplicate of an earlier export of the same reference).

Whatever fails goes to quarantine with reasons a person understands. Nothing is dropped.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from brygga.admin.personal import case_person_keys, person_key_secret
from brygga.canonical import validate_case
from brygga.canonical.serialize import dumps_case
from brygga.errors import ConfigError
from brygga.ledger import State, Submission
from brygga.ledger.writes import note_reference, person_keys
from brygga.mapping import InvalidSource, MappingFailed
from brygga.mapping.peek import as_reference
from brygga.pipeline.attempts import CallSite, attempt, call_site_key
from brygga.pipeline.context import PipelineContext
from brygga.pipeline.enrich import enrich_properties
from brygga.pipeline.guard import StepHandle, per_submission
from brygga.pipeline.preflight import preflight
from brygga.pipeline.revisions import classify, fingerprint
from brygga.routes import INBOUND_OUTPUT_SCHEMA, no_target_reason

log = logging.getLogger(__name__)

LOOKUP = "@property_lookup"


def _map(ctx: PipelineContext, step: StepHandle, submission: Submission) -> dict[str, Any] | None:
    landed = ctx.landing.path_for(submission.content_sha256)
    try:
        # Read from the landed file as a stream: attachments go straight into the content store.
        return ctx.choose_mapping(landed, submission.source_name).run(
            landed, context=ctx.route.mapping_context,
            source_name=submission.source_name, blob_sink=ctx.content,
            max_attachment_bytes=ctx.route.limits.max_attachment_bytes)
    except MappingFailed as failed:
        step.quarantine([str(p) for p in failed.problems])
    except InvalidSource as exc:
        step.quarantine([str(exc)])
    return None


def _enrich(ctx: PipelineContext, step: StepHandle, sid: str, case: dict[str, Any]) -> bool:
    """False when the submission must wait (register unavailable) or stop (register refused)."""
    lookup = ctx.route.property_lookup
    if lookup is None:
        return True
    site = CallSite(sid, LOOKUP, call_site_key(sid, LOOKUP), lookup.retry, "the property register")
    done = attempt(ctx, step, site, partial(enrich_properties, ctx, case), forget=True)
    if done is None:
        return False
    problems = validate_case(case)
    if problems:  # the register answered something the canonical model does not allow
        step.quarantine([f"after the property lookup: {p.path}: {p.message}" for p in problems])
        return False
    step.note("ok", done.result)
    return True


def translate(ctx: PipelineContext, ids: list[str]) -> list[str]:
    for path, mapping in zip(ctx.route.mappings, ctx.inbound_mappings(), strict=True):
        if mapping.output_schema != INBOUND_OUTPUT_SCHEMA:
            # The mapping validates its own output; requiring it here means no case skips validation.
            raise ConfigError(f"{path}: an inbound mapping must declare output_schema: {INBOUND_OUTPUT_SCHEMA}")
    done: list[str] = []
    # The secret of the personnummer search keys, once per run; None when the connection is not configured (no keys
    # kept). Failing to resolve it for any other reason fails the task: Airflow retries it, and no submission goes
    # through translate without its keys meanwhile.
    person_secret = person_key_secret(ctx.connections)
    for submission in ctx.ledger.load(ids, State.LANDED):
        sid = submission.id
        with per_submission(ctx, sid, "translate") as step:
            case = _map(ctx, step, submission)
            if case is None:
                continue
            # Kept as soon as the case is mapped, so a submission quarantined later in this step (enrichment,
            # preflight, no target) is found by its reference and by personnummer too: intake's peek at the
            # reference may not have read it. A value shaped like personal data waits for the case, as at intake.
            # Both ride in the step's next write: the lookup's claim, the quarantine, or the move on.
            findable = as_reference(str(case["source"]["reference"]))
            if findable is not None:
                step.later(note_reference(sid, findable))
            if person_secret is not None:
                step.later(person_keys(sid, case_person_keys(case, person_secret)))
            case_type = case["caseType"]
            if ctx.route.has_case_system(case_type) and not ctx.route.targets_for(case):
                step.quarantine([no_target_reason(ctx.route, case)])
                continue
            # What the resident sent decides the version, not what a register later adds to it.
            content = fingerprint(case)
            if not _enrich(ctx, step, sid, case):
                continue
            problems = preflight(ctx, case)
            if problems:
                step.quarantine(problems)
                continue
            reference = str(case["source"]["reference"])
            version = classify(ctx.ledger.versions(ctx.route.id, reference, besides=sid), content)
            fields = dict(case_type=case_type, source_reference=reference, canonical_json=dumps_case(case).decode(),
                          content_fingerprint=content)
            if version.revision is None:
                step.note("duplicate", f"the same content as submission {version.duplicate_of}; nothing to send")
                if not step.advance(State.LANDED, state=State.DUPLICATE, **fields):
                    step.note("deferred", "another run translated it meanwhile")
                continue
            if version.revision > 1:
                step.note("ok", f"revision {version.revision} of reference {reference}")
            if not step.advance(State.LANDED, state=State.TRANSLATED, revision=version.revision, **fields):
                # Another run translated this one, or took the revision number for another version of the reference.
                step.note("deferred", "another run translated it or a version of the same reference; next run")
                continue
            done.append(sid)
    return done
