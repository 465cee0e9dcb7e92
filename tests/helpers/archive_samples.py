"""Sample agents, documents and real files of known formats for the archive tests (a unique module name, unlike
conftest). The files are made here, byte by byte, so their PRONOM formats are known without reference files."""

from __future__ import annotations

import hashlib
import struct
import zipfile
import zlib
from pathlib import Path

from brygga.archive import Agent
from brygga.plugins import StoredDocument

PERSONNUMMER = "198005122380"
KUMLA = Agent("Kumla kommun", "2120001637")
SUBMITTER = Agent("Kumla kommun, kommunarkivet", "1881")
SUBMISSION_AGREEMENT = "KS 2026/0042 Leveransöverenskommelse e-arkiv, 2026-03-01"

PDF_1_7 = "fmt/276"  # Acrobat PDF 1.7
PNG_1_0 = "fmt/11"  # Portable Network Graphics 1.0
DOCX = "fmt/412"  # Microsoft Word for Windows 2007 onwards
XLS_97 = "fmt/61"  # Microsoft Excel 97 Workbook (xls)


def stored(store: Path, name: str, data: bytes, media_type: str) -> StoredDocument:
    digest = hashlib.sha256(data).hexdigest()
    path = store / digest
    path.write_bytes(data)
    return StoredDocument(name=name, media_type=media_type, size=len(data), sha256=digest, path=path)


def pdf_bytes(text: str = "Situationsplan") -> bytes:
    """A small, well-formed PDF 1.7: one empty page, a real cross-reference table and trailer."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
               f"<< /Title ({text}) >>".encode("ascii")]
    body = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 4 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(body)


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A valid RGB PNG of the given size, every chunk with its CRC."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x20\x80\xc0" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def write_docx(path: Path, content_types_padding: int = 0) -> None:
    """The part of an Office Open XML document FIDO's container signature reads: [Content_Types].xml."""
    content_types = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                     '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                     '<Default Extension="xml" ContentType="application/xml"/>'
                     '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                     'officedocument.wordprocessingml.document.main+xml"/>'
                     f'<!--{" " * content_types_padding}--></Types>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr("word/document.xml", '<w:document xmlns:w="urn:x"/>')


_SECTOR = 512
_FREE, _END, _FAT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


def write_ole2(path: Path, stream_name: str, stream: bytes) -> None:
    """A minimal OLE2 compound file (version 3, 512-byte sectors) holding one stream in the regular FAT.

    Enough for FIDO's OLE2 container signatures, e.g. a ``Workbook`` stream starting with an Excel BIFF8 BOF
    record. The stream must be at least 4096 bytes (so it is not in the mini stream) and under ~6 MB (one header's
    worth of FAT sectors).
    """
    assert 4096 <= len(stream) < 6_000_000
    data_sectors = -(-len(stream) // _SECTOR)
    fat_sectors = 1
    while fat_sectors * (_SECTOR // 4) < fat_sectors + 1 + data_sectors:
        fat_sectors += 1
    directory_sector = fat_sectors
    first_data = fat_sectors + 1
    fat = [_FAT] * fat_sectors + [_END] + [first_data + i + 1 for i in range(data_sectors - 1)] + [_END]
    fat += [_FREE] * (fat_sectors * (_SECTOR // 4) - len(fat))

    difat = list(range(fat_sectors)) + [_FREE] * (109 - fat_sectors)
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6
              + struct.pack("<IIIIIIIII", 0, fat_sectors, directory_sector, 0, 4096, _END, 0, _END, 0)
              + struct.pack("<109I", *difat))

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\x00").encode("utf-16-le") if name else b""
        return (encoded.ljust(64, b"\x00") + struct.pack("<HBB", len(encoded), kind, 1)
                + struct.pack("<III", _FREE, _FREE, child) + b"\x00" * 36 + struct.pack("<IQ", start, size))

    directory = (entry("Root Entry", 5, 1, _END, 0) + entry(stream_name, 2, _FREE, first_data, len(stream))
                 + entry("", 0, _FREE, _FREE, 0) * 2)
    with path.open("wb") as handle:
        handle.write(header)
        handle.write(struct.pack(f"<{len(fat)}I", *fat))
        handle.write(directory)
        handle.write(stream.ljust(data_sectors * _SECTOR, b"\x00"))
