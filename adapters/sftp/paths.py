"""Route config paths on the remote side: relative to the connection's path, never climbing out of it."""

from __future__ import annotations

import posixpath

from brygga.errors import ConfigError


def relative_remote_path(adapter: str, key: str, value: str) -> str:
    """'' (the connection's folder itself) or a relative path such as 'in/partner'."""
    cleaned = value.strip().strip("/") if not value.startswith("/") else value
    if cleaned.startswith("/") or ".." in cleaned.split("/"):
        raise ConfigError(f"config/{key}: must be a folder relative to the connection's path, without '..' "
                          f"(rule: relative-remote-path, adapter {adapter!r}); put an absolute folder in the "
                          "connection's path")
    return posixpath.normpath(cleaned) if cleaned else ""
