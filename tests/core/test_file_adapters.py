from __future__ import annotations

import errno
import logging
import shutil

import pytest

from brygga_adapters.file import ArchiveFolderTarget, FileInboxSource


def test_inbox_skips_partial_hidden_and_linked_files(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.xml").write_bytes(b"<a/>")
    (inbox / "b.xml.part").write_bytes(b"<b/>")
    (inbox / ".c.xml").write_bytes(b"<c/>")
    (inbox / "d.xml").symlink_to(inbox / "a.xml")
    source = FileInboxSource({"path": str(inbox)})
    items = list(source.poll())
    assert [i.name for i in items] == ["a.xml"]
    source.acknowledge(items[0])
    assert not (inbox / "a.xml").exists()


def test_inbox_items_are_read_as_streams_of_the_file(tmp_path):
    (tmp_path / "big.xml").write_bytes(b"x" * 3_000_000)
    (item,) = FileInboxSource({"path": str(tmp_path)}).poll()
    assert item.size == 3_000_000
    with item.open() as reader:
        assert reader.read(10) == b"x" * 10  # a reader, not the bytes: the size decides nothing here


def test_relative_paths_resolve_against_brygga_home(tmp_path, monkeypatch):
    monkeypatch.setenv("BRYGGA_HOME", str(tmp_path))
    assert FileInboxSource({"path": "inbox/x"}).root == tmp_path / "inbox" / "x"


def test_archive_folder_delivers_a_package_once(tmp_path):
    package = tmp_path / "staging" / "brygga-123"
    (package / "metadata").mkdir(parents=True)
    (package / "METS.xml").write_text("<mets/>")
    target = ArchiveFolderTarget({"path": str(tmp_path / "out")})
    first = target.deliver_package(package)
    assert first == str(tmp_path / "out" / "brygga-123")
    assert (tmp_path / "out" / "brygga-123" / "METS.xml").read_text() == "<mets/>"
    assert target.deliver_package(package) == first
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["brygga-123"]


def test_files_the_pattern_leaves_out_are_reported_by_count_and_kind_not_name(tmp_path, caplog):
    (tmp_path / "FlowInstance-1.xml").write_bytes(b"<a/>")
    (tmp_path / "Anna Svensson ansökan.pdf").write_bytes(b"%PDF")
    (tmp_path / "Anna Svensson ritning.PDF").write_bytes(b"%PDF")
    (tmp_path / "README").write_bytes(b"x")
    (tmp_path / "upload.xml.part").write_bytes(b"<b/>")  # still being written: not reported
    with caplog.at_level(logging.WARNING, logger="brygga.adapters.file"):
        items = list(FileInboxSource({"path": str(tmp_path)}).poll())
    assert [i.name for i in items] == ["FlowInstance-1.xml"]
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "3 file(s) do not match the pattern '*.xml'" in warning and "(1 x (no extension), 2 x .pdf)" in warning
    assert "Anna" not in warning


def test_a_copy_that_fails_leaves_no_half_package_and_says_why(tmp_path, monkeypatch):
    package = tmp_path / "staging" / "brygga-9"
    (package / "metadata").mkdir(parents=True)
    (package / "METS.xml").write_text("<mets/>")
    (package / "metadata" / "case.json").write_text("{}")

    def disk_full(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    real_copytree = shutil.copytree
    monkeypatch.setattr(shutil, "copytree", lambda s, d, *a, **k: real_copytree(s, d, copy_function=disk_full))
    out = tmp_path / "out"
    with pytest.raises(OSError, match="No space left on device") as raised:
        ArchiveFolderTarget({"path": str(out)}).deliver_package(package)
    assert raised.value.errno == errno.ENOSPC and list(out.iterdir()) == []


def test_acknowledging_removes_the_file_read_never_a_new_one_under_its_name(tmp_path):
    (tmp_path / "FlowInstance-7.xml").write_bytes(b"<first/>")
    source = FileInboxSource({"path": str(tmp_path)})
    (item,) = source.poll()
    with item.open() as reader:
        assert reader.read() == b"<first/>"
    # Meanwhile another run took that file in, and the e-service exported again under the same name.
    (tmp_path / "FlowInstance-7.xml").unlink()
    (tmp_path / "new.part").write_bytes(b"<second export/>")
    (tmp_path / "new.part").rename(tmp_path / "FlowInstance-7.xml")
    source.acknowledge(item)
    assert (tmp_path / "FlowInstance-7.xml").read_bytes() == b"<second export/>"
    (again,) = source.poll()
    with again.open():
        pass
    source.acknowledge(again)
    assert list(tmp_path.iterdir()) == []
