"""sftp-inbox against a real loopback SFTP server: streaming, what is taken, and when the remote file goes."""

from __future__ import annotations

import hashlib
import logging
import os
import time
import tracemalloc
from pathlib import Path

import pytest

from brygga.errors import ConfigError, TargetRejected, TargetUnavailable
from brygga_adapters.sftp import SftpInboxSource
from brygga_simulators.sftp import start_sftp_server

MB = 1024 * 1024


def _inbox(server_root: Path) -> Path:
    inbox = server_root / "partner" / "outgoing"
    inbox.mkdir(parents=True, exist_ok=True)
    return inbox


def _source(connection, **config) -> SftpInboxSource:
    return SftpInboxSource({"path": "outgoing", **config}, connection)


def test_a_20_mb_file_is_streamed_in_flat_memory_and_removed_only_after_acknowledge(
        sftp_server, server_root, connection_to):
    big = _inbox(server_root) / "export-with-drawing.xml"
    chunk = os.urandom(MB)
    with big.open("wb") as out:
        for i in range(20):
            out.write(bytes([i]) + chunk[1:])
    expected = hashlib.sha256(big.read_bytes()).hexdigest()
    source = _source(connection_to(sftp_server, "/partner"))

    (item,) = list(source.poll())
    assert (item.name, item.size) == ("export-with-drawing.xml", 20 * MB)
    assert item.location == "sftp://partner_sftp/partner/outgoing/export-with-drawing.xml"
    digest, size = hashlib.sha256(), 0
    tracemalloc.start()
    try:
        with item.open() as reader:
            for block in iter(lambda: reader.read(MB), b""):
                digest.update(block)
                size += len(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (digest.hexdigest(), size) == (expected, 20 * MB)
    assert peak < 6 * MB, f"reading a 20 MB file peaked at {peak / MB:.1f} MB of Python heap"

    assert big.exists()  # read, but not yet landed: the file stays on the server
    source.acknowledge(item)
    assert not big.exists()


def test_each_open_is_a_fresh_stream(sftp_server, server_root, connection_to):
    (_inbox(server_root) / "a.xml").write_bytes(b"<a>" + b"x" * 100_000 + b"</a>")
    (item,) = list(_source(connection_to(sftp_server, "/partner")).poll())
    with item.open() as first:
        first.read(10)
    with item.open() as second:
        assert second.read() == (_inbox(server_root) / "a.xml").read_bytes()


def test_a_server_that_answers_reads_short_is_read_whole(server_root, connection_to):
    content = os.urandom(3 * MB + 1234)
    (_inbox(server_root) / "a.xml").write_bytes(content)
    with start_sftp_server(server_root, max_read_bytes=10_000) as stingy:
        (item,) = list(_source(connection_to(stingy, "/partner")).poll())
        with item.open() as reader:
            assert reader.read() == content


def test_a_read_broken_off_is_target_unavailable(server_root, connection_to):
    (_inbox(server_root) / "a.xml").write_bytes(os.urandom(8 * MB))
    with start_sftp_server(server_root) as server:
        (item,) = list(_source(connection_to(server, "/partner")).poll())
        with item.open() as reader:
            assert len(reader.read(64 * 1024)) > 0
            server.stop()
            with pytest.raises(TargetUnavailable, match="broke off while trying to read a file in sftp://"):
                while reader.read(MB):
                    pass
    assert (_inbox(server_root) / "a.xml").exists()


def test_uploads_under_way_links_and_folders_are_not_taken(sftp_server, server_root, connection_to, caplog):
    inbox = _inbox(server_root)
    for name in ("a.xml", ".upload-in-progress.xml", "b.xml.part", "c.tmp", "d.xml.filepart", "e.txt"):
        (inbox / name).write_bytes(b"<x/>")
    (inbox / "folder.xml").mkdir()
    (inbox / "link.xml").symlink_to(inbox / "a.xml")
    source = _source(connection_to(sftp_server, "/partner"), pattern="*.xml")
    with caplog.at_level(logging.WARNING, logger="brygga.adapters.sftp"):
        assert [item.name for item in source.poll()] == ["a.xml"]
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "1 file(s) do not match the pattern '*.xml'" in warning and "1 x .txt" in warning
    assert "e.txt" not in warning  # file names may name a person


def test_a_file_younger_than_min_age_waits(sftp_server, server_root, connection_to):
    fresh = _inbox(server_root) / "fresh.xml"
    fresh.write_bytes(b"<x/>")
    source = _source(connection_to(sftp_server, "/partner"), min_age_seconds=600)
    assert list(source.poll()) == []
    an_hour_ago = time.time() - 3600
    os.utime(fresh, (an_hour_ago, an_hour_ago))
    assert [item.name for item in source.poll()] == ["fresh.xml"]


def test_a_file_gone_between_listing_and_reading_is_file_not_found(sftp_server, server_root, connection_to):
    gone = _inbox(server_root) / "taken-by-another-run.xml"
    gone.write_bytes(b"<x/>")
    source = _source(connection_to(sftp_server, "/partner"))
    for item in source.poll():
        gone.unlink()
        with pytest.raises(FileNotFoundError):
            item.open()
        source.acknowledge(item)  # nothing there to remove: no error


def test_after_move_the_file_goes_to_move_to_once_acknowledged(sftp_server, server_root, connection_to):
    (_inbox(server_root) / "a.xml").write_bytes(b"<a/>")
    source = _source(connection_to(sftp_server, "/partner"), after="move", move_to="done")
    for item in source.poll():
        with item.open() as reader:
            reader.read()
        assert not (server_root / "partner" / "done").exists()
        source.acknowledge(item)
    assert not (_inbox(server_root) / "a.xml").exists()
    assert (server_root / "partner" / "done" / "a.xml").read_bytes() == b"<a/>"


def test_a_new_upload_under_a_name_just_read_is_left_for_the_next_run(sftp_server, server_root, connection_to):
    path = _inbox(server_root) / "a.xml"
    path.write_bytes(b"<first/>")
    source = _source(connection_to(sftp_server, "/partner"))
    for item in source.poll():
        with item.open() as reader:
            assert reader.read() == b"<first/>"
        path.write_bytes(b"<second, longer/>")
        source.acknowledge(item)
    assert path.read_bytes() == b"<second, longer/>"


def test_move_needs_move_to_and_paths_stay_below_the_connection(sftp_server, connection_to):
    connection = connection_to(sftp_server, "/partner")
    with pytest.raises(ConfigError, match="move_to"):
        _source(connection, after="move")
    with pytest.raises(ConfigError, match="relative-remote-path"):
        _source(connection, path="../other-partner")
    with pytest.raises(ConfigError, match="relative-remote-path"):
        _source(connection, path="/etc")


def test_a_refused_delete_is_target_rejected_naming_the_folder_not_the_file(server_root, connection_to):
    (_inbox(server_root) / "anna-karin-strom.xml").write_bytes(b"<x/>")
    with start_sftp_server(server_root, read_only=True) as read_only:
        source = _source(connection_to(read_only, "/partner"))
        for item in source.poll():
            with item.open() as reader:
                reader.read()
            with pytest.raises(TargetRejected, match="permission denied") as refused:
                source.acknowledge(item)
            assert "partner/outgoing" in str(refused.value) and "strom" not in str(refused.value)
    assert (_inbox(server_root) / "anna-karin-strom.xml").exists()


def test_a_missing_inbox_folder_gives_nothing_and_a_warning(sftp_server, connection_to, caplog):
    with caplog.at_level(logging.WARNING, logger="brygga.adapters.sftp"):
        assert list(_source(connection_to(sftp_server, "/nobody")).poll()) == []
    assert "does not exist" in caplog.text
