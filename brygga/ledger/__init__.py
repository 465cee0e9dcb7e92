from brygga.ledger.models import Delivery, Quarantine, Step, Submission
from brygga.ledger.store import Claim, Landing, Ledger, State

__all__ = ["Claim", "Delivery", "Landing", "Ledger", "Quarantine", "State", "Step", "Submission"]
