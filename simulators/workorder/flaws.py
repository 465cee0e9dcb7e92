"""Non-conforming variants of the work-order system: bugs real vendors ship, switched on by name (``flaws``).

The conformance kit's ``case-rest`` profile must fail against each of them with a precise finding
(tests/conformance/test_case_rest.py). Without flaws the simulator behaves as documented; nothing here runs then.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import Any

from pydantic import Field

from brygga_simulators.flaws import flaw_names
from brygga_simulators.workorder.models import WorkOrderCreate

FLAWS: dict[str, str] = {
    "omits-reference": "the create answer has no orderNumber (the order is created; only its id comes back)",
    "truncates-documents": "an attachment is stored cut at its first NUL byte, as by a system that keeps uploads "
                           "in a text column (its listed size and sha256 are those of what was kept)",
    "ignores-idempotency-key": "Idempotency-Key is ignored on create, upload and note, and a second order with the "
                               "same externalRef is taken",
    "search-finds-nothing": "GET /orders?externalRef= answers no items (the filter is matched against another field)",
    "accepts-invalid": "a create body missing required fields is taken (HTTP 201), the fields left empty",
    "no-fault-500": "a body that is not JSON gets a bare HTTP 500 text/plain (the parser's exception is unhandled)",
    "numeric-status": "orders show their status as the system's numeric code (10, 20, ...), not the documented name",
}

# What a system with its own status codes shows instead of the API's names.
STATUS_CODES = {"registered": 10, "assigned": 20, "in_progress": 30, "waiting": 40, "closed": 90}


def parse_flaws(value: Collection[str] | str | None) -> frozenset[str]:
    """``flaws`` as given in Python (a collection) or by ``--option flaws=a,b``; unknown names are a ValueError."""
    return flaw_names(value, FLAWS, "work-order")


def shown_order(order: dict[str, Any], flaws: frozenset[str], *, created: bool = False) -> dict[str, Any]:
    """An order as the flawed system answers it (``created``: in the create answer)."""
    if "numeric-status" in flaws:
        order = {**order, "status": STATUS_CODES.get(order.get("status", ""), 0)}
    if created and "omits-reference" in flaws:
        order = {key: value for key, value in order.items() if key != "orderNumber"}
    return order


class TextColumn:
    """What a system keeping file content as text stores of an upload: everything before the first NUL byte."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.size = 0
        self.cut = False

    def feed(self, chunk: bytes) -> None:
        if self.cut:
            return
        end = chunk.find(b"\0")
        kept = chunk if end < 0 else chunk[:end]
        self.cut = end >= 0
        self.digest.update(kept)
        self.size += len(kept)


class LenientWorkOrderCreate(WorkOrderCreate):
    """The create body of a system that validates nothing: the required fields may be missing."""

    externalRef: str | None = Field(None, max_length=100)
    category: str | None = Field(None, max_length=50)
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=10000)
