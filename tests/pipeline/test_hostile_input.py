"""Hostile submissions through the whole route: quarantined with a precise reason, or delivered with the hazard
made harmless. Nothing is fetched, nothing leaks into reasons, and the run goes on.

Run against the ByggR simulator's contract replies only: what is tested here happens before or inside the
request, not in how ByggR answers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hostile import (
    ORGANISATION,
    latin1_declared,
    listening,
    person,
    replace_once,
    with_file,
    with_prolog,
    with_value,
    zip_bomb,
)
from soap_capture import sent_payloads
from sqlalchemy import inspect

from brygga.admin import SearchQuery, search
from brygga.ledger import State

pytestmark = pytest.mark.parametrize("byggr", ["contract"], indirect=True)


def _quarantined(route, data: bytes) -> str:  # type: ignore[no-untyped-def]
    route.drop("hostile.xml", data=data)
    route.run()
    submission = route.submission(data)
    reasons = route.context().ledger.quarantine_reasons(submission.id)
    assert submission.state == State.QUARANTINED, reasons
    return " | ".join(reasons)


def _completed(route, data: bytes):  # type: ignore[no-untyped-def]
    route.drop("hostile.xml", data=data)
    route.run()
    submission = route.submission(data)
    assert submission.state == State.COMPLETED, route.context().ledger.quarantine_reasons(submission.id)
    return submission


def _sent_text(byggr) -> str:  # type: ignore[no-untyped-def]
    return " ".join(" ".join(p.itertext()) for p in sent_payloads(byggr.app))


@pytest.mark.parametrize(("prolog", "value", "expected"), [
    (b'<!DOCTYPE FlowInstance [<!ENTITY xxe SYSTEM "{url}/xxe">]>', b"&xxe;", "internal DTD subset"),
    (b'<!DOCTYPE FlowInstance [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', b"&xxe;", "internal DTD subset"),
    (b'<!DOCTYPE FlowInstance PUBLIC "-//X//DTD X//EN" "{url}/p.dtd">', None, "external DTD by PUBLIC"),
    (b'<!DOCTYPE FlowInstance SYSTEM "{url}/s.dtd">', None, "external DTD by SYSTEM"),
    (b"", b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{url}/x" parse="text"/>', "XInclude"),
    (b"", b"&undefinedSecret;", "entity that is not defined"),
], ids=["xxe-network", "xxe-file", "dtd-public", "dtd-system", "xinclude", "undefined-entity"])
def test_entities_dtds_and_xinclude_are_quarantined_and_nothing_is_fetched(
        route, byggr, callback, prolog: bytes, value: bytes | None, expected: str) -> None:
    with listening() as server:
        url = server.url.encode()
        data = person() if value is None else with_value(b"Firstname", value.replace(b"{url}", url))
        if prolog:
            data = with_prolog(prolog.replace(b"{url}", url), data)
        reason = _quarantined(route, data)
    assert server.connections == 0
    assert "hostile.xml" in reason and expected in reason
    assert server.url not in reason and "passwd" not in reason and "undefinedSecret" not in reason
    assert byggr.app.cases == {} and callback.app.calls == []


def test_an_xml_stylesheet_instruction_is_delivered_inert_and_never_fetched(route, byggr) -> None:
    with listening() as server:
        _completed(route, with_prolog(f'<?xml-stylesheet type="text/xsl" href="{server.url}/x.xsl"?>'.encode()))
    assert server.connections == 0
    assert not any(b"x.xsl" in raw or b"xml-stylesheet" in raw for raw in byggr.app.captured_requests)


def test_a_utf8_file_declared_iso_8859_1_is_quarantined_naming_the_encoding(route, byggr) -> None:
    reason = _quarantined(route, latin1_declared(with_value(b"Firstname", "Jörgen".encode())))
    assert "encoding ISO-8859-1" in reason and "bytes are UTF-8" in reason and "rgen" not in reason
    assert byggr.app.cases == {}


def test_a_real_iso_8859_1_file_is_delivered_with_its_letters_intact(route, byggr) -> None:
    text = person().decode().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').replace("Johan", "Jörgen")
    _completed(route, text.encode("latin-1"))
    sent = _sent_text(byggr)
    assert "Jörgen" in sent and "JÃ" not in sent


def test_a_10_mb_name_is_quarantined_naming_the_limit(route, byggr) -> None:
    reason = _quarantined(route, with_value(b"Firstname", b"A" * (10 * 1024 * 1024)))
    assert "over the limit of 10,000,000 characters" in reason and "sokande/Firstname" in reason
    assert "AAAA" not in reason and byggr.app.cases == {}


def test_a_huge_attachment_declared_small_is_quarantined(route, byggr) -> None:
    reason = _quarantined(route, with_file(b"ritning.pdf", bytes(3 * 1024 * 1024), declared_size=10))
    assert "attachments[3]" in reason and "File Size does not match" in reason
    assert byggr.app.cases == {}


def test_base64_decoding_to_far_more_than_the_limit_is_quarantined_and_not_stored(route, byggr) -> None:
    route.variant('    schedule: "*/1', '    limits: {max_attachment_bytes: 100000}\n    schedule: "*/1')
    content = bytes(range(256)) * 20_000  # 5 MB
    reason = _quarantined(route, with_file(b"ritning.pdf", content))
    assert "5,120,000 bytes" in reason and "100,000 bytes" in reason and "limits.max_attachment_bytes" in reason
    assert not route.context().content.path_for(hashlib.sha256(content).hexdigest()).exists()
    assert byggr.app.cases == {}


def test_a_zip_bomb_is_delivered_and_archived_as_an_opaque_file(route, byggr) -> None:
    bomb = zip_bomb(256 * 1024 * 1024)
    submission = _completed(route, with_file(b"ritningar.zip", bomb))
    digest = hashlib.sha256(bomb).hexdigest()
    (case,) = byggr.app.cases.values()
    assert [hashlib.sha256(d.content).hexdigest() for h in case.handelser for d in h.documents
            if d.name.startswith("ritningar")] == [digest]
    data = Path(submission.archive_location) / "representations" / "rep1" / "data"
    archived = [f for f in data.iterdir() if f.stat().st_size == len(bomb)]
    assert [hashlib.sha256(f.read_bytes()).hexdigest() for f in archived] == [digest]


def test_hostile_attachment_names_reach_the_targets_made_safe(route, byggr) -> None:
    data = person()
    names = [(b"<![CDATA[..]]>", None), (b"CON", "_CON"), (b"NUL.pdf", "_NUL.pdf"),
             ("<![CDATA[faktura\u202efdp.pdf]]>".encode(), "faktura_fdp.pdf"),
             (b"<![CDATA[a|b?c*.pdf]]>", "a_b_c_.pdf")]
    contents = [f"document {i}".encode() for i in range(len(names))]
    for i, ((raw, _), content) in enumerate(zip(names, contents, strict=True)):
        data = with_file(raw, content, data=data, file_id=f"91{i}".encode())
    submission = _completed(route, data)
    (case,) = byggr.app.cases.values()
    delivered = {hashlib.sha256(d.content).hexdigest(): d.name for h in case.handelser for d in h.documents}
    for (_, safe), content in zip(names, contents, strict=True):
        digest = hashlib.sha256(content).hexdigest()
        expected = safe if safe is not None else f"attachment-{digest[:12]}"
        assert delivered[digest] == expected
    assert not any("\u202e" in name or "|" in name or name in {"..", "CON", "NUL.pdf"}
                   for name in delivered.values())
    archive = Path(submission.archive_location)
    assert not any("\u202e" in p.name or "|" in p.name or p.name.upper().startswith(("CON", "NUL"))
                   for p in archive.rglob("*"))


def test_script_and_sql_text_is_delivered_verbatim_as_text_and_the_ledger_is_intact(route, byggr) -> None:
    script, sql = "<script>alert(1)</script>", "'; DROP TABLE submissions;--"
    data = with_value(b"Value", f"<![CDATA[{script}]]>".encode(), after=b"<beskrivning>")
    data = with_value(b"Lastname", f"<![CDATA[{sql}]]>".encode(), data)
    _completed(route, data)
    raw = b"".join(byggr.app.captured_requests)
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in raw and b"<script>" not in raw
    sent = [p for p in sent_payloads(byggr.app)]
    texts = {t for p in sent for t in p.itertext()}
    assert any(script in t for t in texts) and any(sql in t for t in texts)
    assert all(e.tag != "script" and not str(e.tag).endswith("}script") for p in sent for e in p.iter())
    ledger = route.context().ledger
    assert "submissions" in inspect(ledger.engine).get_table_names()
    assert search(ledger, SearchQuery(text="2001"))


def test_a_flow_instance_id_that_is_not_a_number_is_quarantined_naming_the_field(route, byggr, callback) -> None:
    data = replace_once(person(), b"<FlowInstanceID>2001<", b"<FlowInstanceID>2001'; DROP TABLE x;--<")
    reason = _quarantined(route, data)
    assert "source.reference" in reason and "DROP" not in reason
    assert byggr.app.cases == {} and callback.app.calls == []


def test_a_personnummer_with_a_bad_check_digit_is_quarantined_naming_the_rule(route, byggr) -> None:
    data = replace_once(person(), b"19850314-2385", b"19850314-2386")
    reason = _quarantined(route, data)
    assert "personnummer" in reason and "check digit" in reason and "2386" not in reason
    assert byggr.app.cases == {}


def test_a_bad_organisationsnummer_is_quarantined_naming_the_rule(route, byggr) -> None:
    data = replace_once(ORGANISATION.read_bytes(), b"559123-4561", b"559123-4562")
    reason = _quarantined(route, data)
    assert "organisationsnummer" in reason and "559123" not in reason and "4562" not in reason
    assert byggr.app.cases == {}


def test_the_run_goes_on_after_hostile_input(route, byggr) -> None:
    """A hostile file among good ones: the good one is delivered in the same run."""
    route.drop("evil.xml", data=with_value(b"Firstname", b"<d>" * 1000 + b"</d>" * 1000))
    route.drop("bygglov-person.xml")
    route.run()
    assert route.submission("bygglov-person.xml").state == State.COMPLETED
    assert len(byggr.app.cases) == 1
