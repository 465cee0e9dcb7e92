"""What a conformance run records: the checks a profile makes and one result per check and sample."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Outcome = Literal["passed", "failed", "error", "skipped"]
OUTCOMES: tuple[Outcome, ...] = ("passed", "failed", "error", "skipped")


@dataclass(frozen=True)
class Check:
    id: str  # stable kebab-case id: the JUnit classname's second part and the report's anchor
    title: str  # one line, for the reports


CASE_REFERENCE = Check("case-reference", "A case reference comes back")
DOCUMENTS_INTACT = Check("documents-intact", "The documents arrive intact (sha256)")
FAULT_ON_INVALID = Check("fault-on-invalid", "Invalid input gets a fault")
IDEMPOTENT_REPEAT = Check("idempotent-repeat", "A repeat creates nothing new")
REPLY_SHAPE = Check("reply-shape", "Replies are shaped as the contract says")
COMMON_CHECKS = (CASE_REFERENCE, DOCUMENTS_INTACT, FAULT_ON_INVALID, IDEMPOTENT_REPEAT, REPLY_SHAPE)


@dataclass
class CaseResult:
    check: Check
    sample: str | None  # the sample's name, or None for a check that is not per sample
    outcome: Outcome
    findings: list[str]  # precise, one sentence each; never personal data. A skip's one entry is its reason.
    seconds: float
    notes: list[str] = field(default_factory=list)  # what was done, e.g. "SaveNewArende -> BN 2026-000001"
