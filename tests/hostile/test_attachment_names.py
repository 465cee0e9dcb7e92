"""Attachment names from residents become safe file names before any target sees them; the sha256 stays."""

from __future__ import annotations

import hashlib
import unicodedata

import pytest
from hostile import with_file
from hypothesis import given, settings
from hypothesis import strategies as st

from brygga.mapping import compile_mapping
from brygga.mapping.attachments import MAX_FILENAME_BYTES, safe_filename
from brygga.settings import REPO_ROOT

MAPPING = REPO_ROOT / "mappings" / "open-eplatform" / "bygglov.yaml"
WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"{d}{n}" for d in ("COM", "LPT") for n in "123456789")}


@pytest.mark.parametrize(("name", "safe"), [
    ("a|b?c*.pdf", "a_b_c_.pdf"),
    ("..", "attachment"),
    (".", "attachment"),
    ("...pdf", "pdf"),
    ("CON", "_CON"),
    ("con", "_con"),
    ("NUL.pdf", "_NUL.pdf"),
    ("nul .pdf", "_nul.pdf"),
    ("LPT1.tar.gz", "_LPT1.tar.gz"),
    ("faktura\u202efdp.exe", "faktura_fdp.exe"),
    ("../../etc/passwd", "_.._etc_passwd"),
    ("C:\\Windows\\win.ini", "C__Windows_win.ini"),
    ('<script>"x".pdf', "_script__x_.pdf"),
    ("rad\nbrytning\t.pdf", "rad_brytning_.pdf"),
    ("ritning.pdf. . ", "ritning.pdf"),
    ("???.pdf", "attachment.pdf"),
    ("Situationsplan.pdf", "Situationsplan.pdf"),
    ("Ritning över tomten (rev 2).pdf", "Ritning över tomten (rev 2).pdf"),
    ("A\u030angström.png", "Ångström.png"),  # decomposed Å is composed (NFC)
    ("CONSOLE.pdf", "CONSOLE.pdf"),  # only the device names themselves are reserved
])
def test_names_become_safe_deterministically(name: str, safe: str) -> None:
    assert safe_filename(name) == safe
    assert safe_filename(name) == safe_filename(name)


def test_a_long_name_is_cut_keeping_its_extension() -> None:
    safe = safe_filename("ö" * 1000 + ".pdf")
    assert safe.endswith("ö.pdf") and len(safe.encode()) <= MAX_FILENAME_BYTES


def test_the_fallback_is_used_for_names_with_nothing_left() -> None:
    assert safe_filename("..", fallback="attachment-0123abcd") == "attachment-0123abcd"
    assert safe_filename("  ..  .docx", fallback="x") == "docx"  # only dots and spaces before the extension


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(max_size=300))
def test_any_name_becomes_a_safe_one(name: str) -> None:
    safe = safe_filename(name)
    assert safe and len(safe.encode("utf-8", "surrogatepass")) <= MAX_FILENAME_BYTES
    assert not set(safe) & set('<>:"/\\|?*')
    assert not any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"} for ch in safe)
    assert safe not in {".", ".."} and not safe.startswith((".", " ")) and not safe.endswith((".", " "))
    assert safe.partition(".")[0].rstrip(" ").upper() not in WINDOWS_RESERVED
    assert unicodedata.is_normalized("NFC", safe)
    assert safe_filename(safe) == safe  # idempotent: a name that is already safe stays as it is


@pytest.mark.parametrize(("raw", "safe"), [
    (b"<![CDATA[..]]>", None),
    (b"CON", "_CON"),
    (b"NUL.pdf", "_NUL.pdf"),
    ("<![CDATA[faktura\u202efdp.pdf]]>".encode(), "faktura_fdp.pdf"),
    (b"<![CDATA[a|b?c*.pdf]]>", "a_b_c_.pdf"),
])
def test_the_canonical_case_carries_the_safe_name_and_the_same_sha256(raw: bytes, safe: str | None) -> None:
    content = b"%PDF-1.4 a drawing"
    case = compile_mapping(MAPPING).run(with_file(raw, content), source_name="names.xml")
    (attachment,) = [a for a in case["attachments"] if a["sourceId"] == "8199"]
    digest = hashlib.sha256(content).hexdigest()
    assert attachment["sha256"] == digest and attachment["size"] == len(content)
    assert attachment["name"] == (safe if safe is not None else f"attachment-{digest[:12]}")
