"""sftp-inbox against a real loopback SFTP server: streaming, what is taken, and when the remote file goes."""

from __future__ import annotations

import hashlib
import logging
import os
import time
import tracemalloc
from pathlib import Path

import paramiko
import pytest

from brygga.errors import ConfigError, TargetRejected, TargetUnavailable
from brygga.storage import ContentStore
from brygga_adapters.sftp import SftpInboxSource
from brygga_adapters.sftp import reader as sftp_reader
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


@pytest.mark.parametrize("reader_kind", ["pipelined", "sequential"])
def test_a_file_written_while_it_is_read_is_not_taken_and_the_next_run_takes_it_whole(
        server_root, connection_to, tmp_path, monkeypatch, reader_kind):
    if reader_kind == "sequential":  # the reader used where paramiko lacks its private request layer
        monkeypatch.setattr(sftp_reader, "MISSING_PRIVATE_APIS", ["(as if) SFTPClient._async_request"])
        monkeypatch.setattr(sftp_reader, "_fallback_reported", True)
    growing = _inbox(server_root) / "still-uploading.xml"
    growing.write_bytes(os.urandom(200_000))
    store = ContentStore(tmp_path / "landing")
    # Short reads: the reader has to come back for the rest of each block, after the writer went on.
    with start_sftp_server(server_root, max_read_bytes=10_000) as server:
        source = _source(connection_to(server, "/partner"))
        (item,) = list(source.poll())
        with item.open() as reader:
            assert type(reader).__name__.lower().startswith(reader_kind)
            assert len(reader.read(5_000)) == 5_000
            with growing.open("ab") as upload:
                upload.write(os.urandom(100_000))
            with pytest.raises(TargetUnavailable, match="changed while it was read") as changed:
                store.put_stream(reader)
        assert "still-uploading" not in str(changed.value) and "partner/outgoing" in str(changed.value)
        assert not [p for p in store.root.rglob("*") if p.is_file()], "nothing is landed"
        assert growing.exists(), "nothing was acknowledged: the file stays for the next run"

        (item,) = list(source.poll())  # the next run: the upload is complete now
        with item.open() as reader:
            digest, _, size = store.put_stream(reader)
        assert (digest, size) == (hashlib.sha256(growing.read_bytes()).hexdigest(), 300_000)


def test_without_paramikos_private_request_api_files_are_read_sequentially(
        server_root, connection_to, monkeypatch, caplog):
    content = os.urandom(MB + 4321)
    (_inbox(server_root) / "a.xml").write_bytes(content)
    # A paramiko without part of what the read-ahead uses (its own modules bound the name at their import, so
    # paramiko itself still works; the read-ahead would fail at its first request).
    monkeypatch.delattr(paramiko.sftp, "int64")
    monkeypatch.setattr(sftp_reader, "MISSING_PRIVATE_APIS", sftp_reader.missing_private_apis())
    monkeypatch.setattr(sftp_reader, "_fallback_reported", False)
    assert sftp_reader.MISSING_PRIVATE_APIS == ["paramiko.sftp.int64"]
    with start_sftp_server(server_root, max_read_bytes=10_000) as server:
        source = _source(connection_to(server, "/partner"))
        with caplog.at_level(logging.WARNING, logger="brygga.adapters.sftp"):
            (item,) = list(source.poll())
            with item.open() as reader:
                assert isinstance(reader, sftp_reader.SequentialReader)
                assert reader.read() == content
            with item.open() as reader:  # warned once per process, not per file
                assert reader.read(10) == content[:10]
    # Only Brygga's own records: a busy machine may add a paramiko or asyncssh warning of its own.
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "brygga.adapters.sftp"]
    assert "paramiko.sftp.int64" in warning and "sequential" in warning


def test_a_poll_stopped_early_leaves_no_session_open_and_items_still_open(sftp_server, server_root, connection_to):
    for name in ("a.xml", "b.xml", "c.xml"):
        (_inbox(server_root) / name).write_bytes(f"<{name}/>".encode())
    source = _source(connection_to(sftp_server, "/partner"))
    waiting = source.poll()  # held, as intake's loop holds it when it stops at its batch_size
    first = next(waiting)
    with first.open() as reader:
        assert reader.read() == b"<a.xml/>"
    source.acknowledge(first)
    assert sftp_server.wait_for_sessions(0), "the session was left open until garbage collection"

    second = next(waiting)  # a later item opens a session of its own again
    with second.open() as reader:
        assert reader.read() == b"<b.xml/>"
    source.acknowledge(second)
    assert sftp_server.wait_for_sessions(0)
    assert sorted(p.name for p in _inbox(server_root).iterdir()) == ["c.xml"]


def test_move_replaces_an_older_file_on_a_server_without_posix_rename(server_root, connection_to):
    (_inbox(server_root) / "a.xml").write_bytes(b"<new/>")
    done = server_root / "partner" / "done"
    done.mkdir(parents=True)
    (done / "a.xml").write_bytes(b"<older/>")
    with start_sftp_server(server_root, posix_rename=False) as server:
        source = _source(connection_to(server, "/partner"), after="move", move_to="done")
        for item in source.poll():
            with item.open() as reader:
                reader.read()
            source.acknowledge(item)
    assert not (_inbox(server_root) / "a.xml").exists()
    assert (done / "a.xml").read_bytes() == b"<new/>"
