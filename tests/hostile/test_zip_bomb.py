"""A zip bomb as an attachment is an opaque file: format identification never inflates it."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest
from hostile import zip_bomb

from brygga.archive.formats import identify

GIB = 1 << 30


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "ritningar.zip"
    path.write_bytes(zip_bomb(GIB))  # about 1 MB that inflates to 1 GiB
    return path


def test_identifying_a_zip_bomb_reads_at_most_fidos_buffer_of_a_member(
        bomb: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert bomb.stat().st_size < 2 * 1024 * 1024
    inflated: list[int] = []
    real_read = zipfile.ZipExtFile.read

    def counting_read(self: zipfile.ZipExtFile, n: int = -1) -> bytes:
        data = real_read(self, n)
        inflated.append(len(data))
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    identify(bomb, "application/zip")  # load FIDO's signatures before measuring memory
    inflated.clear()
    tracemalloc.start()
    try:
        found = identify(bomb, "application/zip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found.puid == "x-fmt/263"  # a plain ZIP: identified by its bytes and one capped member read
    assert inflated, "the member FIDO's container signatures name was opened (so the cap is what saved us)"
    assert sum(inflated) <= 1024 * 1024, "at most FIDO's container buffer (512 KiB) per member is inflated"
    assert peak < 16 * 1024 * 1024
