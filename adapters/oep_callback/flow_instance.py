"""Open ePlatform's flowInstanceID: the rule a source reference must meet before anything is sent back.

The callback contract types it ``xs:int``, so a reference that is not a positive whole number up to 2^31-1 can
never be sent. Checking it at translate (``preflight``) stops the submission before a case is created and archived
for a flow instance Brygga could never report back to.
"""

from __future__ import annotations

import re
from typing import Any

XS_INT_MAX = 2**31 - 1
FLOW_INSTANCE_RULE = f"must be an Open ePlatform flowInstanceID, a positive whole number up to {XS_INT_MAX} (xs:int)"
_DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only: int() would also take "+5", "1_000" and other scripts' digits


def flow_instance_id(reference: Any) -> int | None:
    """The reference as a flowInstanceID, or None when it cannot be one."""
    if isinstance(reference, bool):
        return None
    if isinstance(reference, int):
        value = reference
    elif isinstance(reference, str) and _DIGITS.fullmatch(reference.strip()):
        value = int(reference.strip())
    else:
        return None
    return value if 1 <= value <= XS_INT_MAX else None


def source_reference_problems(case: Any) -> list[str]:
    """What is wrong with the case's ``source.reference`` as a flowInstanceID; names the field, never the value."""
    source = case.get("source") if isinstance(case, dict) else None
    reference = source.get("reference") if isinstance(source, dict) else None
    if reference is None:
        return ["source.reference: missing; the oep-callback notifier needs the flowInstanceID to report back"]
    if flow_instance_id(reference) is None:
        return [f"source.reference: {FLOW_INSTANCE_RULE} (oep-callback notifier)"]
    return []
