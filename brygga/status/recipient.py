"""Who a decision goes to in the digital mailbox: the applicant, by personnummer, from the canonical case."""

from __future__ import annotations

from brygga.canonical.serialize import loads_case
from brygga.ledger import Submission


def resident_personnummer(submission: Submission) -> str | None:
    """The applicant's personnummer; None for an organisation, or a case purged by retention."""
    if submission.canonical_json is None:
        return None
    case = loads_case(submission.canonical_json)
    for party in case.get("parties", []):
        if "applicant" in party.get("roles", []) and party.get("kind") == "person" and party.get("personnummer"):
            return str(party["personnummer"])
    return None
