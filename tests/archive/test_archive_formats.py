"""PRONOM identification with FIDO: real formats, the fallback, flat memory on large files, and silence."""

from __future__ import annotations

import logging
import tracemalloc
import zipfile
from pathlib import Path

import pytest
from archive_samples import DOCX, PDF_1_7, PNG_1_0, XLS_97, pdf_bytes, png_bytes, write_docx, write_ole2

from brygga.archive.formats import FileFormat, identifier, identify

BIFF8_BOF = b"\x09\x08\x10\x00\x00\x06\x05\x00"  # the record an Excel 97 Workbook stream starts with


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_pdf_and_a_png_get_their_pronom_ids(tmp_path: Path) -> None:
    pdf = identify(_file(tmp_path, "a.pdf", pdf_bytes()), "application/pdf")
    assert pdf == FileFormat("Acrobat PDF 1.7 - Portable Document Format", "1.7", PDF_1_7)
    assert pdf.registry == "PRONOM"
    assert identify(_file(tmp_path, "a.png", png_bytes()), "image/png") == FileFormat(
        "Portable Network Graphics", "1.0", PNG_1_0)


def test_the_content_decides_not_the_declared_media_type_or_name(tmp_path: Path) -> None:
    assert identify(_file(tmp_path, "looks-like.txt", pdf_bytes()), "text/plain").puid == PDF_1_7


def test_containers_are_identified_by_their_members(tmp_path: Path) -> None:
    docx = tmp_path / "a.docx"
    write_docx(docx)
    assert identify(docx, "application/octet-stream").puid == DOCX
    xls = tmp_path / "a.xls"
    write_ole2(xls, "Workbook", BIFF8_BOF + bytes(8192))
    assert identify(xls, "application/vnd.ms-excel").puid == XLS_97
    plain_zip = tmp_path / "a.zip"
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert identify(plain_zip, "application/zip").puid == "x-fmt/263"  # no container signature: plain ZIP


def _unreadable_docx(path: Path) -> Path:
    """A docx whose members claim to be encrypted: a valid ZIP to the byte signatures, unreadable inside."""
    write_docx(path)
    data = bytearray(path.read_bytes())
    for signature, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        while start >= 0:
            data[start + flags_at] |= 0x01
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))
    return path


def test_an_unreadable_container_keeps_its_byte_signature_match(tmp_path: Path) -> None:
    assert identify(_unreadable_docx(tmp_path / "locked.docx"), "application/zip").puid == "x-fmt/263"


@pytest.mark.parametrize(("data", "media_type"), [
    (b"Hej! Bara lite text.\n", "text/plain"),
    (b'{"caseType": "bygglov"}\n', "application/json"),
    (b"", "application/pdf"),  # an empty file matches nothing, whatever its declared type
])
def test_without_a_match_the_format_is_named_by_its_media_type(tmp_path: Path, data: bytes,
                                                                media_type: str) -> None:
    found = identify(_file(tmp_path, "f", data), media_type)
    assert found == FileFormat(name=media_type)
    assert found.registry is None


def test_memory_stays_flat_on_large_files(tmp_path: Path) -> None:
    big_pdf = tmp_path / "big.pdf"
    with big_pdf.open("wb") as handle:
        handle.write(pdf_bytes()[:-6])  # all but the final "%%EOF\n"
        handle.seek(60 * 1024 * 1024)  # a sparse 60 MB hole in the middle, read by nobody
        handle.write(b"\n%%EOF\n")
    docx = tmp_path / "big.docx"
    write_docx(docx, content_types_padding=40 * 1024 * 1024)  # a 40 MB member, deflated to little
    xls = tmp_path / "big.xls"
    write_ole2(xls, "Workbook", BIFF8_BOF + bytes(5_000_000))  # olefile alone would read all 5 MB
    identify(big_pdf, "application/pdf")  # loads the signatures before measuring

    tracemalloc.start()
    try:
        assert identify(big_pdf, "application/pdf").puid == PDF_1_7
        assert identify(docx, "application/octet-stream").puid == DOCX
        assert identify(xls, "application/vnd.ms-excel").puid == XLS_97
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * 1024 * 1024, f"peak {peak} bytes"


def test_nothing_is_printed_or_logged(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                                      caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "Anna-Karin Ström 198005122380"
    folder.mkdir()
    xls = folder / "ansökan.xls"
    write_ole2(xls, "Workbook", BIFF8_BOF + bytes(8192))
    files = [_file(folder, "ansökan.pdf", pdf_bytes()), _file(folder, "tom.bin", b""),
             _unreadable_docx(folder / "låst.docx"), xls]
    with caplog.at_level(logging.DEBUG):
        for path in files:
            identify(path, "application/octet-stream")
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")
    assert caplog.records == []


def test_signatures_are_loaded_once_per_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from fido import fido as fido_module

    identify(_file(tmp_path, "a.png", png_bytes()), "image/png")
    loads: list[str] = []
    monkeypatch.setattr(fido_module.Fido, "load_fido_xml", lambda self, file: loads.append(file))
    identify(_file(tmp_path, "b.png", png_bytes()), "image/png")
    assert loads == []
    assert identifier().name == "FIDO" and identifier().version.startswith("1.6.")
