"""The Recorder: a profile runs each check inside ``record.case(check, sample)``, which times it and keeps its outcome.

An exception escaping a case is the endpoint misbehaving in a way the profile did not foresee (or a bug in the
profile): it is recorded as an ``error`` and swallowed, so one broken case never hides the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from brygga_conformance.model import CaseResult, Check, Outcome


class CaseLog:
    """What one case found and did, while it runs."""

    def __init__(self) -> None:
        self.findings: list[str] = []
        self.notes: list[str] = []

    def fail(self, finding: str) -> None:
        """A finding: one precise sentence naming what was expected and what came (never personal values)."""
        self.findings.append(finding)

    def note(self, text: str) -> None:
        """What was done, e.g. ``SaveNewArende -> BN 2026-000001``: shown in the HTML report and JUnit system-out."""
        self.notes.append(text)


class Recorder:
    def __init__(self, on_result: Callable[[CaseResult], None] | None = None) -> None:
        self.results: list[CaseResult] = []
        self._on_result = on_result  # e.g. the CLI's progress line per check

    def _add(self, result: CaseResult) -> None:
        self.results.append(result)
        if self._on_result is not None:
            self._on_result(result)

    @contextmanager
    def case(self, check: Check, sample: str | None = None) -> Iterator[CaseLog]:
        log = CaseLog()
        started = time.perf_counter()
        outcome: Outcome
        try:
            yield log
        except Exception as exc:  # recorded, not raised: the next case runs (see the module docstring)
            log.findings.append(f"{type(exc).__name__}: {exc}")
            outcome = "error"
        else:
            outcome = "failed" if log.findings else "passed"
        self._add(CaseResult(check, sample, outcome, log.findings, time.perf_counter() - started, log.notes))

    def skip(self, check: Check, sample: str | None, reason: str) -> None:
        self._add(CaseResult(check, sample, "skipped", [reason], 0.0))

    def outcome(self, check: Check, sample: str | None = None) -> Outcome | None:
        """The outcome recorded last for this check and sample, or None when it has not run (for dependent checks)."""
        for result in reversed(self.results):
            if result.check == check and result.sample == sample:
                return result.outcome
        return None
