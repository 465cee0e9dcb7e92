"""What a case system reports about its cases, in its own words, before a vocabulary translates it.

A case-target adapter that can report changes also implements ``StatusFeed``. The status DAG of its connection asks
it for everything after the last watermark and records each ``CaseChange`` once, by its identity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

# The canonical kinds of status event (schemas/canonical/status-event.v1.schema.json), in the order a case lives.
KINDS = ("received", "registered", "handler_assigned", "supplement_requested", "supplement_received",
         "decision_made", "closed", "withdrawn")


@dataclass(frozen=True)
class DocumentRef:
    """A document the case system holds, by its own id (ByggR's dokId)."""

    id: str
    name: str | None = field(default=None, repr=False)  # a file name as the system gives it: it may name a person


@dataclass(frozen=True)
class CaseChange:
    """One thing that happened to one case, in the case system's vocabulary.

    ``change_id`` is stable in that system: the same change read twice has the same id (ByggR: ``handelse:<id>``,
    ``handlaggare:<id>``, ``status:<status>``, and ``handelse:<id>:arbetsmaterial`` while a handelse is a draft, so
    that it is a new change once final; a REST feed: its change's own id or the order and status). ``facts``
    are the system's own codes and titles that a vocabulary (mappings/status/*.yaml) matches on: no personal data,
    so no names of residents or officers.
    """

    case_ref: str  # the system's reference of the case: ByggR's dnr, a work order's number
    change_id: str
    occurred_at: datetime  # timezone-aware
    facts: Mapping[str, str]
    extern_ref: str | None = None  # Brygga's extern ref, where the system keeps it on the case
    documents: tuple[DocumentRef, ...] = ()


@dataclass(frozen=True)
class ChangeBatch:
    """The changes after ``since`` up to ``until``, oldest first. ``until`` is the next poll's ``since``."""

    changes: list[CaseChange]
    until: datetime
    facts_seen: dict[str, int] = field(default_factory=dict)  # optional counts for the run's log


@dataclass(frozen=True)
class FetchedDocument:
    name: str
    media_type: str
    content: bytes


@runtime_checkable
class StatusFeed(Protocol):
    """Optional on a case-target adapter: its cases' changes, and their documents."""

    def changes(self, since: datetime) -> ChangeBatch:
        """Everything after ``since`` (exclusive). Raise TargetUnavailable to be retried by time."""

    def fetch_document(self, document: DocumentRef) -> FetchedDocument:
        """One document's bytes, e.g. a decision to send to the resident."""
