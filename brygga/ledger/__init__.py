from brygga.ledger.models import AuditEntry, Delivery, OutboxMessage, Quarantine, StatusEventRecord, Step, Submission
from brygga.ledger.store import Claim, Landing, Ledger, NewStatusEvent, State
from brygga.ledger.writes import StepRecord, Write

__all__ = ["AuditEntry", "Claim", "Delivery", "Landing", "Ledger", "NewStatusEvent", "OutboxMessage", "Quarantine",
           "State", "StatusEventRecord", "Step", "StepRecord", "Submission", "Write"]
