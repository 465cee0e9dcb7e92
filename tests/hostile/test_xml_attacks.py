"""Hostile XML at the intake (brygga.xmlread): refused with a precise reason, or read with the hazard inert.

Every case runs on both paths, the native parse (up to 4 MiB) and the streaming target (above), forced here by
lowering the threshold. Nothing may be fetched: documents point at a local server that records every connection.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from hostile import latin1_declared, listening, person, with_prolog, with_value
from lxml import etree

from brygga import xmlread
from brygga.blobs import DiscardingSink
from brygga.mapping import InvalidSource, compile_mapping
from brygga.settings import REPO_ROOT
from brygga.xmlread import MAX_TEXT_CHARS, read_xml
from brygga.xmlsafe import MAX_DEPTH, UnsafeOrMalformedXml

MAPPING = REPO_ROOT / "mappings" / "open-eplatform" / "bygglov.yaml"


@pytest.fixture(params=["whole", "streamed"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "streamed":
        monkeypatch.setattr(xmlread, "STREAM_ABOVE_BYTES", 16)
    return str(request.param)


def refused(data: bytes, name: str = "hostile.xml") -> str:
    with pytest.raises(UnsafeOrMalformedXml) as caught:
        read_xml(io.BytesIO(data), sink=DiscardingSink(), source_name=name)
    reason = str(caught.value)
    assert reason.startswith(f"{name}: ")
    return reason


def _attacks(url: str) -> dict[str, tuple[bytes, str]]:
    return {
        "xxe-file": (with_prolog(b'<!DOCTYPE FlowInstance [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
                                 with_value(b"Firstname", b"&xxe;")),
                     "internal DTD subset"),
        "xxe-network": (with_prolog(f'<!DOCTYPE FlowInstance [<!ENTITY xxe SYSTEM "{url}/xxe">]>'.encode(),
                                    with_value(b"Firstname", b"&xxe;")),
                        "internal DTD subset"),
        "parameter-entity": (with_prolog(f'<!DOCTYPE FlowInstance [<!ENTITY % r SYSTEM "{url}/pe.dtd"> %r;]>'
                                         .encode()), "internal DTD subset"),
        "dtd-public": (with_prolog(f'<!DOCTYPE FlowInstance PUBLIC "-//Evil//DTD X//EN" "{url}/public.dtd">'
                                   .encode()), "external DTD by PUBLIC identifier"),
        "dtd-system": (with_prolog(f'<!DOCTYPE FlowInstance SYSTEM "{url}/system.dtd">'.encode()),
                       "external DTD by SYSTEM identifier"),
        "xinclude": (with_value(b"Firstname", f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
                                              f'href="{url}/xi" parse="text"/>'.encode()),
                     "XInclude element is not allowed"),
    }


@pytest.mark.parametrize("case", ["xxe-file", "xxe-network", "parameter-entity", "dtd-public", "dtd-system",
                                  "xinclude"])
def test_entities_dtds_and_xinclude_are_refused_and_nothing_is_fetched(path: str, case: str) -> None:
    with listening() as server:
        data, expected = _attacks(server.url)[case]
        reason = refused(data)
    assert expected in reason
    assert "etc/passwd" not in reason and server.url not in reason and "Evil" not in reason
    assert server.connections == 0 and server.requests == []


def test_the_listener_would_have_seen_a_fetch() -> None:
    """The proof above means something only if the listener records a real contact."""
    import urllib.request

    with listening() as server, urllib.request.urlopen(f"{server.url}/probe") as answer:
        answer.read()
    assert server.connections == 1 and server.requests == ["/probe"]


def test_a_billion_laughs_is_refused_without_expanding(path: str) -> None:
    lol = b'<!ENTITY lol "lol">' + b"".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'.encode() for i in range(1, 10))
    data = with_prolog(b"<!DOCTYPE FlowInstance [" + lol + b"]>", with_value(b"Firstname", b"&lol9;"))
    started = time.process_time()
    reason = refused(data)
    assert time.process_time() - started < 5  # expanded, it would be 10^9 "lol"s
    assert "DOCTYPE/DTD is not allowed" in reason or "billion-laughs" in reason


def test_an_xml_stylesheet_instruction_is_read_as_inert_and_never_fetched(path: str) -> None:
    with listening() as server:
        data = with_prolog(f'<?xml-stylesheet type="text/xsl" href="{server.url}/evil.xsl"?>'.encode())
        root = read_xml(io.BytesIO(data), sink=DiscardingSink(), source_name="pi.xml")
        case = compile_mapping(MAPPING).run(data, source_name="pi.xml")
    assert server.connections == 0
    assert root.findtext(".//{*}sokande/{*}Firstname") == "Johan"
    assert "evil.xsl" not in str(case) and "stylesheet" not in str(case)


@pytest.mark.parametrize("where", ["text", "attribute"])
def test_an_undefined_entitys_name_is_not_echoed(path: str, where: str) -> None:
    secret = b"personnummer198503142385"
    body = b"&" + secret + b";" if where == "text" else b'<x a="&' + secret + b';"/>'
    reason = refused(with_value(b"Firstname", body))
    assert "entity that is not defined" in reason
    assert secret.decode() not in reason and "198503142385" not in reason


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 100_000])
def test_deep_nesting_is_refused_naming_the_limit(path: str, levels: int) -> None:
    deep = b"<d>" * levels + b"</d>" * levels
    reason = refused(with_value(b"Firstname", deep))
    assert "nested deeper than 256 levels" in reason


@pytest.mark.parametrize(("text", "what"), [
    (b"Jo\x00han", "a character that XML does not allow"),
    (b"Jo\x01han", "a character that XML does not allow"),
    (b"Jo\x1bhan", "a character that XML does not allow"),
    (b"Jo&#0;han", "not allow"),
    (b"Jo&#1;han", "not allow"),
    (b"Jo&#x1F;han", "not allow"),
    (b"Jo\xc3\x28han", "not valid in the document's encoding"),
    (b"Jo\xffhan", "not valid in the document's encoding"),
    (b"J\xf6rgen", "not valid in the document's encoding"),  # Latin-1 bytes in a file declared UTF-8
])
def test_control_characters_and_invalid_utf8_are_refused_naming_the_rule_and_place(
        path: str, text: bytes, what: str) -> None:
    reason = refused(with_value(b"Firstname", text))
    assert what in reason and ", line 2, column " in reason  # the samples' root starts on line 2
    assert "han" not in reason


def test_a_control_character_in_cdata_is_refused_too(path: str) -> None:
    reason = refused(with_value(b"Firstname", b"<![CDATA[Jo\x02han]]>"))
    assert "CDATA section" in reason and "not allow" in reason and "han" not in reason


def test_a_utf8_file_declared_iso_8859_1_is_refused_naming_the_declaration(path: str) -> None:
    data = latin1_declared(with_value(b"Firstname", "Jörgen".encode()))
    reason = refused(data)
    assert "encoding ISO-8859-1" in reason and "bytes are UTF-8" in reason and "mojibake" in reason
    assert "Jörgen" not in reason and "rgen" not in reason


@pytest.mark.parametrize("declared", ["ISO-8859-1", "iso-8859-1", "latin1", "ISO-8859-15", "windows-1252"])
def test_a_real_iso_8859_1_file_with_swedish_letters_is_read_correctly(path: str, declared: str) -> None:
    text = person().decode("utf-8").replace('encoding="UTF-8"', f'encoding="{declared}"')
    text = text.replace("Johan", "Jörgen Åsa Ärlig")
    root = read_xml(io.BytesIO(text.encode("latin-1")), sink=DiscardingSink())
    assert root.findtext(".//{*}sokande/{*}Firstname") == "Jörgen Åsa Ärlig"
    assert root.findtext(".//{*}Flow/{*}Name") == "Ansökan om bygglov"


def test_a_utf8_file_with_a_bom_and_a_latin1_declaration_is_utf8_as_libxml2_reads_it(path: str) -> None:
    data = b"\xef\xbb\xbf" + latin1_declared(with_value(b"Firstname", "Jörgen".encode()))
    root = read_xml(io.BytesIO(data), sink=DiscardingSink())
    assert root.findtext(".//{*}sokande/{*}Firstname") == "Jörgen"


def _big(data: bytes, size: int) -> bytes:
    """Pad a document past the streaming threshold with an ASCII comment (attachments look like this)."""
    head, sep, tail = data.partition(b"<Values>")
    return head + sep + b"<!--" + b"x" * size + b"-->" + tail


def test_mislabelled_utf8_is_found_on_the_streaming_path_of_a_large_file(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    # The only non-ASCII text sits after megabytes of ASCII: the check watches every chunk, not only the first.
    data = latin1_declared(_big(person(), 5 * 1024 * 1024)).replace(b"Stationsgatan", "Storgatan Ö".encode())
    path.write_bytes(data.replace("Ansökan".encode(), b"Ansokan").replace("gäller".encode(), b"galler")
                     .replace("åtgärd".encode(), b"atgard").replace("Sökande".encode(), b"Sokande")
                     .replace("sökande".encode(), b"sokande"))
    assert path.stat().st_size > xmlread.STREAM_ABOVE_BYTES
    with pytest.raises(UnsafeOrMalformedXml, match="encoding ISO-8859-1, but the bytes are UTF-8"):
        read_xml(path, source_name="big.xml")


def test_a_large_real_iso_8859_1_file_streams_and_reads_correctly(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    text = _big(person(), 5 * 1024 * 1024).decode("utf-8").replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    path.write_bytes(text.replace("Johan", "Jörgen").encode("latin-1"))
    root = read_xml(path)
    assert root.findtext(".//{*}sokande/{*}Firstname") == "Jörgen"


def test_a_10_mb_name_is_refused_naming_the_limit_and_where(tmp_path: Path) -> None:
    path = tmp_path / "name.xml"
    path.write_bytes(with_value(b"Firstname", b"A" * (10 * 1024 * 1024)))
    with pytest.raises(UnsafeOrMalformedXml) as caught:
        read_xml(path, source_name="name.xml")
    reason = str(caught.value)
    assert f"over the limit of {MAX_TEXT_CHARS:,} characters" in reason
    assert "/FlowInstance/Values/sokande/Firstname" in reason and "AAAA" not in reason


def test_the_mapping_engine_turns_every_refusal_into_invalid_source(path: str) -> None:
    with pytest.raises(InvalidSource, match=r"hostile\.xml: .*XInclude"):
        compile_mapping(MAPPING).run(_attacks("http://127.0.0.1:9")["xinclude"][0], source_name="hostile.xml")


def test_lxml_never_processes_xinclude_on_its_own() -> None:
    """Why refusing is defence in depth: even read without Brygga, nothing would be included until asked."""
    root = etree.fromstring(b'<a xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="/etc/passwd" '
                            b'parse="text"/></a>')
    assert len(root) == 1 and root.text is None


@pytest.mark.parametrize("after", [b"<?xml-stylesheet href='x'?>", b"<!-- a comment -->"])
def test_a_node_after_the_document_element_never_takes_its_place(after, monkeypatch):
    """Found by the fuzzer: on the streaming path a processing instruction after the root came back as the root."""
    data = b"<?xml version='1.0'?><FlowInstance><Header/></FlowInstance>" + after
    for threshold in (xmlread.STREAM_ABOVE_BYTES, 16):
        monkeypatch.setattr(xmlread, "STREAM_ABOVE_BYTES", threshold)
        root = read_xml(io.BytesIO(data), sink=DiscardingSink(), source_name="after.xml")
        assert root.tag == "FlowInstance"
