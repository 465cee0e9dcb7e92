"""Chunks archive in parallel: one run's end may remove the shared staging root while another run is setting up."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

# The package exports the step function under the module's name.
archive_step = importlib.import_module("brygga.pipeline.archive")


class _TargetWithStaging:
    def __init__(self, root: Path) -> None:
        self.root = root

    def staging_folder(self) -> Path:
        return self.root


def test_a_staging_root_removed_by_another_runs_end_during_the_sweep_is_made_again(tmp_path: Path,
                                                                                     monkeypatch) -> None:
    root = tmp_path / "drop" / ".brygga-staging"
    real_sweep, removed = archive_step._sweep_stale_staging, []

    def another_run_ends_first(where: Path) -> None:
        if not removed:  # the other run's __exit__ removes the empty root between our mkdir and our sweep
            where.rmdir()
            removed.append(where)
        real_sweep(where)

    with archive_step.RunStaging(tmp_path / "home-staging") as staging:
        monkeypatch.setattr(archive_step, "_sweep_stale_staging", another_run_ends_first)
        folder = staging.folder_for(_TargetWithStaging(root))
        assert removed == [root] and folder.parent == root and folder.is_dir()


def test_a_staging_root_that_keeps_disappearing_is_an_error_that_names_it(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "drop" / ".brygga-staging"

    def always_gone(where: Path) -> None:
        where.rmdir()
        raise FileNotFoundError(where)

    with archive_step.RunStaging(tmp_path / "home-staging") as staging:
        monkeypatch.setattr(archive_step, "_sweep_stale_staging", always_gone)
        with pytest.raises(FileNotFoundError, match="keeps disappearing"):
            staging.folder_for(_TargetWithStaging(root))
