from brygga.ledger.models import AuditEntry, Delivery, Quarantine, Step, Submission
from brygga.ledger.store import Claim, Landing, Ledger, State

__all__ = ["AuditEntry", "Claim", "Delivery", "Landing", "Ledger", "Quarantine", "State", "Step", "Submission"]
