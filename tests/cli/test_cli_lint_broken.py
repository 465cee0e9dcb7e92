"""`brygga lint` and `brygga test` on a broken inbound mapping: one line naming the file, the place in it and the
rule, never a traceback; that is what lint is for."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from brygga.settings import REPO_ROOT

BYGGLOV = Path("open-eplatform") / "bygglov.yaml"
CASE_TYPE = "  caseType: {const: bygglov}\n"


@pytest.fixture
def mappings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the bundled mappings the routes read (BRYGGA_MAPPINGS). The suites name their inputs relative to
    the repository, so the folders they reach are beside the copy."""
    copy = tmp_path / "mappings"
    shutil.copytree(REPO_ROOT / "mappings", copy)
    for name in ("tests", "schemas", "samples"):
        (tmp_path / name).symlink_to(REPO_ROOT / name)
    for name in ("BRYGGA_CONFIG", "BRYGGA_ROUTES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BRYGGA_MAPPINGS", str(copy))
    return copy


def _break(mappings: Path, old: str, new: str) -> Path:
    path = mappings / BYGGLOV
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_copy_is_clean(brygga, mappings):
    ran = brygga("lint")
    assert (ran.code, ran.out.strip(), ran.err) == (0, "ok", "")


@pytest.mark.parametrize(("old", "new", "place", "rule"), [
    (CASE_TYPE, "  caseType: &loop [*loop]\n", "output.caseType[0]", "YAML alias"),
    (CASE_TYPE, "  caseType: {const: bygglov\n", "line ", "not valid YAML"),
    (CASE_TYPE, "  caseType: bygglov\n", "output.caseType", "is not of type 'object'"),
    (CASE_TYPE, "  caseType: [bygglov]\n", "output.caseType", "is not of type 'object'"),
    ("          kind: {const: person}\n", "          kind: [person]\n", "output.parties.items[0].fields.kind",
     "is not of type 'object'"),
])
def test_lint_names_the_file_the_place_and_the_rule(brygga, mappings, old, new, place, rule):
    broken = _break(mappings, old, new)
    ran = brygga("lint")
    assert ran.code == 1, ran.err
    first = ran.err.splitlines()[0]
    assert first.startswith(f"mapping {broken}: {place}") and rule in first, ran.err
    assert "Traceback" not in ran.err and "RecursionError" not in ran.err

    alone = brygga("lint", str(broken))
    assert alone.code == 1 and alone.err.splitlines() == [first]


def test_test_fails_the_cases_of_a_broken_mapping_and_runs_the_rest(brygga, mappings):
    _break(mappings, CASE_TYPE, "  caseType: &loop [*loop]\n")
    ran = brygga("test")
    assert ran.code == 1
    failed = [line for line in ran.out.splitlines() if line.startswith("FAIL")]
    assert failed and all("open-eplatform/bygglov_test.yaml" in line for line in failed)
    assert "output.caseType[0]: a YAML alias" in ran.out
    assert "ok    " in ran.out, "the other suites still ran"
    assert "Traceback" not in ran.err
