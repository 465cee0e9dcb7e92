"""sftp-archive against a real loopback SFTP server: atomic upload, found by name, leftovers cleaned up."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from brygga.errors import TargetRejected
from brygga_adapters.sftp import SftpArchiveTarget
from brygga_simulators.sftp import start_sftp_server

PACKAGE = "brygga-796115e9-f668-5dcc-8056-068aed4ecc8f"


def _tree(root: Path) -> dict[str, str]:
    """Every file below root by relative path, with its sha256; folders by a trailing '/'."""
    found = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        found[relative + "/" if path.is_dir() else relative] = (
            "" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest())
    return found


@pytest.fixture
def package(tmp_path: Path) -> Path:
    root = tmp_path / "staging" / PACKAGE
    (root / "metadata" / "descriptive").mkdir(parents=True)
    (root / "representations" / "rep1" / "data").mkdir(parents=True)
    (root / "METS.xml").write_text("<mets/>", encoding="utf-8")
    (root / "metadata" / "descriptive" / "ead.xml").write_text("<ead/>", encoding="utf-8")
    (root / "representations" / "rep1" / "data" / "Fasadritning.pdf").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    (root / "representations" / "rep1" / "data" / "empty.txt").write_bytes(b"")
    return root


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".partial-" in p.name]


def test_a_package_is_uploaded_whole_and_a_second_hand_over_uploads_nothing(
        sftp_server, server_root, connection_to, package):
    target = SftpArchiveTarget({"path": "inleverans"}, connection_to(sftp_server, "/earkiv", conn_id="earkiv_sftp"))
    location = target.deliver_package(package)

    assert location == f"sftp://earkiv_sftp/earkiv/inleverans/{PACKAGE}"
    drop = server_root / "earkiv" / "inleverans"
    assert [p.name for p in drop.iterdir()] == [PACKAGE]  # no partial name remains
    assert _tree(drop / PACKAGE) == _tree(package)

    # Again, through a server that refuses every write: it is found by its name, nothing is uploaded.
    with start_sftp_server(server_root, read_only=True) as read_only:
        again = SftpArchiveTarget({"path": "inleverans"}, connection_to(read_only, "/earkiv", conn_id="earkiv_sftp"))
        assert again.deliver_package(package) == location
    assert _tree(drop / PACKAGE) == _tree(package)


def test_a_single_file_package_is_uploaded_and_renamed_too(sftp_server, server_root, connection_to, tmp_path):
    single = tmp_path / f"{PACKAGE}.tar"
    single.write_bytes(os.urandom(100_000))
    location = SftpArchiveTarget({}, connection_to(sftp_server, "/out")).deliver_package(single)
    assert location == f"sftp://partner_sftp/out/{PACKAGE}.tar"
    assert (server_root / "out" / single.name).read_bytes() == single.read_bytes()
    assert _leftovers(server_root / "out") == []


def test_interrupted_uploads_are_cleaned_up_and_uploads_under_way_left_alone(
        sftp_server, server_root, connection_to, package):
    drop = server_root / "inleverans"
    killed = drop / f".{PACKAGE}.partial-0a1b2c3d4e5f"  # this package's upload, cut off by a killed worker
    (killed / "metadata").mkdir(parents=True)
    (killed / "METS.xml").write_text("<half", encoding="utf-8")
    stale = drop / ".brygga-other.partial-000000000000"  # another package's, hours old
    stale.mkdir()
    day_ago = time.time() - 24 * 3600
    os.utime(stale, (day_ago, day_ago))
    under_way = drop / ".brygga-third.partial-111111111111"  # another package's, uploading right now
    under_way.mkdir()

    SftpArchiveTarget({"path": "inleverans"}, connection_to(sftp_server)).deliver_package(package)

    assert sorted(p.name for p in drop.iterdir()) == sorted([PACKAGE, under_way.name])
    assert _tree(drop / PACKAGE) == _tree(package)


def test_a_refused_write_is_target_rejected_and_leaves_nothing(server_root, connection_to, package):
    (server_root / "inleverans").mkdir()
    with start_sftp_server(server_root, read_only=True) as read_only:
        target = SftpArchiveTarget({"path": "inleverans"}, connection_to(read_only))
        with pytest.raises(TargetRejected, match=r"refused to write .*permission denied"):
            target.deliver_package(package)
    assert list((server_root / "inleverans").iterdir()) == []


def test_a_package_with_a_link_in_it_is_refused_and_its_partial_removed(sftp_server, server_root, connection_to,
                                                                        package):
    (package / "link.xml").symlink_to(package / "METS.xml")
    target = SftpArchiveTarget({"path": "inleverans"}, connection_to(sftp_server))
    with pytest.raises(TargetRejected, match="not a regular file"):
        target.deliver_package(package)
    assert list((server_root / "inleverans").iterdir()) == []
