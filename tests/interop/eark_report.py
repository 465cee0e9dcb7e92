"""Run the official E-ARK validator (eark-validator 1.1.3, in .venv-eark) on a package and judge its report."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

from brygga.settings import REPO_ROOT

TOOL = REPO_ROOT.parent / "shared" / "tools" / "eark_validate_offline.py"
# SIP14 wants an un-namespaced NOTETYPE on the software CREATOR's note, which METS forbids: a validator defect.
KNOWN_VALIDATOR_DEFECTS = {"SIP14"}


def run_validator(package: Path) -> dict:
    # `make interop` sets this; the validator pins lxml 5.1.0, so it lives in a venv of its own.
    python = os.environ.get("BRYGGA_EARK_PYTHON") or str(REPO_ROOT / ".venv-eark" / "bin" / "python")
    assert Path(python).exists(), f"{python} not found: run `make interop`, which builds .venv-eark"
    done = subprocess.run([python, str(TOOL), str(package)], capture_output=True, text=True, timeout=300,
                          check=False)
    # The tool prints a "struct result" line before its JSON report.
    start = done.stdout.find("{")
    assert start >= 0, f"no JSON report (exit {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(done.stdout[start:])


def assert_only_known_validator_defects(package: Path) -> None:
    report = run_validator(package)
    messages = [*report["structure"]["messages"], *report["metadata"]["schema_results"]["messages"],
                *report["metadata"]["schematron_results"]["messages"]]
    by_severity: dict[str, Counter[str]] = {}
    for message in messages:
        by_severity.setdefault(message["severity"].lower(), Counter())[message["rule_id"]] += 1
    errors = by_severity.get("error", Counter())
    warnings = by_severity.get("warn", Counter()) + by_severity.get("warning", Counter())
    assert report["structure"]["status"] == "WellFormed"
    assert report["metadata"]["schema_results"]["status"] == "VALID"
    assert set(errors) <= KNOWN_VALIDATOR_DEFECTS, dict(errors)
    assert errors["SIP14"] == 1, dict(errors)  # one software CREATOR note, one false positive
    assert not warnings, dict(warnings)
