"""Who a decision goes to in the digital mailbox: the applicant, by personnummer, from the canonical case."""

from __future__ import annotations

from brygga.canonical.serialize import loads_case
from brygga.ledger import Submission

PURGED = "purged"


def resident_personnummer(submission: Submission) -> str | None:
    """The applicant's personnummer; None for an organisation; ``PURGED`` for a case whose personal data retention
    has purged."""
    if submission.canonical_json is None:
        return PURGED if submission.purged_at is not None else None
    case = loads_case(submission.canonical_json)
    for party in case.get("parties", []):
        if "applicant" in party.get("roles", []) and party.get("kind") == "person" and party.get("personnummer"):
            return str(party["personnummer"])
    return None
