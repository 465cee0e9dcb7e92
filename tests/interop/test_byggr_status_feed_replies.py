"""The ByggR status feed on Sundsvall's recorded GetUpdatedArenden and GetDocument replies: read into changes with
stable ids and no personal data, every code combination in the vocabulary's suite, the document decoded."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from status_changes import by_id, time_and_id

from brygga.connections import Connection
from brygga.settings import REPO_ROOT
from brygga.status.changes import DocumentRef
from brygga_adapters.byggr.status_feed import ByggrStatusFeed, changes_from_reply, document_from_reply
from brygga_adapters.soap.raw import reply_payload
from brygga_simulators.byggr import ByggrSimulator
from brygga_simulators.serving import serve

pytestmark = pytest.mark.interop

EXAMPLES = "vertical-systems/byggr/examples"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
AR = "www.tekis.se/arende"


@pytest.fixture
def sample_updated(shared_reference: Path) -> bytes:
    return (shared_reference / EXAMPLES / "arendeexport.GetUpdatedArenden.200.xml").read_bytes()


@pytest.fixture
def sample_document(shared_reference: Path) -> bytes:
    return (shared_reference / EXAMPLES / "arendeexport.GetDocument.200.xml").read_bytes()


def _personal_data(sample: bytes) -> set[str]:
    """What the sample says about people: intressenter, officers' names and signaturer, handelse notes."""
    root = etree.fromstring(sample)
    found: set[str] = set()
    for intressent in root.iter(f"{{{AR}}}intressent"):
        found |= {" ".join((e.text or "").split()) for e in intressent.iter() if e is not intressent}
    for element in root.iter():
        if etree.QName(element).localname in ("handlaggare", "delegatHandlaggare"):
            found |= {element.get("signatur") or ""} | {" ".join((e.text or "").split()) for e in element}
    found |= {"Olof Näsman", "ollenasman@yahoo.se", "info@eldstaden.com"}  # in handelser's anteckning
    return {text for text in found if len(text) >= 5 and text not in ("SYSTEM", "Kontakt")}


def test_the_recorded_batch_is_read_into_changes(sample_updated):
    batch = changes_from_reply(reply_payload(200, sample_updated, "sample"))

    assert batch.until == datetime(2021, 12, 17, 14, 14, 35, tzinfo=STOCKHOLM)
    assert Counter(change.case_ref for change in batch.changes) == {
        "BYGG 2021-000771": 2, "BYGG 2020-001012": 16, "BYGG 2021-000772": 2, "BYGG 2020-000602": 5,
        "BYGG 2020-000615": 7, "BYGG 2018-000026": 6,
    }
    keys = [(change.case_ref, change.change_id) for change in batch.changes]
    assert len(set(keys)) == len(keys)  # no change of a case twice
    changes = by_id(batch.changes)  # handelseIds are unique across cases
    assert changes["handelse:344254:arbetsmaterial"].facts == {  # ByggR marks its Atom messages arbetsmaterial
        "change": "handelse", "handelsetyp": "Atom", "handelseslag": "Kv", "handelseutfall": "Kv11",
        "riktning": "Okänd", "rubrik": "Kompletteringsföreläggande - skickat", "sekretess": "false",
        "arbetsmaterial": "true",
    }
    assert changes["handelse:344254:arbetsmaterial"].occurred_at == datetime(2020, 8, 7, 17, 7, tzinfo=STOCKHOLM)
    assert "handelseslag" not in changes["handelse:348408"].facts  # ByggR left it out
    assert changes["handelse:346646"].facts["rubrik"] == (
        "Hissityg med brist som inte utgör omedelbar betydelse för säkerhet och hälsa (Inkom 2020-09-03)")
    assert changes["handelse:362923"].documents == ()  # the application's 14 documents came in
    # The Startbesked links four incoming documents and the decision: the decision only. The Slutbesked has only a
    # draft document (Arbetsmtrl): none. The DIG handelse sent both decisions out.
    assert [d.id for d in changes["handelse:344946"].documents] == ["567084"]
    assert changes["handelse:348409"].documents == ()
    assert [d.id for d in changes["handelse:344951"].documents] == ["567084", "567085"]
    assert batch.facts_seen.get("unreadable") is None
    assigned = {(c.case_ref, c.change_id, c.occurred_at) for c in batch.changes if c.change_id.startswith("handl")}
    assert assigned == {  # the day of uppdateradDatum; none for handlaggareId -1
        ("BYGG 2020-001012", "handlaggare:1602", datetime(2021, 12, 16, tzinfo=STOCKHOLM)),
        ("BYGG 2020-000602", "handlaggare:1602", datetime(2021, 12, 17, tzinfo=STOCKHOLM)),
        ("BYGG 2020-000615", "handlaggare:822", datetime(2021, 12, 17, tzinfo=STOCKHOLM)),
        ("BYGG 2018-000026", "handlaggare:822", datetime(2021, 12, 17, tzinfo=STOCKHOLM)),
    }
    closed = [c for c in batch.changes if c.change_id == "status:Avslutat"]
    assert {(c.case_ref, c.occurred_at) for c in closed} == {
        ("BYGG 2020-000615", datetime(2020, 7, 2, tzinfo=STOCKHOLM)),
        ("BYGG 2018-000026", datetime(2018, 1, 30, tzinfo=STOCKHOLM)),
    }
    for case_ref in {c.case_ref for c in batch.changes}:
        own = [c for c in batch.changes if c.case_ref == case_ref]
        assert own == sorted(own, key=time_and_id)


def test_every_code_combination_of_the_recorded_batch_is_in_the_vocabulary_suite(sample_updated):
    """mappings/status/byggr_test.yaml holds every combination of codes and flags the real reply has."""
    from brygga.status.vocabulary import load_vocabulary_suite, normalise

    names = ("change", "handelsetyp", "handelseslag", "handelseutfall", "riktning", "sekretess", "arbetsmaterial",
             "status")

    def codes(facts) -> tuple[str, ...]:
        return tuple(normalise(facts.get(name) or "") for name in names)

    suite = load_vocabulary_suite(REPO_ROOT / "mappings" / "status" / "byggr_test.yaml")
    batch = changes_from_reply(reply_payload(200, sample_updated, "sample"))
    assert {codes(change.facts) for change in batch.changes} - {codes(case.change.facts) for case in suite} == set()


def test_no_personal_data_of_the_recorded_batch_reaches_a_change(sample_updated):
    batch = changes_from_reply(reply_payload(200, sample_updated, "sample"))
    personal = _personal_data(sample_updated)
    assert {"Test Testorsson", "Fiktiva Gatan 12", "maj27nym", "hel07sah"} <= personal

    text = repr(batch)
    assert [value for value in personal if value in text] == []


def test_the_recorded_document_decodes_to_a_docx(sample_document):
    fetched = document_from_reply(sample_document, "dokId")

    assert fetched.name == "2017 Inget bygglov krävs.docx"
    assert fetched.media_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert fetched.content.startswith(b"PK\x03\x04")  # a docx is a zip


def test_the_feed_reads_the_recorded_replies_over_soap(sample_updated, sample_document):
    """The recorded replies, served as they are to the whole feed: zeep's request, the raw read, the mapping."""
    sim = ByggrSimulator()

    def app(environ, start_response):
        from werkzeug.wrappers import Request, Response

        request = Request(environ)
        if request.method == "GET":
            response = Response(sim.served_wsdl(request.host_url.rstrip("/") + sim.path), mimetype="text/xml")
        else:
            body = request.get_data()
            sample = sample_updated if b"GetUpdatedArenden" in body else sample_document
            response = Response(sample, content_type="text/xml; charset=utf-8")
        return response(environ, start_response)

    app.path = sim.path  # type: ignore[attr-defined]
    with serve(app) as running:
        feed = ByggrStatusFeed(Connection.from_uri("byggr-sundsvall", f"{running.url}?allow_http=true"))
        batch = feed.changes(datetime(2021, 12, 16, 7, 16, 56, tzinfo=STOCKHOLM))
        fetched = feed.fetch_document(DocumentRef("586443"))
    assert len(batch.changes) == 38
    assert fetched.content.startswith(b"PK\x03\x04")
