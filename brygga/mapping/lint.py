"""Check mapping files and their fixture suites without running anything: schema, compile, suite shape."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from brygga.mapping.compiler import compile_mapping
from brygga.mapping.errors import MappingConfigError
from brygga.mapping.fixtures import load_suite

SUITE_SUFFIX = "_test.yaml"
# mappings/status/ holds status vocabularies, not mappings: brygga.status.vocabulary lints them.
VOCABULARY_FOLDER = "status"


def mapping_files(paths: Iterable[Path]) -> tuple[list[Path], list[Path], list[str]]:
    """(mapping files, fixture suites, errors for paths that do not exist) under the given files/folders."""
    mappings: list[Path] = []
    suites: list[Path] = []
    errors: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.yaml") if p.is_file())
        elif path.is_file():
            found = [path]
        else:
            errors.append(f"{path}: no such file or folder")
            continue
        for file in found:
            if path.is_dir() and file.parent.name == VOCABULARY_FOLDER:
                continue
            (suites if file.name.endswith(SUITE_SUFFIX) else mappings).append(file)
    return mappings, suites, errors


def lint_mappings(paths: Iterable[Path | str]) -> list[str]:
    """Validate and compile every mapping under ``paths``, and load every fixture suite.

    Returns one readable line per error; an empty list means everything is fine.
    """
    mappings, suites, errors = mapping_files(Path(p) for p in paths)
    for file in mappings:
        errors += checked(compile_mapping, file)
    for file in suites:
        errors += checked(load_suite, file)
    return errors


def checked(load: Callable[[Path], object], file: Path) -> list[str]:
    """What is wrong with ``file`` as ``load`` reads it, one line naming the file, the place in it and the rule;
    an empty list when it loads. Never raises: lint is there to report a broken file, not to stop at it."""
    try:
        load(file)
    except MappingConfigError as exc:
        return [str(exc)]
    except Exception as exc:  # anything else: say what, and go on with the other files
        return [str(MappingConfigError(str(file), "(file)", f"cannot be checked: {type(exc).__name__}: {exc}"))]
    return []

