"""ByggR-like building-permit case system (ArendeExportWS) for tests and demos."""

from simulators.byggr.records import CaseRecord, DocumentRecord, HandelseRecord
from simulators.byggr.service import ByggrSimulator

__all__ = ["ByggrSimulator", "CaseRecord", "DocumentRecord", "HandelseRecord"]
