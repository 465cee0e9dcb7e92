"""SignatureMatcher returns exactly what FIDO's own ``match_formats`` returns, for files of many kinds."""

from __future__ import annotations

import gzip
import io
import json
import struct
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from archive_samples import pdf_bytes, png_bytes, write_docx, write_ole2
from fido.fido import Fido

from brygga.archive.formats import _fido
from brygga.archive.signatures import SignatureMatcher


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hej")
    return buffer.getvalue()


def _samples(tmp_path: Path) -> dict[str, bytes]:
    write_docx(tmp_path / "a.docx")
    biff8_bof = struct.pack("<HHHH", 0x0809, 16, 0x0600, 0x0005) + b"\x00" * 12
    write_ole2(tmp_path / "a.xls", "Workbook", biff8_bof.ljust(4096, b"\x00"))
    return {
        "pdf": pdf_bytes(),
        "png": png_bytes(),
        "docx": (tmp_path / "a.docx").read_bytes(),
        "xls": (tmp_path / "a.xls").read_bytes(),
        "zip": _zip(),
        "gzip": gzip.compress(b"x" * 1000),
        "json": json.dumps({"caseType": "bygglov", "parties": []}, indent=2).encode(),
        "xml": b'<?xml version="1.0" encoding="UTF-8"?>\n<mets xmlns="http://www.loc.gov/METS/"/>\n',
        "html": b"<!DOCTYPE html>\n<html><head><title>x</title></head><body></body></html>\n",
        "text": "Nybyggnad av enbostadshus på Stenen 1:23.\n".encode() * 40,
        "jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200 + b"\xff\xd9",
        "gif": b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 30 + b"\x3b",
        "rtf": b"{\\rtf1\\ansi hej}",
        "noise": bytes((i * 7 + 13) % 251 for i in range(300_000)),
    }


@pytest.fixture(scope="module")
def fido() -> Fido:
    return _fido().fido


def test_the_same_matches_as_fido_for_files_of_many_kinds(fido: Fido, tmp_path: Path) -> None:
    matcher = SignatureMatcher(fido)
    identified = 0
    for kind, data in _samples(tmp_path).items():
        bof, eof = data[: fido.bufsize], data[-fido.bufsize:]
        expected = fido.match_formats(bof, eof)
        assert matcher.match(bof, eof) == expected, kind
        identified += bool(expected)
    assert identified >= 10  # the comparison means something: most samples are identified


_FORMATS = r"""<formats>
  <format><puid>x/1</puid><name>broken after a match</name>
    <signature><name>s1</name><pattern><position>BOF</position><regex>(?s)\AAB</regex></pattern></signature>
    <signature><name>s2</name><pattern><position>BOF</position><regex>(?s)\A(unclosed</regex></pattern></signature>
    <signature><name>s3</name><pattern><position>BOF</position><regex>(?s)\AA</regex></pattern></signature>
  </format>
  <format><puid>x/2</puid><name>unknown position, broken regex never compiled</name>
    <signature><name>s4</name><pattern><position>SOMEWHERE</position><regex>(</regex></pattern>
      <pattern><position>EOF</position><regex>(?s)YZ\Z</regex></pattern></signature>
  </format>
  <format><puid>x/3</puid><name>a pattern without a position</name>
    <signature><name>s5</name><pattern><regex>A</regex></pattern></signature>
  </format>
  <format><puid>x/4</puid><name>outranked</name>
    <signature><name>s6</name><pattern><position>VAR</position><regex>B</regex></pattern></signature>
  </format>
  <format><puid>x/5</puid><name>outranks x/4</name>
    <signature><name>s7</name><pattern><position>IFB</position><regex>C</regex></pattern></signature>
  </format>
  <format><puid>x/6</puid><name>case-insensitive: its first byte is no gate</name>
    <signature><name>s8</name><pattern><position>BOF</position><regex>(?i)\Aabc</regex></pattern></signature>
  </format>
  <format><puid>x/7</puid><name>a broken pattern before a gate</name>
    <signature><name>s9</name><pattern><position>EOF</position><regex>[</regex></pattern>
      <pattern><position>BOF</position><regex>(?s)\AZ</regex></pattern></signature>
    <signature><name>s10</name><pattern><position>BOF</position><regex>(?s)\A</regex></pattern></signature>
  </format>
  <format><puid>x/8</puid><name>gated after assertions</name>
    <signature><name>s11</name><pattern><position>BOF</position><regex>(?s)\A^\bA</regex></pattern></signature>
  </format>
</formats>"""


def test_odd_signatures_are_handled_as_fido_handles_them() -> None:
    fido = Fido.__new__(Fido)  # FIDO's own methods over a handful of hand-made formats
    fido.formats = ElementTree.fromstring(_FORMATS).findall("format")
    fido.puid_has_priority_over_map = {f.findtext("puid"): frozenset() for f in fido.formats}
    fido.puid_has_priority_over_map["x/5"] = frozenset({"x/4"})
    fido.current_count = 0
    matcher = SignatureMatcher(fido)
    for bof in (b"ABC...XYZ", b"AB", b"B", b"C", b"BC", b""):
        expected = fido.match_formats(bof, bof)
        assert matcher.match(bof, bof) == expected, bof
    names = [name for _fmt, name in matcher.match(b"ABC...XYZ", b"ABC...XYZ")]
    # s2 stops its format (s3 unread); x/3 fails; x/5 outranks x/4; s8 ignores case; s9 stops x/7 (s10 unread)
    assert names == ["s1", "s4", "s7", "s8", "s11"]
