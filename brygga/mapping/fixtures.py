"""Fixture tests for mappings, Redpanda style: ``name_test.yaml`` beside ``name.yaml``.

A suite file::

    mapping: bygglov.yaml                 # relative to the suite file
    tests:
      - name: person applicant
        input: ../../tests/samples/open-eplatform/bygglov-person.xml   # relative to the suite file
        context: {tenant: {kommunkod: "1881", name: Kumla kommun}}   # optional
        expect: {...}                     # the whole output, or
        expect_subset: {...}              # only these keys (recursively; lists compared item by item), or
        expect_errors:                    # every listed problem must be reported (and nothing else)
          - {rule: parties[0].personnummer, source: fi:Values/fi:sokande[1]/fi:SocialSecurityNumber,
             message: Luhn}               # message: a substring
        expect_input_error: DOCTYPE       # the input is refused before mapping; a substring of the reason
        expect_attachments: 3             # optional: how many attachments reached the sink

``run_case`` returns a list of failure descriptions: empty means the case passed. pytest collects the suites
through ``mappings/conftest.py``; ``brygga lint`` checks that they load.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from brygga.blobs import DiscardingSink
from brygga.mapping.compiler import CompiledMapping, compile_mapping
from brygga.mapping.errors import InvalidSource, MappingConfigError, MappingFailed
from brygga.mapping.spec import location

_EXPECTATIONS = ("expect", "expect_subset", "expect_errors", "expect_input_error")

SUITE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["mapping", "tests"],
    "additionalProperties": False,
    "properties": {
        "description": {"type": "string"},
        "mapping": {"type": "string", "minLength": 1},
        "tests": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "input"],
                "additionalProperties": False,
                "oneOf": [{"required": [key]} for key in _EXPECTATIONS],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "input": {"type": "string", "minLength": 1},
                    "context": {"type": "object"},
                    "expect": {"type": "object"},
                    "expect_subset": {"type": "object"},
                    "expect_errors": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["rule"],
                            "additionalProperties": False,
                            "properties": {
                                "rule": {"type": "string"},
                                "source": {"type": "string"},
                                "message": {"type": "string"},
                            },
                        },
                    },
                    "expect_input_error": {"type": "string"},
                    "expect_attachments": {"type": "integer", "minimum": 0},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class FixtureCase:
    suite: Path
    name: str
    mapping: Path
    input: Path
    context: dict[str, Any] | None = None
    expect: dict[str, Any] | None = None
    expect_subset: dict[str, Any] | None = None
    expect_errors: list[dict[str, str]] | None = None
    expect_input_error: str | None = None
    expect_attachments: int | None = None


def load_suite(path: Path) -> list[FixtureCase]:
    """Read one ``*_test.yaml``. Raises ``MappingConfigError`` naming the suite file and the place in it."""
    name = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingConfigError(name, "(file)", f"cannot read the test suite: {exc.__class__.__name__}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "(file)"
        problem = getattr(exc, "problem", None) or exc.__class__.__name__
        raise MappingConfigError(name, where, f"not valid YAML: {problem}") from None
    error = best_match(Draft202012Validator(SUITE_SCHEMA).iter_errors(doc))
    if error is not None:
        raise MappingConfigError(name, location(list(error.absolute_path)), error.message)
    base = path.parent
    mapping = (base / doc["mapping"]).resolve()
    if not mapping.is_file():
        raise MappingConfigError(name, "mapping", f"no mapping file at {doc['mapping']}")
    cases = []
    for i, test in enumerate(doc["tests"]):
        source = (base / test["input"]).resolve()
        if not source.is_file():
            raise MappingConfigError(name, f"tests[{i}].input", f"no input file at {test['input']}")
        cases.append(FixtureCase(
            suite=path, name=test["name"], mapping=mapping, input=source, context=test.get("context"),
            expect=test.get("expect"), expect_subset=test.get("expect_subset"),
            expect_errors=test.get("expect_errors"), expect_input_error=test.get("expect_input_error"),
            expect_attachments=test.get("expect_attachments"),
        ))
    return cases


@cache
def _compiled(path: Path) -> CompiledMapping:
    # One compile per mapping per process, however many cases use it.
    return compile_mapping(path, file=_display(path))


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _subset_diff(expected: Any, actual: Any, where: str) -> list[str]:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where or '(root)'}: expected an object"]
        diffs = []
        for key, value in expected.items():
            path = f"{where}.{key}" if where else key
            if key not in actual:
                diffs.append(f"{path}: missing")
            else:
                diffs.extend(_subset_diff(value, actual[key], path))
        return diffs
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected a list of {len(expected)} items"]
        return [d for i, (e, a) in enumerate(zip(expected, actual, strict=True))
                for d in _subset_diff(e, a, f"{where}[{i}]")]
    return [] if expected == actual else [f"{where}: expected {expected!r}, got {actual!r}"]


def run_case(case: FixtureCase) -> list[str]:
    """Run one fixture case; return what went wrong (empty when it passed)."""
    mapping = _compiled(case.mapping)
    sink = DiscardingSink()
    stored = sink.stored
    try:
        out = mapping.run(case.input, context=case.context, blob_sink=sink, source_name=_display(case.input))
    except InvalidSource as exc:
        if case.expect_input_error is not None and case.expect_input_error in str(exc):
            return []
        return [f"input refused: {exc}"]
    except MappingFailed as exc:
        if case.expect_errors is None:
            return ["unexpected problems:", *(f"  {p}" for p in exc.problems)]
        return _match_errors(case.expect_errors, exc)
    if case.expect_errors is not None or case.expect_input_error is not None:
        return ["expected the run to fail, but it produced an output"]
    failures = []
    if case.expect is not None and out != case.expect:
        failures = ["output differs from expect:", *_subset_diff(case.expect, out, ""),
                    *(f"{k}: not expected" for k in out if k not in case.expect)]
    if case.expect_subset is not None:
        failures += _subset_diff(case.expect_subset, out, "")
    if case.expect_attachments is not None and len(stored) != case.expect_attachments:
        failures.append(f"expected {case.expect_attachments} attachments in the sink, got {len(stored)}")
    return failures


def _match_errors(expected: list[dict[str, str]], exc: MappingFailed) -> list[str]:
    problems = list(exc.problems)
    failures = []
    for want in expected:
        match = next((p for p in problems if p.rule == want["rule"]
                      and ("source" not in want or p.source_path == want["source"])
                      and want.get("message", "") in p.message), None)
        if match is None:
            failures.append(f"no problem like {want}")
        else:
            problems.remove(match)
    failures += [f"unexpected problem: {p}" for p in problems]
    return failures
