"""Preflight: what the route's targets and notifier would refuse, found at translate, before anything is created.

Each target's outbound mapping is run on the case, and each adapter that declares ``preflight`` (see
brygga/plugins.py) is asked about it. v0 found a FlowInstanceID that was not a number only at notify, after the
case had been registered and archived; now it is a quarantine reason at translate.
"""

from __future__ import annotations

from typing import Any

from brygga.mapping import MappingFailed
from brygga.pipeline.context import PipelineContext
from brygga.plugins import PREFLIGHT, adapter_class, configure
from brygga.routes import AdapterRef


def _adapter_problems(ref: AdapterRef, case: dict[str, Any], payload: dict[str, Any] | None) -> list[str]:
    cls = adapter_class(ref.adapter)
    check = getattr(cls, PREFLIGHT, None)
    if check is None:
        return []
    return list(check(configure(ref.adapter, cls.config_spec, dict(ref.config)), case, payload))


def preflight(ctx: PipelineContext, case: dict[str, Any]) -> list[str]:
    """Readable problems, each naming the target; empty when every routed target would take the case."""
    problems: list[str] = []
    for target in ctx.route.targets_for(case):
        try:
            payload = ctx.mapping(target.mapping_for(case["caseType"])).run(case,
                                                                            context=ctx.route.target_context(target))
        except MappingFailed as failed:
            problems += [f"target {target.id}: {problem}" for problem in failed.problems]
            continue
        problems += [f"target {target.id}: {problem}" for problem in _adapter_problems(target, case, payload)]
    if ctx.route.notify is not None:
        problems += [f"notify: {problem}" for problem in _adapter_problems(ctx.route.notify, case, None)]
    return problems
