from brygga.ledger.models import AuditEntry, Delivery, OutboxMessage, Quarantine, StatusEventRecord, Step, Submission
from brygga.ledger.store import Claim, Landing, Ledger, NewStatusEvent, State

__all__ = ["AuditEntry", "Claim", "Delivery", "Landing", "Ledger", "NewStatusEvent", "OutboxMessage", "Quarantine",
           "State", "StatusEventRecord", "Step", "Submission"]
