"""Enrich the canonical case from the kommun's registers before it goes anywhere.

The property lookup resolves each fastighetsbeteckning to its fastighetsnyckel (FNR) and object identity, so
targets can search and register by the key they use. Without a lookup, nothing changes: targets search by
designation only (docs/reliability.md, "Property keys").
"""

from __future__ import annotations

from typing import Any

from brygga.pipeline.context import PipelineContext


def enrich_properties(ctx: PipelineContext, case: dict[str, Any]) -> str:
    """Fill in ``fastighetsnyckel``/``objectIdentity`` where the register knows them; a note for the ledger.

    The route has a ``property_lookup``. ``TargetUnavailable`` from the register propagates: retried by time.
    """
    assert ctx.route.property_lookup is not None
    register = ctx.adapter(ctx.route.property_lookup)
    properties = case.get("properties", [])
    found = 0
    for prop in properties:
        if "fastighetsnyckel" in prop:  # the e-service already knew it
            found += 1
            continue
        record = register.lookup(prop["fastighetsbeteckning"])
        if record is None:
            continue
        found += 1
        if record.fastighetsnyckel is not None:
            prop["fastighetsnyckel"] = record.fastighetsnyckel
        if record.object_identity and "objectIdentity" not in prop:
            prop["objectIdentity"] = record.object_identity
    return f"property register: {found} of {len(properties)} found"
