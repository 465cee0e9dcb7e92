from __future__ import annotations

from pathlib import Path

from brygga.settings import Settings


def resolve_config_path(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else Settings.from_env().home / path
