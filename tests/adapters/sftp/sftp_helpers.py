"""Connection URIs to the loopback SFTP server (a module of its own: every test folder has a conftest)."""

from __future__ import annotations

from urllib.parse import quote

from brygga_simulators.sftp import RunningSftpServer


def sftp_uri(server: RunningSftpServer, path: str = "", *, login: str = "partner", password: str | None = "pw",
             host_key: str | None = None, **extras: str) -> str:
    query = {"host_key": server.host_key_line if host_key is None else host_key, "connect_timeout": "5", **extras}
    credentials = login + (f":{quote(password, safe='')}" if password else "")
    encoded = "&".join(f"{key}={quote(value, safe='')}" for key, value in query.items())
    return f"sftp://{credentials}@{server.host}:{server.port}{path}?{encoded}"
