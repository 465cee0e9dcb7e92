"""Deliberate breaches of the IntegrationCallback contract, for the conformance kit's tests.

Each is a bug a real e-service platform could ship; ``OepCallbackSimulator(flaws=[...])`` (or
``--option flaws=a,b`` from a shell) turns them on. Without flaws the simulator keeps the contract.
"""

from __future__ import annotations

from collections.abc import Collection

from brygga_simulators.flaws import flaw_names

FLAWS: dict[str, str] = {
    "requires-log-message": "confirmDelivery without the optional logMessage gets a Server fault (a null dereference)",
    "duplicates-status-event": "setStatus to the status a flow instance already has records a new status event with "
                               "a new eventID, instead of answering eventID 0 as Open ePlatform does",
    "refuses-repeat-confirm": "a second confirmDelivery for a flow instance gets a fault instead of being ignored",
    "omits-event-id": "setStatusResponse comes without its required eventID (an implementation that returns void)",
    "renames-reply-element": "addMessageResponse carries messageId instead of messageID",
    "stale-wsdl": "the served WSDL is an older contract whose IntegrationMessage has no readReceiptEnabled",
    "ignores-unknown-flow-instance": "a call for a flow instance the platform does not know is answered as a success "
                                     "(and dropped) instead of a FlowInstanceNotFoundFault",
    "no-schema-validation": "requests are not validated against the schema: a missing required element is accepted",
    "no-fault-500": "a request the platform cannot read (not XML, not valid against the schema) gets a bare HTTP 500 "
                    "HTML page instead of a SOAP Fault",
}


def parse_flaws(flaws: Collection[str] | str | None) -> frozenset[str]:
    """The flaws asked for: a collection of names, or one comma-separated text (a shell's ``--option``)."""
    return flaw_names(flaws, FLAWS, "oep-callback")
