"""Where Brygga's bundled files live: the top-level folders of a source checkout, or their copies in a wheel.

A source checkout (``make test``, an editable install) reads ``schemas/``, ``mappings/``, ``routes/``, ``dags/`` and
``samples/`` beside the packages, so an edit takes effect at once. An installed wheel carries copies of them under
``brygga/bundled/`` (see ``setup.py``).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent
BUNDLED_DIR = PACKAGE_DIR / "bundled"
# The folders a wheel carries; setup.py copies exactly these.
BUNDLED_FOLDERS = ("schemas", "mappings", "routes", "dags", "samples")


def is_source_checkout() -> bool:
    # site-packages holds no pyproject.toml of ours, so another distribution's `schemas/` is never mistaken for ours.
    pyproject = SOURCE_ROOT / "pyproject.toml"
    return pyproject.is_file() and 'name = "brygga"' in pyproject.read_text(encoding="utf-8")


def resource_root() -> Path:
    return SOURCE_ROOT if is_source_checkout() else BUNDLED_DIR


def resource(*parts: str) -> Path:
    """A bundled file or folder, e.g. ``resource("schemas", "canonical", "case.v1.schema.json")``."""
    if parts and parts[0] not in BUNDLED_FOLDERS:
        raise ValueError(f"{parts[0]!r} is not a bundled folder; known: {', '.join(BUNDLED_FOLDERS)}")
    return resource_root().joinpath(*parts)
