"""The browser tests' shared parts: Debian's chromium (never a downloaded browser), a folder of kept screenshots,
and axe-core's accessibility check."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from brygga.settings import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def require_chromium() -> None:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is missing (apt install chromium); the test never downloads a browser")


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@contextmanager
def kept_artifacts(name: str, what: str) -> Iterator[Path]:
    """var/test-artifacts/<name>/, emptied first; its path and contents are printed, so a reader finds them."""
    folder = REPO_ROOT / "var" / "test-artifacts" / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"\nscreenshots of {what}: {folder}")
    yield folder
    print(f"screenshots of {what}: {sorted(p.name for p in folder.iterdir())} in {folder}")


def assert_accessible(page: Any, kept: Path) -> None:
    """axe-core on the page as it is now: no violation. The report is kept beside the screenshots."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    kept.write_text(results.generate_report(), encoding="utf-8")
    assert results.violations_count == 0, f"{kept.name}:\n{results.generate_report()}"
