"""Collect every ``*_test.yaml`` under mappings/ as pytest items (the runner: brygga/mapping/fixtures.py).

Suites in mappings/status/ test status vocabularies, not mappings (the runner: brygga/status/vocabulary.py).
`pytest mappings/open-eplatform/bygglov_test.yaml` runs one suite; plain `pytest` runs them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from brygga.mapping.fixtures import load_suite, run_case
from brygga.status.vocabulary import STATUS_FOLDER, load_vocabulary_suite, run_vocabulary_case


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.name.endswith("_test.yaml"):
        if file_path.parent.name == STATUS_FOLDER:
            return VocabularySuite.from_parent(parent, path=file_path)
        return MappingSuite.from_parent(parent, path=file_path)
    return None


class MappingSuite(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        for case in load_suite(self.path):
            yield MappingCase.from_parent(self, name=case.name, case=case)


class FixtureFailed(AssertionError):
    pass


class MappingCase(pytest.Item):
    """One fixture: a mapping case, or a status vocabulary case (``run`` is the suite's runner)."""

    def __init__(self, *, case: Any, run: Any = run_case, kind: str = "mapping fixture", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case, self.run, self.kind = case, run, kind

    def runtest(self) -> None:
        failures = self.run(self.case)
        if failures:
            raise FixtureFailed("\n".join(failures))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, FixtureFailed):
            return f"{self.case.suite.name} :: {self.name}\n{excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.kind}: {self.name}"


class VocabularySuite(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        for case in load_vocabulary_suite(self.path):
            yield MappingCase.from_parent(self, name=case.name, case=case, run=run_vocabulary_case,
                                          kind="status vocabulary fixture")
