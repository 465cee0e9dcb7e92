"""Ecos-like environment and health protection case system (MinutMiljoService) for tests and demos."""

from brygga_simulators.ecos.records import CaseRecord, DocumentRecord, PartyRecord
from brygga_simulators.ecos.reference import (
    DOCUMENT_STATUSES,
    DOCUMENT_TYPES,
    OCCURRENCE_TYPES,
    PARTY_ROLES,
    PROCESS_TYPES,
)
from brygga_simulators.ecos.service import EcosSimulator

__all__ = [
    "DOCUMENT_STATUSES",
    "DOCUMENT_TYPES",
    "OCCURRENCE_TYPES",
    "PARTY_ROLES",
    "PROCESS_TYPES",
    "CaseRecord",
    "DocumentRecord",
    "EcosSimulator",
    "PartyRecord",
]
