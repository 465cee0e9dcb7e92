"""The Recorder: a profile runs each check inside ``record.case(check, sample)``, which times it and keeps its outcome.

An exception escaping a case is the endpoint misbehaving in a way the profile did not foresee (or a bug in the
profile): it is recorded as an ``error`` and swallowed, so one broken case never hides the others. A Ctrl-C is
recorded too (the case it cut short, with what it noted so far), then passed on: the runner ends the run there.

Every finding and note is worded for the kit and scrubbed of the run's sample values as it is recorded (wording.py,
scrub.py), so nothing a profile did not foresee quotes personal data into the terminal or a report.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from brygga_conformance.model import CaseResult, Check, Outcome
from brygga_conformance.wording import error_text, kit_wording

INTERRUPTED = "interrupted (Ctrl-C) before this check finished"


class CaseLog:
    """What one case found and did, while it runs."""

    def __init__(self) -> None:
        self.findings: list[str] = []
        self.notes: list[str] = []
        self.skipped: str | None = None

    def fail(self, finding: str) -> None:
        """A finding: one precise sentence naming what was expected and what came (never personal values)."""
        self.findings.append(finding)

    def note(self, text: str) -> None:
        """What was done, e.g. ``SaveNewArende -> BN 2026-000001``: shown in the HTML report and JUnit system-out."""
        self.notes.append(text)

    def skip(self, reason: str) -> None:
        """The check found it had nothing to judge (e.g. no reply came back): recorded as skipped with ``reason``
        ("skipped: <why>"), unless it has a finding, which makes it failed all the same."""
        self.skipped = reason


class Recorder:
    def __init__(self, on_result: Callable[[CaseResult], None] | None = None,
                 scrub: Callable[[str], str] | None = None) -> None:
        self.results: list[CaseResult] = []
        self._on_result = on_result  # e.g. the CLI's progress line per check
        self._scrub = scrub  # e.g. scrub.Scrubber of the run's samples

    def _clean(self, texts: list[str]) -> list[str]:
        worded = [kit_wording(text) for text in texts]
        return [self._scrub(text) for text in worded] if self._scrub is not None else worded

    def _add(self, result: CaseResult) -> None:
        result.findings, result.notes = self._clean(result.findings), self._clean(result.notes)
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
            log.findings.append(error_text(exc))
            outcome = "error"
        except KeyboardInterrupt:  # recorded with what it noted (a case it made, say), then the run ends
            log.findings.append(INTERRUPTED)
            self._add(CaseResult(check, sample, "error", log.findings, time.perf_counter() - started, log.notes))
            raise
        else:
            outcome = "failed" if log.findings else "passed"
            if outcome == "passed" and log.skipped is not None:
                outcome, log.findings = "skipped", [log.skipped]
        self._add(CaseResult(check, sample, outcome, log.findings, time.perf_counter() - started, log.notes))

    def skip(self, check: Check, sample: str | None, reason: str) -> None:
        self._add(CaseResult(check, sample, "skipped", [reason], 0.0))

    def error(self, check: Check, sample: str | None, finding: str) -> None:
        """A check that could not run at all, e.g. the run was interrupted before it."""
        self._add(CaseResult(check, sample, "error", [finding], 0.0))

    def outcome(self, check: Check, sample: str | None = None) -> Outcome | None:
        """The outcome recorded last for this check and sample, or None when it has not run (for dependent checks)."""
        for result in reversed(self.results):
            if result.check == check and result.sample == sample:
                return result.outcome
        return None
