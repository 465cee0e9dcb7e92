"""What a system administrator asks of the ledger: where is this submission, what happened to it, why did it stop,
run it again or let it go, how are the routes doing. The CLI and the Airflow view both answer through this."""

from brygga.admin.health import RouteHealth, TargetHealth, health
from brygga.admin.personal import PERSON_KEY_CONNECTION, masked_case, person_key, person_key_secret, reveal
from brygga.admin.quarantine import (
    REPLAY_FROM,
    QuarantinedRow,
    QuarantineFilter,
    QuarantineGroup,
    Replayed,
    discard,
    quarantine_groups,
    quarantined,
    replay,
    replay_many,
)
from brygga.admin.query import SearchQuery, SubmissionRow, count, search
from brygga.admin.trace import AuditRow, DeliveryRow, QuarantineRow, StatusRow, StepRow, Trace, trace

__all__ = [
    "PERSON_KEY_CONNECTION", "REPLAY_FROM", "AuditRow", "DeliveryRow", "QuarantineFilter", "QuarantineGroup",
    "QuarantineRow", "QuarantinedRow", "Replayed", "RouteHealth", "SearchQuery", "StatusRow", "StepRow",
    "SubmissionRow", "TargetHealth", "Trace", "count", "discard", "health", "masked_case", "person_key",
    "person_key_secret", "quarantine_groups", "quarantined", "replay", "replay_many", "reveal", "search", "trace",
]
