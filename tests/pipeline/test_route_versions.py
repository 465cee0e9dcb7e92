"""Exports of one flow instance over time: a duplicate is a no-op, an amendment reaches the existing case once.

v0 marked an amended export `completed` with the first version's case and package: ByggR and the archive never saw
the change, and the resident was notified again. docs/reliability.md, "Amended forms", has the model.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from lxml import etree
from routing import dead_url, local

from brygga.admin import replay
from brygga.ledger import State

ARENDE_NS = "{www.tekis.se/arende}"
NEW_DRAWING = b"%PDF-1.4 a new drawing, added in a komplettering"


def _amended(original: bytes) -> bytes:
    """The same flow instance with a new description and one more drawing."""
    changed = original.replace(b"Nybyggnad av enbostadshus med carport.", b"Nybyggnad av enbostadshus och garage.")
    assert changed != original
    drawing = (b"<File><ID>8104</ID><Name><![CDATA[Garage.pdf]]></Name><Size>" + str(len(NEW_DRAWING)).encode() +
               b"</Size><EncodedData>" + base64.b64encode(NEW_DRAWING) + b"</EncodedData></File>")
    return changed.replace(b"</ritningar>", drawing + b"</ritningar>", 1)


def _handelser(byggr):
    (case,) = byggr.app.cases.values()
    return case.handelser


def _anteckning(handelse) -> str:
    return handelse.element.findtext(f"{ARENDE_NS}anteckning") or ""


def test_a_re_export_with_the_same_content_is_a_duplicate_and_changes_nothing(route, byggr, callback):
    original = route.drop("bygglov-person.xml")
    route.run()
    reexport = route.drop("bygglov-person.xml", "again.xml", data=original.replace(
        b"</FlowInstance>", b"<!-- exported again --></FlowInstance>"))
    route.run()
    duplicate = route.submission(reexport)
    assert duplicate.state == State.DUPLICATE
    first = route.submission(original)
    assert first.id in route.context().ledger.steps(duplicate.id)[-1].detail
    assert len(byggr.app.cases) == 1 and len(_handelser(byggr)) == 1
    assert len(callback.app.calls_for("addMessage")) == 1, "the resident is not told twice"
    assert len(list((route.home / "archive-out").iterdir())) == 1


def test_an_amended_export_becomes_one_handelse_one_package_and_one_message(route, byggr, callback):
    original = route.drop("bygglov-person.xml")
    route.run()
    amended = route.drop("bygglov-person.xml", "amended.xml", data=_amended(original))
    route.run()
    first, second = route.submission(original), route.submission(amended)
    assert second.state == State.COMPLETED, route.context().ledger.quarantine_reasons(second.id)
    assert (first.revision, second.revision) == (1, 2)
    assert second.external_ref == first.external_ref, "the amendment goes to the case the first version created"

    assert len(byggr.app.cases) == 1
    handelser = _handelser(byggr)
    assert len(handelser) == 2
    added = handelser[-1]
    assert [d.content for d in added.documents] == [NEW_DRAWING], "only the new document is sent again"
    note = _anteckning(added)
    assert "details.bygglov" in note and "attachments" in note
    assert "garage" not in note.lower(), "the note names the changed fields, never their values"

    packages = sorted((route.home / "archive-out").iterdir())
    assert len(packages) == 2
    second_package = Path(second.archive_location)
    first_package = Path(first.archive_location)
    assert second_package != first_package
    mets = etree.parse(str(second_package / "METS.xml"))
    assert first_package.name in etree.tostring(mets, encoding="unicode"), "the new package refers to the first"
    data = second_package / "representations" / "rep1" / "data"
    digests = {hashlib.sha256(f.read_bytes()).hexdigest() for f in data.iterdir() if f.name != "case.json"}
    assert digests == {hashlib.sha256(NEW_DRAWING).hexdigest()}

    messages = callback.app.calls_for("addMessage")
    assert len(messages) == 2, "one message for the application, one for the komplettering"
    assert "komplettering" in str(messages[-1].fields).lower()

    route.drop("bygglov-person.xml", "amended-again.xml", data=_amended(original))  # byte-identical: a no-op
    route.run()
    assert len(_handelser(byggr)) == 2 and len(callback.app.calls_for("addMessage")) == 2


def test_an_amendment_waits_for_the_first_version_and_follows_it(route, byggr, callback):
    route.retry(first_delay="0s", max_delay="0s")
    route.connect("byggr_kumla", dead_url("byggr"))
    original = route.drop("bygglov-person.xml")
    amended = route.drop("bygglov-person.xml", "z-amended.xml", data=_amended(original))
    route.run()
    ledger = route.context().ledger
    first, second = route.submission(original), route.submission(amended)
    assert first.state == second.state == State.TRANSLATED
    assert ledger.steps(second.id)[-1].outcome == "waiting"
    route.connect("byggr_kumla", local(byggr))
    route.run()
    assert ledger.get(first.id).state == ledger.get(second.id).state == State.COMPLETED
    assert len(byggr.app.cases) == 1 and len(_handelser(byggr)) == 2


def test_a_later_version_takes_the_place_of_a_first_that_never_reached_the_case_system(route, byggr, callback):
    route.retry(budget="0s")  # the first failure spends the budget
    route.connect("byggr_kumla", dead_url("byggr"))
    original = route.drop("bygglov-person.xml")
    route.run()
    first = route.submission(original)
    assert first.state == State.QUARANTINED
    route.connect("byggr_kumla", local(byggr))
    amended = route.drop("bygglov-person.xml", "amended.xml", data=_amended(original))
    route.run()
    ledger = route.context().ledger
    second = route.submission(amended)
    assert second.state == State.COMPLETED and second.amends is None, ledger.quarantine_reasons(second.id)
    (case,) = byggr.app.cases.values()
    assert sum(len(h.documents) for h in case.handelser) == 4, "the new case gets every document, not only the new"
    assert ledger.get(first.id).state == State.SUPERSEDED
    assert ledger.quarantine_reasons(first.id) == []
    assert second.id in ledger.steps(first.id)[-1].detail
    with pytest.raises(ValueError, match="not quarantined"):
        replay(ledger, first.id, actor="test")
    messages = callback.app.calls_for("addMessage")
    assert len(messages) == 1 and "komplettering" not in str(messages[0].fields).lower()


def test_an_amendment_follows_a_first_version_that_reached_the_case_system_but_stopped_later(
        route, byggr, callback):
    route.retry(budget="0s")  # the first failure spends the budget
    route.connect("oep_kumla", dead_url("oep-callback"))
    original = route.drop("bygglov-person.xml")
    route.run()
    first = route.submission(original)
    assert first.state == State.QUARANTINED and first.external_ref, "quarantined at notify, after the case"
    route.connect("oep_kumla", local(callback))
    amended = route.drop("bygglov-person.xml", "amended.xml", data=_amended(original))
    route.run()
    second = route.submission(amended)
    assert second.state == State.COMPLETED and second.amends == first.id
    assert len(byggr.app.cases) == 1 and len(_handelser(byggr)) == 2
    assert route.context().ledger.get(first.id).state == State.QUARANTINED, "the first still waits for its replay"


def test_what_a_register_adds_later_does_not_make_a_re_export_an_amendment(route, byggr, callback):
    routes = route.retry()
    text = routes.read_text(encoding="utf-8")
    lookup = text[text.index("    property_lookup:"):text.index("    targets:")]
    routes.write_text(text.replace(lookup, ""), encoding="utf-8")  # first without the property register
    original = route.drop("bygglov-person.xml")
    route.run()
    routes.write_text(text, encoding="utf-8")  # now the route looks properties up
    reexport = route.drop("bygglov-person.xml", "again.xml", data=original.replace(
        b"</FlowInstance>", b"<!-- exported again --></FlowInstance>"))
    route.run()
    assert route.submission(reexport).state == State.DUPLICATE
    assert len(_handelser(byggr)) == 1 and len(callback.app.calls_for("addMessage")) == 1
