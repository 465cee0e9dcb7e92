"""The states a submission goes through, by name."""

from __future__ import annotations


class State:
    LANDED = "landed"
    TRANSLATED = "translated"
    DELIVERED = "delivered"
    ARCHIVED = "archived"
    COMPLETED = "completed"
    QUARANTINED = "quarantined"
    DUPLICATE = "duplicate"  # the same canonical content as an earlier submission of the same reference
    # A quarantined version that never reached its targets, replaced by a later version that did.
    SUPERSEDED = "superseded"
    # Taken out of quarantine by an operator for good, with a reason (brygga quarantine discard); audited.
    DISCARDED = "discarded"

    DONE = (COMPLETED, QUARANTINED, DUPLICATE, SUPERSEDED, DISCARDED)
    # Every state not DONE, by name: ``state IN (...)`` can use the state index where ``NOT IN`` cannot.
    UNFINISHED = (LANDED, TRANSLATED, DELIVERED, ARCHIVED)
    # Versions a later version of the same reference need not wait for.
    SETTLED = (DELIVERED, ARCHIVED, COMPLETED, QUARANTINED, SUPERSEDED, DISCARDED)
