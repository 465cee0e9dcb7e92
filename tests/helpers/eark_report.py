"""Run the official E-ARK validator (eark-validator 1.1.3, in .venv-eark) on a package and judge its report, and
run its CSIP/SIP schematron rules on a representation METS, which the validator itself never looks at."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

from brygga.settings import REPO_ROOT

TOOL = REPO_ROOT.parent / "shared" / "tools" / "eark_validate_offline.py"
RULES = REPO_ROOT.parent / "shared" / "reference" / "earkiv" / "validator-rules" / "schematron" / "V2.1.0"

# The validator's verdict on a Brygga package, exactly (docs/archive.md):
# - SIP14 (error) wants an un-namespaced NOTETYPE on the software CREATOR's note, which METS forbids: a defect.
# - CSIP105 (warning) looks for the representation div inside the "Representations" div; CSIP 2.1 puts it beside
#   it (mets/structMap/div/div, structMapExample2), and so does Brygga.
EXPECTED_ERRORS = Counter({"SIP14": 1})
EXPECTED_WARNINGS = Counter({"CSIP105": 1})

# CSIP asserts about the package as a whole. A representation has no documentation/, schemas/ or representations/
# folder of its own, and its descriptive metadata (the ERMS) is the package's, so in a representation METS these
# fail by design and do not apply. Every other CSIP rule does apply to it.
NOT_FOR_A_REPRESENTATION = {
    "CSIP17": "dmdSec: the descriptive metadata (ERMS) describes the package, in the package METS",
    "CSIP92": "Metadata div DMDID: follows from CSIP17, there is no dmdSec to point at",
    "CSIP60": "fileSec has a Documentation fileGrp: documentation/ is a package folder",
    "CSIP113": "fileSec has a Schemas fileGrp: schemas/ is a package folder",
    "CSIP114": "fileSec has a Representations fileGrp: representations/ is a package folder",
    "CSIP93": "structMap Documentation div (warning): documentation/ is a package folder",
    "CSIP95": "structMap Documentation div: documentation/ is a package folder",
    "CSIP97": "structMap Schemas div (warning): schemas/ is a package folder",
    "CSIP99": "structMap Schemas div: schemas/ is a package folder",
    "CSIP101": "structMap Representations div (warning): representations/ is a package folder",
    "CSIP103": "structMap Representations div: representations/ is a package folder",
    "CSIP105": "structMap representation divs: a representation holds no representations",
}

# Runs inside the validator's venv: the offline tool's module code installs its vocabulary opener (it only runs
# the CLI as __main__), then the validator's own SchematronRuleset fills in the vocabulary and IANA tests.
_SCHEMATRON = """
import json, runpy, sys
runpy.run_path(sys.argv[1])
from eark_validator.ipxml.schematron import SchematronRuleset
SVRL = "{http://purl.oclc.org/dsdl/svrl}"
found = []
for rules in sys.argv[3:]:
    for failed in SchematronRuleset(rules).validate(sys.argv[2]).iter(SVRL + "failed-assert"):
        found.append([failed.get("id"), failed.get("role")])
print(json.dumps(found))
"""


def _eark_python() -> str:
    # `make interop` sets this; the validator pins lxml 5.1.0, so it lives in a venv of its own.
    python = os.environ.get("BRYGGA_EARK_PYTHON") or str(REPO_ROOT / ".venv-eark" / "bin" / "python")
    assert Path(python).exists(), f"{python} not found: run `make interop`, which builds .venv-eark"
    return python


def run_validator(package: Path) -> dict:
    done = subprocess.run([_eark_python(), str(TOOL), str(package)], capture_output=True, text=True, timeout=300,
                          check=False)
    # The tool prints a "struct result" line before its JSON report.
    start = done.stdout.find("{")
    assert start >= 0, f"no JSON report (exit {done.returncode}): {done.stderr[-2000:]}"
    return json.loads(done.stdout[start:])


def validator_verdict(package: Path) -> tuple[Counter[str], Counter[str]]:
    """(errors, warnings) by rule id, after checking the structure is well formed and the METS schema-valid."""
    report = run_validator(package)
    assert report["structure"]["status"] == "WellFormed", report["structure"]
    assert report["metadata"]["schema_results"]["status"] == "VALID", report["metadata"]["schema_results"]
    messages = [*report["structure"]["messages"], *report["metadata"]["schema_results"]["messages"],
                *report["metadata"]["schematron_results"]["messages"]]
    by_severity: dict[str, Counter[str]] = {}
    for message in messages:
        by_severity.setdefault(message["severity"].lower(), Counter())[message["rule_id"]] += 1
    errors = by_severity.get("error", Counter())
    warnings = by_severity.get("warn", Counter()) + by_severity.get("warning", Counter())
    return errors, warnings


def assert_only_known_validator_defects(package: Path) -> None:
    """The verdict is exactly EXPECTED_ERRORS and EXPECTED_WARNINGS: one more or one fewer fails."""
    errors, warnings = validator_verdict(package)
    assert (errors, warnings) == (EXPECTED_ERRORS, EXPECTED_WARNINGS), (dict(errors), dict(warnings))


def schematron_failures(mets: Path, *profiles: str) -> Counter[str]:
    """Failed asserts by rule id when the validator's schematron rules of ``profiles`` ("CSIP", "SIP") are run on
    one METS file."""
    rules = [str(path) for profile in profiles for path in sorted((RULES / profile).glob("mets_*_rules.xml"))]
    assert rules, f"no schematron rules under {RULES}"
    done = subprocess.run([_eark_python(), "-c", _SCHEMATRON, str(TOOL), str(mets), *rules], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return Counter(rule_id for rule_id, _role in json.loads(done.stdout))
