"""SFTP connections: the fields, the host key that is always checked, logins, and an unreachable server."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from types import SimpleNamespace

import asyncssh
import pytest
from sftp_helpers import sftp_uri

from brygga.connections import Connection
from brygga.errors import ConfigError, CredentialsRefused, TargetUnavailable
from brygga_adapters.sftp import HostKeyMismatch, SftpArchiveTarget, SftpInboxSource
from brygga_adapters.sftp.host_keys import expected_host_keys
from brygga_airflow.connections import brygga_connection
from brygga_simulators.sftp import start_sftp_server


def test_an_sftp_uri_is_a_connection_with_its_path_and_extras(sftp_server):
    connection = Connection.from_uri("partner_sftp", sftp_uri(sftp_server, "/base/path"))
    assert (connection.scheme, connection.host, connection.port, connection.path) == (
        "sftp", "127.0.0.1", sftp_server.port, "/base/path")
    assert (connection.login, connection.password) == ("partner", "pw")
    assert connection.extra["host_key"] == sftp_server.host_key_line


@pytest.mark.parametrize("fields", [
    # Airflow's own URI form, AIRFLOW_CONN_X='sftp://partner:pw@sftp.partner.se:2222/outgoing': path in schema.
    dict(conn_type="sftp", host="sftp.partner.se", port=2222, schema="outgoing"),
    # The form: the path as an extra, or the whole address in the host field.
    dict(conn_type="sftp", host="sftp.partner.se", port="2222", extra={"path": "/outgoing"}),
    dict(conn_type="sftp", host="sftp://sftp.partner.se:2222/outgoing"),
])
def test_airflow_sftp_connection_fields_make_an_sftp_connection(fields):
    extra = {"host_key": "ssh-ed25519 AAAA", **fields.pop("extra", {})}
    connection = Connection.from_fields("partner_sftp", login="partner", password="pw", extra=extra, **fields)
    assert (connection.scheme, connection.host, connection.port, connection.path) == (
        "sftp", "sftp.partner.se", 2222, "/outgoing")
    assert connection.extra == {"host_key": "ssh-ed25519 AAAA"}


def test_the_airflow_resolver_passes_an_sftp_connection_through():
    airflow_conn = SimpleNamespace(conn_id="partner_sftp", conn_type="sftp", host="sftp.partner.se", port=22,
                                   schema="outgoing", login="partner", password="pw",
                                   extra_dejson={"host_key": "ssh-ed25519 AAAA", "connect_timeout": 5})
    connection = brygga_connection(airflow_conn)
    assert (connection.scheme, connection.base_url) == ("sftp", "sftp://sftp.partner.se:22/outgoing")
    assert connection.extra == {"host_key": "ssh-ed25519 AAAA", "connect_timeout": "5"}


def test_an_http_connection_type_still_defaults_to_https():
    connection = Connection.from_fields("byggr", conn_type="brygga_soap", host="byggr.kommun.local")
    assert connection.scheme == "https"


def test_the_host_key_is_required_and_cannot_be_switched_off(sftp_server):
    without = Connection.from_uri("partner_sftp", f"sftp://partner:pw@127.0.0.1:{sftp_server.port}/x")
    with pytest.raises(ConfigError, match="extra 'host_key' is required"):
        SftpInboxSource({}, without)
    switched_off = Connection.from_uri("partner_sftp", sftp_uri(sftp_server, no_host_key_check="true"))
    with pytest.raises(ConfigError, match="'no_host_key_check' is refused"):
        SftpInboxSource({}, switched_off)
    with pytest.raises(ConfigError, match="not valid base64"):
        SftpInboxSource({}, Connection.from_uri("partner_sftp", sftp_uri(sftp_server, host_key="ssh-ed25519 AAAA")))
    with pytest.raises(ConfigError, match="needs scheme 'sftp'"):
        SftpArchiveTarget({}, Connection.from_uri("x", "https://partner:pw@127.0.0.1/?host_key=ssh-ed25519%20A"))


def test_a_host_key_pasted_unencoded_into_a_uri_is_read_back(server_root):
    # Query decoding turns each '+' of the base64 into a space; the key is still found, and still checked.
    key = next(k for k in iter(lambda: asyncssh.generate_private_key("ssh-ed25519"), None)
               if "+" in k.export_public_key().decode())
    with start_sftp_server(server_root, host_key=key) as server:
        line = key.export_public_key().decode().strip() + " root@partner-sftp"
        uri = f"sftp://partner:pw@127.0.0.1:{server.port}/?host_key={line}"
        assert " " in Connection.from_uri("partner_sftp", uri).extra["host_key"].split(" ", 1)[1]
        source = SftpInboxSource({}, Connection.from_uri("partner_sftp", uri))
        assert list(source.poll()) == []


def test_host_key_lines_are_read_as_written_or_as_query_decoding_garbles_them():
    for _ in range(200):  # random keys: '+' anywhere in the base64, twice in a row, or not at all
        key = asyncssh.generate_private_key("ssh-ed25519")
        line = key.export_public_key().decode().strip()
        for written in (line, f"[sftp.partner.se]:2222 {line} root@partner", line.replace("+", " ") + " a comment"):
            (parsed,) = expected_host_keys(Connection("c", "sftp", "h", extra={"host_key": written}))
            assert f"{parsed.get_name()} {parsed.get_base64()}" == line


def test_another_host_key_is_refused_naming_both_fingerprints(sftp_server, connection_to):
    impostor_key = asyncssh.generate_private_key("ssh-ed25519")
    impostor_line = impostor_key.export_public_key().decode().strip()
    source = SftpInboxSource({}, connection_to(sftp_server, host_key=impostor_line))
    with pytest.raises(HostKeyMismatch) as refused:
        list(source.poll())
    message = str(refused.value)
    assert isinstance(refused.value, ConfigError)
    seen = sftp_server.host_key_line
    assert f"presented host key ssh-ed25519 {_fingerprint(seen)}" in message
    assert f"expects ssh-ed25519 {_fingerprint(impostor_line)}" in message
    assert "'partner_sftp'" in message


def test_a_host_key_of_another_type_is_refused_as_well(sftp_server, connection_to):
    rsa_line = asyncssh.generate_private_key("ssh-rsa", key_size=2048).export_public_key().decode().strip()
    target = SftpArchiveTarget({}, connection_to(sftp_server, host_key=rsa_line))
    with pytest.raises(HostKeyMismatch, match=r"presented host key ssh-ed25519 SHA256:.* expects ssh-rsa SHA256:"):
        target.deliver_package(Path(__file__))


def test_a_wrong_password_is_credentials_refused(sftp_server, connection_to):
    source = SftpInboxSource({}, connection_to(sftp_server, password="not-the-password"))
    with pytest.raises(CredentialsRefused, match="refused the login with the connection's password") as refused:
        list(source.poll())
    assert "not-the-password" not in str(refused.value)


def test_a_key_login_uses_the_password_as_passphrase_only(server_root, tmp_path, connection_to):
    client_key = asyncssh.generate_private_key("ssh-ed25519")
    key_file = tmp_path / "id_ed25519"
    # Few bcrypt rounds: the default's 128 cost seconds, and the key's strength is not under test.
    key_file.write_bytes(client_key.export_private_key("openssh", passphrase="key-passphrase", rounds=4,
                                                       ignore_few_rounds=True))
    public = client_key.export_public_key().decode()
    # The server takes no passwords: a login that sent the passphrase as a password would fail.
    with start_sftp_server(server_root, users={}, authorized_keys={"archiver": public}) as server:
        (server_root / "in").mkdir()
        (server_root / "in" / "a.xml").write_bytes(b"<a/>")
        keyed = connection_to(server, login="archiver", password="key-passphrase", private_key_file=str(key_file))
        assert [item.name for item in SftpInboxSource({"path": "in"}, keyed).poll()] == ["a.xml"]
        with pytest.raises(ConfigError, match="encrypted key: put its passphrase"):
            SftpInboxSource({}, connection_to(server, login="archiver", password=None,
                                              private_key_file=str(key_file)))
        with pytest.raises(ConfigError, match="could not be read"):
            SftpInboxSource({}, connection_to(server, login="archiver", password="wrong",
                                              private_key_file=str(key_file)))


def test_a_stopped_server_is_target_unavailable(server_root, connection_to):
    with start_sftp_server(server_root) as server:
        source = SftpInboxSource({}, connection_to(server))
        target = SftpArchiveTarget({}, connection_to(server))
    with pytest.raises(TargetUnavailable, match=r"could not be reached: connection refused"):
        list(source.poll())
    with pytest.raises(TargetUnavailable, match=r"127\.0\.0\.1:\d+ could not be reached"):
        target.deliver_package(Path(__file__))


def _fingerprint(line: str) -> str:
    return asyncssh.import_public_key(line).get_fingerprint("sha256")


def test_a_server_that_never_answers_times_out_after_connect_timeout(sftp_server):
    with socket.socket() as silent:  # accepts TCP connections (the kernel's backlog) but never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        mute = SimpleNamespace(host="127.0.0.1", port=port, host_key_line=sftp_server.host_key_line)
        uri = sftp_uri(mute, connect_timeout="0.5")
        source = SftpInboxSource({}, Connection.from_uri("partner_sftp", uri))
        started = time.monotonic()
        with pytest.raises(TargetUnavailable, match=f"127.0.0.1:{port} could not be reached"):
            list(source.poll())
        assert time.monotonic() - started < 5
