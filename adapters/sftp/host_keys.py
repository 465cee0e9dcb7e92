"""The connection's ``host_key`` extra: the SFTP server's public key(s), as known_hosts-style lines.

``ssh-ed25519 AAAA...`` (a leading host pattern and a trailing comment are allowed, as ``ssh-keyscan`` and
known_hosts lines have them); several keys (a key rotation) are separated by commas or newlines. A key written
unencoded into a ``BRYGGA_CONN_`` URI arrives with each ``+`` of its base64 turned into a space (query decoding):
the key is found again by trying the joins whose base64 reads back exactly.
"""

from __future__ import annotations

import base64
import re

import paramiko

from brygga.connections import Connection
from brygga.errors import ConfigError

HOST_KEY_HELP = ("the SFTP server's public key as a known_hosts line ('ssh-ed25519 AAAA...'), e.g. from "
                 "'ssh-keyscan -t ed25519 HOST' or the server's /etc/ssh/ssh_host_ed25519_key.pub")


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's form, ``ssh-ed25519 SHA256:...``: what ``ssh-keygen -lf`` prints. Not secret."""
    return f"{key.get_name()} {key.fingerprint}"


def _key_from_text(key_type: str, rest: str) -> paramiko.PKey | None:
    """The key whose base64 starts ``rest``: tried up to each space (a comment may follow), spaces read as '+'."""
    ends = [i for i, char in enumerate(rest) if char == " "] + [len(rest)]
    for end in ends:
        blob = rest[:end].replace(" ", "+")
        try:
            raw = base64.b64decode(blob, validate=True)
            key = paramiko.PKey.from_type_string(key_type, raw)
        except Exception:  # any parse failure of a cut-off or garbled candidate: try the next one
            continue
        if key.get_base64() == blob:  # reads back exactly: not cut short, nothing of a comment glued on
            return key
    return None


def _parse_line(connection: Connection, line: str) -> paramiko.PKey:
    found = re.search(r"(?:^|\s)(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)) +(\S.*)$", line.strip())
    if found is None:
        raise ConfigError(f"connection {connection.conn_id!r}: extra 'host_key' names no supported key type "
                          f"(ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa); it must be {HOST_KEY_HELP}")
    key_type, rest = found.groups()
    key = _key_from_text(key_type, rest)
    if key is None:
        raise ConfigError(f"connection {connection.conn_id!r}: extra 'host_key' holds a {key_type} key that is "
                          f"not valid base64 of that key type; it must be {HOST_KEY_HELP}")
    return key


def expected_host_keys(connection: Connection) -> list[paramiko.PKey]:
    """The keys the server may present; required, since host key checking is always on."""
    text = (connection.extra.get("host_key") or "").strip()
    if not text:
        raise ConfigError(f"connection {connection.conn_id!r}: extra 'host_key' is required (host key checking is "
                          f"always on): {HOST_KEY_HELP} (rule: sftp-host-key)")
    return [_parse_line(connection, line) for line in re.split(r"[,\n]", text) if line.strip()]
