"""Interop tests read the reference material in ``../shared/reference`` (relative to the repo root).

The folder is not part of the repo; when it is absent these tests skip, and only then.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_REFERENCE = REPO_ROOT.parent / "shared" / "reference"


@pytest.fixture(scope="module")
def shared_reference() -> Path:
    if not SHARED_REFERENCE.is_dir():
        pytest.skip(f"reference material not found at {SHARED_REFERENCE}", allow_module_level=True)
    return SHARED_REFERENCE
