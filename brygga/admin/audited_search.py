"""A search of the submissions as the admin's command and view run it: how many match, one page of them, and, for
a search by personnummer, an audit row saying who searched and how many it found (never the number)."""

from __future__ import annotations

from brygga.admin.query import SearchQuery, SubmissionRow, count, search
from brygga.ledger import Ledger

PERSON_SEARCH = "person_search"  # the audit action of a search by personnummer


def audited_search(ledger: Ledger, query: SearchQuery, *, actor: str, limit: int,
                   offset: int = 0) -> tuple[int, list[SubmissionRow]]:
    """How many submissions match ``query``, and ``limit`` of them from ``offset``, newest first. A search by
    personnummer (``query.person_key``) is audited, found or not."""
    total = count(ledger, query)
    rows = search(ledger, query, limit=limit, offset=offset)
    if query.person_key is not None:
        ledger.audit(actor, PERSON_SEARCH, submission_id=None,
                     detail=f"searched by a personnummer: {total} submission(s) found")
    return total, rows
