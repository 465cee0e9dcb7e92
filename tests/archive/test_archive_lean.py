"""The lean archive step: checksums taken while writing still catch a bad package, and a package built in the
archive folder's staging folder is renamed into place whole."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
from archive_samples import KUMLA, SUBMITTER

from brygga.archive import ArchiveInputError, build_sip, package_objid, verify_package
from brygga.archive import package as package_mod
from brygga.archive.package import DATA_DIR, _Writer
from brygga.archive.verify import verify_written
from brygga.plugins import StoredDocument
from brygga_adapters.file import ArchiveFolderTarget
from brygga_adapters.file import archive_folder as archive_folder_mod


def _written(root: Path) -> dict[str, tuple[int, str]]:
    """What the writer recorded, read back here only to set up the checks below."""
    import hashlib

    return {p.relative_to(root).as_posix(): (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in root.rglob("*") if p.is_file()}


def _attachment(package: Path) -> Path:
    return sorted((package / DATA_DIR).glob("00*"))[0]


def test_a_freshly_built_package_passes_both_checks(package: Path) -> None:
    assert verify_written(package, _written(package)) == [] and verify_package(package) == []


@pytest.mark.parametrize("damage", ["missing", "truncated", "extended", "extra file", "symlink"])
def test_a_missing_truncated_or_stray_file_is_caught_without_reading_it_back(package: Path, damage: str) -> None:
    written = _written(package)
    attachment = _attachment(package)
    if damage == "missing":
        attachment.unlink()
    elif damage == "truncated":
        attachment.write_bytes(attachment.read_bytes()[:-5])
    elif damage == "extended":
        attachment.write_bytes(attachment.read_bytes() + b"x")
    elif damage == "extra file":
        (package / DATA_DIR / "smuggled.txt").write_bytes(b"x")
    else:
        (package / DATA_DIR / "link.pdf").symlink_to(attachment)
    problems = verify_written(package, written)
    expected = {"missing": "does not exist", "truncated": "size mismatch", "extended": "size mismatch",
                "extra file": "not referenced", "symlink": "symbolic links are not allowed"}[damage]
    assert any(expected in p for p in problems), problems


def test_a_mets_checksum_that_is_not_that_of_the_bytes_written_is_caught(package: Path) -> None:
    written = _written(package)
    rel = _attachment(package).relative_to(package).as_posix()
    size, _sha = written[rel]
    written[rel] = (size, "0" * 64)  # the writer wrote other bytes than the METS describes
    problems = verify_written(package, written)
    assert any(f"{rel} checksum mismatch" in p for p in problems), problems


def test_a_file_the_writer_did_not_record_is_read_and_hashed(package: Path) -> None:
    written = _written(package)
    attachment = _attachment(package)
    data = bytearray(attachment.read_bytes())
    data[0] ^= 0xFF  # same size, other bytes
    attachment.write_bytes(bytes(data))
    rel = attachment.relative_to(package).as_posix()
    # With the writer's record, a same-size change after writing is not seen (the honest limit of the cheap
    # check); verify_package reads the bytes and sees it, and so does verify_written for an unrecorded file.
    assert verify_written(package, written) == []
    assert any("checksum mismatch" in p for p in verify_package(package))
    del written[rel]
    assert any(f"{rel} checksum mismatch" in p for p in verify_written(package, written))


def test_a_corrupted_document_in_the_content_store_is_caught_while_it_is_copied(
        case: dict[str, Any], documents: list[StoredDocument], out_dir: Path) -> None:
    blob = documents[0].path
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01  # bit rot: same size, one bit
    blob.write_bytes(bytes(data))
    with pytest.raises(ArchiveInputError, match="document 1: content does not match"):
        build_sip(case, documents, out_dir=out_dir, diarienummer=None, archival_creator=KUMLA, submitter=SUBMITTER)
    assert [p.name for p in out_dir.iterdir()] == []  # nothing half-built left behind


def test_a_package_damaged_while_it_is_built_is_never_renamed_into_place(
        case: dict[str, Any], documents: list[StoredDocument], out_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = package_mod._write_package

    def write_then_truncate(root: Path, *args: Any, **kwargs: Any) -> dict[str, tuple[int, str]]:
        written = real(root, *args, **kwargs)
        attachment = _attachment(root)
        attachment.write_bytes(attachment.read_bytes()[:10])  # e.g. a disk that lost the end of a file
        return written

    monkeypatch.setattr(package_mod, "_write_package", write_then_truncate)
    with pytest.raises(RuntimeError, match=r"fails its own check: .*size mismatch"):
        build_sip(case, documents, out_dir=out_dir, diarienummer=None, archival_creator=KUMLA, submitter=SUBMITTER)
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("rel_path", ["../escape.txt", "/etc/x", "a/../../b", "a//b", "./a", "a\\..\\b"])
def test_the_writer_refuses_a_path_outside_the_package(tmp_path: Path, rel_path: str) -> None:
    writer = _Writer(tmp_path / "pkg", "2026-01-01T00:00:00+00:00")
    with pytest.raises(ArchiveInputError, match="outside the package"):
        writer.write(rel_path, b"x", "text/plain")


def _build_in(folder: Path, case: dict[str, Any], documents: list[StoredDocument]) -> Path:
    return build_sip(case, documents, out_dir=folder / "run-x" / "archive", diarienummer=None,
                     archival_creator=KUMLA, submitter=SUBMITTER)


def test_a_package_built_in_the_staging_folder_is_renamed_into_place(
        tmp_path: Path, case: dict[str, Any], documents: list[StoredDocument]) -> None:
    target = ArchiveFolderTarget({"path": str(tmp_path / "drop")})
    package = _build_in(target.staging_folder(), case, documents)
    inode = package.stat().st_ino
    location = Path(target.deliver_package(package))
    assert location == tmp_path / "drop" / package_objid(case)
    assert location.stat().st_ino == inode and not package.exists()  # moved, not copied
    assert verify_package(location) == []
    assert sorted(p.name for p in (tmp_path / "drop").iterdir()) == [".brygga-staging", location.name]


def test_a_second_hand_over_finds_the_package_by_its_name(
        tmp_path: Path, case: dict[str, Any], documents: list[StoredDocument]) -> None:
    target = ArchiveFolderTarget({"path": str(tmp_path / "drop")})
    first = target.deliver_package(_build_in(target.staging_folder(), case, documents))
    before = sorted(p.relative_to(first).as_posix() for p in Path(first).rglob("*"))
    again = _build_in(target.staging_folder() / "other-run", case, documents)
    assert target.deliver_package(again) == first
    assert again.exists()  # not moved over the one in place; the caller removes it
    assert sorted(p.relative_to(first).as_posix() for p in Path(first).rglob("*")) == before


def test_on_another_file_system_the_package_is_copied(
        tmp_path: Path, case: dict[str, Any], documents: list[StoredDocument], monkeypatch: pytest.MonkeyPatch) -> None:
    real_rename = os.rename

    def cross_device(src: Any, dst: Any) -> None:
        if ".brygga-staging" in str(src):  # the staging folder is a mount of its own
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_rename(src, dst)

    target = ArchiveFolderTarget({"path": str(tmp_path / "drop")})
    package = _build_in(target.staging_folder(), case, documents)
    monkeypatch.setattr(archive_folder_mod.os, "rename", cross_device)
    location = Path(target.deliver_package(package))
    assert package.exists() and verify_package(location) == []  # a copy: the caller's staging copy is its own
    assert not [p for p in (tmp_path / "drop").iterdir() if p.name.startswith(".incoming-")]


def test_a_package_from_elsewhere_is_copied_and_kept(
        tmp_path: Path, case: dict[str, Any], documents: list[StoredDocument]) -> None:
    package = _build_in(tmp_path / "elsewhere", case, documents)
    location = Path(ArchiveFolderTarget({"path": str(tmp_path / "drop")}).deliver_package(package))
    assert package.exists() and location.stat().st_ino != package.stat().st_ino
    assert verify_package(location) == []


def test_a_full_disk_while_building_in_the_drop_folder_leaves_nothing_behind(
        tmp_path: Path, case: dict[str, Any], documents: list[StoredDocument], monkeypatch: pytest.MonkeyPatch) -> None:
    from brygga.pipeline.archive import RunStaging

    target = ArchiveFolderTarget({"path": str(tmp_path / "drop")})
    real_open = open

    def open_on_a_full_disk(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "x" in mode and str(file).endswith(".pdf"):  # the payload is written, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(package_mod, "open", open_on_a_full_disk, raising=False)
    with RunStaging(tmp_path / "home" / "archive-staging") as staging, pytest.raises(OSError, match="No space"):
        folder = staging.folder_for(target)
        assert os.stat(folder).st_dev == os.stat(tmp_path / "drop").st_dev
        _build_in(folder, case, documents)
    assert list((tmp_path / "drop").iterdir()) == []  # the run's staging folder, and the empty staging root, gone
