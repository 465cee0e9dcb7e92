"""A real loopback SFTP server per test (asyncssh, chrooted to a temporary folder) and connections to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sftp_helpers import sftp_uri

from brygga.connections import Connection
from brygga_simulators.sftp import RunningSftpServer, start_sftp_server


@pytest.fixture
def server_root(tmp_path: Path) -> Path:
    root = tmp_path / "sftp-root"
    root.mkdir()
    return root


@pytest.fixture
def sftp_server(server_root: Path) -> Iterator[RunningSftpServer]:
    with start_sftp_server(server_root, users={"partner": "pw"}) as server:
        yield server


@pytest.fixture
def connection_to() -> Callable[..., Connection]:
    """``connection_to(server, path="", conn_id="partner_sftp", **uri_options)``: a Connection from an sftp URI."""

    def build(server: RunningSftpServer, path: str = "", conn_id: str = "partner_sftp", **options: str) -> Connection:
        return Connection.from_uri(conn_id, sftp_uri(server, path, **options))

    return build
