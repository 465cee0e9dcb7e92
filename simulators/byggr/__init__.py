"""ByggR-like building-permit case system (ArendeExportWS) for tests and demos."""

from brygga_simulators.byggr.records import CaseRecord, DocumentRecord, HandelseRecord
from brygga_simulators.byggr.service import ByggrSimulator

__all__ = ["ByggrSimulator", "CaseRecord", "DocumentRecord", "HandelseRecord"]
