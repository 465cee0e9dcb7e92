"""ByggR as a status feed: GetUpdatedArenden read into CaseChanges, GetDocument into a document's bytes.

Against the ByggR simulator over real SOAP (a case officer moves the case on), on replies the simulator writes in
ByggR's real shapes; Sundsvall's recorded replies are read in tests/interop/test_byggr_status_feed_replies.py.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from lxml import etree
from status_changes import by_id, time_and_id

from brygga.errors import ConfigError, TargetRejected, TargetUnavailable
from brygga.status.changes import CaseChange, DocumentRef, StatusFeed
from brygga_adapters.byggr import ByggrTarget
from brygga_adapters.byggr import status_feed as feed_module
from brygga_adapters.byggr.replies import UnreadableReply
from brygga_adapters.byggr.status_feed import ByggrStatusFeed, changes_from_reply, document_from_reply
from brygga_adapters.soap.raw import reply_payload
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.byggr import ByggrSimulator
from brygga_simulators.serving import serve

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SC = "www.tekis.se/ServiceContract"
AR = "www.tekis.se/arende"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
MODES = [("contract", "v8"), ("real", "v8"), ("contract", "v4"), ("real", "v4")]
APPLICANT = ("Anna-Karin Ström", "Storgatan 12")
OFFICER = ("Hedda", "Handläggarsson", "hand01")
PAYLOAD = {
    "arendegrupp": "LOV",
    "arendetyp": "BL",
    "ankomstDatum": "2026-10-14",
    "beskrivning": "Nybyggnad av enbostadshus",
    "intressentLista": {"intressent": [{"namn": APPLICANT[0], "adress": APPLICANT[1], "rollLista": {"roll": ["SOK"]}}]},
    "objektLista": {"abstractArendeObjekt": [
        {"_type": "arendeFastighet", "arHuvudObjekt": True, "fastighet": {"trakt": "KUMLA STENEN", "fbetNr": "1:23"}}
    ]},
}


@pytest.fixture(params=MODES, ids=[f"{style}-{contract}" for style, contract in MODES])
def sim(request) -> Iterator[RunningSimulator]:
    reply_style, contract = request.param
    with start_simulator(ByggrSimulator(reply_style=reply_style, contract=contract)) as running:
        yield running


@pytest.fixture
def target(sim, connect) -> ByggrTarget:
    return ByggrTarget({"contract": sim.app.contract}, connect(sim, "byggr-kumla", read_timeout="10"))


def _ids(changes: list[CaseChange], dnr: str) -> list[str]:
    return [change.change_id for change in changes if change.case_ref == dnr]


# --- against the simulator -------------------------------------------------------------------------------


def test_the_target_is_a_status_feed(target):
    assert isinstance(target, StatusFeed)
    assert isinstance(ByggrStatusFeed(target.connection), StatusFeed)


def test_a_case_officer_moves_the_case_and_each_change_is_reported_with_a_stable_id(
    sim, target, make_request, canonical_case, documents
):
    since = datetime.now(STOCKHOLM) - timedelta(seconds=1)
    receipt = target.deliver(make_request(PAYLOAD, canonical_case, documents, extern_ref="brygga:sub-0001"))
    dnr = receipt.external_ref
    (delivered,) = sim.app.cases[dnr].handelser
    officer = sim.app
    officer.assign_handler(dnr)
    supplement = officer.request_supplement(dnr)

    first = target.changes(since)

    decision_pdf = b"%PDF-1.4\n" + os.urandom(3 * 1024 * 1024)
    decision = officer.decide(dnr, document=("Beslut.pdf", decision_pdf))
    officer.close(dnr)

    second = target.changes(first.until)
    third = target.changes(second.until)

    handelse = f"handelse:{delivered.handelse_id}"
    supplement_id = f"handelse:{supplement['handelseId']}:arbetsmaterial"  # ByggR's Atom marks it so
    expected_first = [handelse, "handlaggare:1602", supplement_id]
    expected_all = [*expected_first, f"handelse:{decision['handelseId']}", "status:Avslutat"]
    assert sorted(_ids(first.changes, dnr)) == sorted(expected_first)
    # The case changed again, so ByggR reports it whole; the core keeps each change once, by its id.
    assert sorted(_ids(second.changes, dnr)) == sorted(expected_all)
    assert len(set(_ids(second.changes, dnr))) == len(expected_all)
    assert set(_ids(third.changes, dnr)) <= set(expected_all)  # at most a re-read of the last second
    for change_id, change in by_id(first.changes).items():
        assert by_id(second.changes)[change_id].facts == change.facts
        if change_id.startswith("handelse:"):
            assert by_id(second.changes)[change_id].occurred_at == change.occurred_at

    changes = by_id(second.changes)
    assert changes[supplement_id].facts == {
        "change": "handelse", "handelsetyp": "Atom", "handelseslag": "Kv", "handelseutfall": "Kv11",
        "riktning": "Okänd", "rubrik": "Kompletteringsföreläggande - skickat", "sekretess": "false",
        "arbetsmaterial": "true",
    }
    assert changes["handlaggare:1602"].facts == {"change": "handlaggare"}
    assert changes["status:Avslutat"].facts == {"change": "status", "status": "Avslutat"}
    decided = changes[f"handelse:{decision['handelseId']}"]
    assert (decided.facts["handelsetyp"], decided.facts["handelseslag"]) == ("BESLUT", "GAAC")
    assert (decided.facts["sekretess"], decided.facts["arbetsmaterial"]) == ("false", "false")
    # The decision links the delivered documents too (Inkommen); only the one that went out is its document.
    assert len(sim.app.cases[dnr].handelser[-1].element.findall(f".//{{{AR}}}handling")) == len(documents) + 1
    assert decided.documents == (DocumentRef(id=decision["dokId"], name="Beslut.pdf"),)
    assert changes[handelse].documents == ()  # the resident's own, incoming
    assert all(change.occurred_at.tzinfo is not None for change in second.changes)
    assert second.until.tzinfo is not None and second.until >= first.until
    today = datetime.now(STOCKHOLM).replace(hour=0, minute=0, second=0, microsecond=0)
    assert changes["status:Avslutat"].occurred_at == today == changes["handlaggare:1602"].occurred_at
    expected_ref = "brygga:sub-0001" if sim.app.contract == "v8" else None  # v4 has no externRef
    assert {change.extern_ref for change in second.changes} == {expected_ref}
    case_order = [c for c in second.changes if c.case_ref == dnr]
    assert case_order == sorted(case_order, key=time_and_id)

    fetched = target.fetch_document(decided.documents[0])
    assert hashlib.sha256(fetched.content).hexdigest() == hashlib.sha256(decision_pdf).hexdigest()
    assert (fetched.name, fetched.media_type) == ("Beslut.pdf", "application/pdf")


def test_no_personal_data_reaches_a_change_or_the_log(sim, target, make_request, canonical_case, caplog):
    since = datetime.now(STOCKHOLM) - timedelta(seconds=1)
    dnr = target.deliver(make_request(PAYLOAD, canonical_case, [])).external_ref
    sim.app.assign_handler(dnr)
    sim.app.decide(dnr)
    sim.app.withdraw(dnr)

    with caplog.at_level(logging.DEBUG):
        batch = target.changes(since)

    assert "status:Makulerat" in _ids(batch.changes, dnr)
    text = repr(batch) + caplog.text
    for personal in (*APPLICANT, *OFFICER):
        assert personal not in text


def test_a_withdrawn_case_reports_makulerat_at_the_day_it_ended(byggr_sim, byggr_connection):
    dnr = byggr_sim.app.seed_case("KUMLA STENEN", "1:23")
    byggr_sim.app.withdraw(dnr)
    batch = ByggrStatusFeed(byggr_connection).changes(datetime.now(STOCKHOLM) - timedelta(minutes=1))

    (status,) = [c for c in batch.changes if c.change_id.startswith("status:")]
    assert status.facts == {"change": "status", "status": "Makulerat"}
    assert status.occurred_at == datetime.now(STOCKHOLM).replace(hour=0, minute=0, second=0, microsecond=0)


def test_since_goes_out_in_swedish_time_and_a_naive_one_is_read_as_such(byggr_sim, byggr_connection):
    feed = ByggrStatusFeed(byggr_connection)
    feed.changes(datetime(2026, 7, 1, 12, 0))  # naive: Swedish local time, summer
    feed.changes(datetime.fromisoformat("2026-01-15T11:00:00+00:00"))

    requests_sent = byggr_sim.app.captured_requests
    sent = [etree.fromstring(raw).findtext(f".//{{{SC}}}LowerExclusiveBound") for raw in requests_sent]
    assert sent == ["2026-07-01T12:00:00+02:00", "2026-01-15T12:00:00+01:00"]


def test_an_unknown_document_is_refused(byggr_sim, byggr_connection):
    with pytest.raises(TargetRejected, match="SOAP fault"):
        ByggrStatusFeed(byggr_connection).fetch_document(DocumentRef(id="999999"))


def test_a_document_over_the_limit_is_refused_naming_only_its_id(byggr_sim, byggr_connection, monkeypatch):
    dnr = byggr_sim.app.seed_case("KUMLA STENEN", "1:23")
    dok_id = byggr_sim.app.decide(dnr, document=("Beslut Anna-Karin Ström.pdf", b"%PDF" + b"x" * 3000))["dokId"]
    monkeypatch.setattr(feed_module, "MAX_DOCUMENT_BYTES", 2000)

    with pytest.raises(TargetRejected) as refused:
        ByggrStatusFeed(byggr_connection).fetch_document(DocumentRef(id=dok_id, name="Beslut Anna-Karin Ström.pdf"))
    assert dok_id in str(refused.value) and "Ström" not in str(refused.value)


def test_a_document_reply_over_the_reply_limit_is_refused_naming_its_id(byggr_sim, byggr_connection, monkeypatch):
    dnr = byggr_sim.app.seed_case("KUMLA STENEN", "1:23")
    dok_id = byggr_sim.app.decide(dnr, document=("Beslut.pdf", b"%PDF" + b"x" * 200_000))["dokId"]
    monkeypatch.setattr(feed_module, "_MAX_DOCUMENT_REPLY_BYTES", 100_000)

    with pytest.raises(TargetRejected, match=f"document {dok_id} is over the limit"):
        ByggrStatusFeed(byggr_connection).fetch_document(DocumentRef(id=dok_id))


def test_a_document_larger_than_libxml2s_text_limit_is_read(connect):
    with start_simulator(ByggrSimulator(reply_style="real")) as running:
        dnr = running.app.seed_case("KUMLA STENEN", "1:23")
        content = os.urandom(12 * 1024 * 1024)  # 16 MB of base64 in one text node
        dok_id = running.app.decide(dnr, document=("Ritningar.pdf", content))["dokId"]
        fetched = ByggrStatusFeed(connect(running, "byggr-kumla")).fetch_document(DocumentRef(id=dok_id))
    assert fetched.content == content


@pytest.mark.parametrize("operation", ["GetUpdatedArenden", "GetDocument"])
def test_a_server_that_is_down_for_a_while_is_retried_later(byggr_sim, byggr_connection, operation):
    dnr = byggr_sim.app.seed_case("KUMLA STENEN", "1:23")
    dok_id = byggr_sim.app.decide(dnr)["dokId"]
    byggr_sim.app.faults.set([{"operation": operation, "action": "http_status", "status": 503}])
    feed = ByggrStatusFeed(byggr_connection)

    with pytest.raises(TargetUnavailable):
        if operation == "GetUpdatedArenden":
            feed.changes(datetime.now(STOCKHOLM))
        else:
            feed.fetch_document(DocumentRef(id=dok_id))


def test_a_server_that_cannot_be_reached_is_retried_later(connect):
    with start_simulator("byggr") as running:
        connection = connect(running, "byggr-kumla", connect_timeout="2")
        ByggrStatusFeed(connection).changes(datetime.now(STOCKHOLM))  # the WSDL is loaded and cached

    with pytest.raises(TargetUnavailable):
        ByggrStatusFeed(connection).changes(datetime.now(STOCKHOLM))


def test_a_contract_without_get_updated_arenden_is_a_configuration_error(connect):
    app = ByggrSimulator(contract="v4")
    wsdl = etree.fromstring(app.wsdl)
    for operation in wsdl.iter("{http://schemas.xmlsoap.org/wsdl/}operation"):
        if operation.get("name") == "GetUpdatedArenden":
            operation.getparent().remove(operation)
    app.wsdl = etree.tostring(wsdl)
    with serve(app) as running, pytest.raises(ConfigError, match=r"contract v4 .* no GetUpdatedArenden"):
        ByggrStatusFeed(connect(running, "byggr-kumla"), "v4").changes(datetime.now(STOCKHOLM))


def test_a_target_on_a_connection_serving_another_contract_is_a_configuration_error(connect):
    with start_simulator(ByggrSimulator(contract="v4")) as running:
        target = ByggrTarget({"contract": "v8"}, connect(running, "byggr-kumla"))
        with pytest.raises(ConfigError, match="serves ByggR contract v4"):
            target.changes(datetime.now(STOCKHOLM))


# --- reading replies: as the simulator writes them in ByggR's real shapes -----------------------------------


def _post(running: RunningSimulator, body: str) -> bytes:
    envelope = f'<s:Envelope xmlns:s="{SOAP_NS}"><s:Body>{body}</s:Body></s:Envelope>'
    reply = requests.post(running.url, data=envelope.encode(), headers={"Content-Type": "text/xml"}, timeout=10)
    assert reply.status_code == 200
    return reply.content


def test_a_real_style_reply_gives_each_change_once_without_personal_data():
    with start_simulator(ByggrSimulator(reply_style="real")) as running:
        dnr = running.app.seed_case("KUMLA STENEN", "1:23")
        running.app.assign_handler(dnr)
        supplement = running.app.request_supplement(dnr)
        decision = running.app.decide(dnr)
        running.app.close(dnr)
        seeded = running.app.cases[dnr].handelser[0].handelse_id
        content = _post(running, f'<GetUpdatedArenden xmlns="{SC}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
                        "<filter><LowerExclusiveBound>2000-01-01T00:00:00</LowerExclusiveBound>"
                        '<UpperInclusiveBound i:nil="true"/></filter></GetUpdatedArenden>')
        document = _post(running, f'<GetDocument xmlns="{SC}"><documentId>{decision["dokId"]}</documentId>'
                         "<inkluderaFil>true</inkluderaFil></GetDocument>")

    batch = changes_from_reply(reply_payload(200, content, "simulated reply"))

    assert Counter(_ids(batch.changes, dnr)) == Counter({
        f"handelse:{seeded}": 1, "handlaggare:1602": 1, f"handelse:{supplement['handelseId']}:arbetsmaterial": 1,
        f"handelse:{decision['handelseId']}": 1, "status:Avslutat": 1,
    })
    # BatchEnd is Swedish local time without an offset
    assert batch.until.tzinfo is not None and batch.until.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    # The seeded handelse's startDatum is "{{now}}", as ByggR has written it: it counts from the day of the update.
    assert by_id(batch.changes)[f"handelse:{seeded}"].occurred_at.time() == datetime.min.time()
    for personal in ("Sökande Exempel", "Underrättelse", *OFFICER, "SYSTEM"):
        assert personal not in repr(batch)
    assert batch.facts_seen["change=status status=Avslutat"] == 1
    fetched = document_from_reply(document, decision["dokId"])  # base64 in indented 76-character lines
    assert fetched.content.startswith(b"%PDF-1.4") and fetched.name == "Beslut.pdf"


def _updated(arenden: str, batch_end: str = "2026-11-30T10:00:00") -> etree._Element:
    xml = (f'<GetUpdatedArendenResponse xmlns="{SC}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
           f"<GetUpdatedArendenResult><BatchStart>2026-11-30T09:00:00</BatchStart><BatchEnd>{batch_end}</BatchEnd>"
           f"<Arenden>{arenden}</Arenden></GetUpdatedArendenResult></GetUpdatedArendenResponse>")
    return etree.fromstring(xml)


def _handling(dok_id: str, note: str = "", makulerad: str = "false", status: str = "Expedierad",
              more: str = "") -> str:
    return (f"<a:handling handlingId='1'><a:typ>BIL</a:typ><a:status>{status}</a:status>"
            f"<a:handlingDatum>2026-11-30</a:handlingDatum><a:anteckning>{note}</a:anteckning>"
            f"<a:makulerad>{makulerad}</a:makulerad>{more}"
            f"<a:dokument dokId='{dok_id}'><a:namn>Anna-Karin Ström</a:namn></a:dokument></a:handling>")


def _beslut(handelse_id: str, handlingar: str, sekretess: str = "false", arbetsmaterial: str = "false",
            start: str = "2026-11-30T09:00:00") -> str:
    return (f"<a:handelse handelseId='{handelse_id}'><a:riktning>Ut</a:riktning><a:rubrik>Startbesked</a:rubrik>"
            f"<a:startDatum>{start}</a:startDatum><a:handelseslag>GAAC</a:handelseslag>"
            f"<a:handelsetyp>BESLUT</a:handelsetyp><a:sekretess>{sekretess}</a:sekretess>"
            f"<a:makulerad>false</a:makulerad><a:handlingLista>{handlingar}</a:handlingLista>"
            f"<a:arbetsmaterial>{arbetsmaterial}</a:arbetsmaterial></a:handelse>")


def _arende(dnr: str | None, handelser: str) -> str:
    named = f"dnr='{dnr}' " if dnr else ""
    return (f"<arende {named}xmlns:a='{AR}'><a:status>Pågående</a:status>"
            f"<a:handlaggare handlaggareId='-1' signatur=''/><a:handelseLista>{handelser}</a:handelseLista></arende>")


def test_documents_are_deduplicated_and_named_only_by_a_file_name():
    arende = (
        f"<arende dnr='BN 2026-000001' xmlns:a='{AR}'><a:status>Pågående</a:status>"
        "<a:handlaggare handlaggareId='-1' signatur=''/><a:handelseLista>"
        "<a:handelse handelseId='1'><a:riktning>In</a:riktning><a:rubrik>  Komplettering\n   inkom </a:rubrik>"
        "<a:startDatum>2026-11-30T09:15:00.1234567</a:startDatum><a:handelsetyp>HANDLING</a:handelsetyp>"
        "<a:handelseslag></a:handelseslag><a:makulerad>false</a:makulerad><a:handlingLista>"
        + _handling("10", "Fasad ritning.pdf") + _handling("10", "Fasad ritning.pdf") + _handling("11", "Ring Anna")
        + _handling("12", "gammal.pdf", makulerad="true")
        + "</a:handlingLista></a:handelse>"
        "<a:handelse handelseId='2'><a:riktning>Ut</a:riktning><a:startDatum>2026-11-30T09:00:00</a:startDatum>"
        "<a:makulerad>true</a:makulerad></a:handelse>"
        "<a:handelse><a:riktning>Ut</a:riktning><a:startDatum>2026-11-30T09:00:00</a:startDatum>"
        "<a:makulerad>false</a:makulerad></a:handelse>"
        "</a:handelseLista></arende><arende xsi:nil='true'/>"
    )
    batch = changes_from_reply(_updated(arende))

    (change,) = batch.changes  # the makulerad handelse and the one without an id are left out
    assert change.change_id == "handelse:1" and change.extern_ref is None
    assert change.facts == {"change": "handelse", "handelsetyp": "HANDLING", "riktning": "In",
                            "rubrik": "Komplettering inkom"}
    assert change.documents == (DocumentRef("10", "Fasad ritning.pdf"), DocumentRef("11", None))
    assert change.occurred_at == datetime(2026, 11, 30, 9, 15, 0, 123456, tzinfo=STOCKHOLM)
    assert batch.until == datetime(2026, 11, 30, 10, 0, tzinfo=STOCKHOLM)
    assert batch.facts_seen["unreadable"] == 1  # the handelse without an id


def test_a_decision_lists_only_the_documents_that_went_out():
    handlingar = (_handling("10", status="Inkommen") + _handling("11", "Beslut.pdf", status="Arbetsmtrl")
                  + _handling("12", "Startbesked.pdf", status=" Expedierad ")
                  + _handling("13", status="Expedierad", makulerad="true")
                  + _handling("14", status="Expedierad", more="<a:sekretess>true</a:sekretess>"))
    batch = changes_from_reply(_updated(_arende("BN 2026-000001", _beslut("7", handlingar))))

    (decision,) = batch.changes
    assert decision.change_id == "handelse:7"
    assert (decision.facts["sekretess"], decision.facts["arbetsmaterial"]) == ("false", "false")
    assert decision.documents == (DocumentRef("12", "Startbesked.pdf"),)


def test_a_secret_handelse_lists_no_documents_and_a_draft_has_an_id_of_its_own():
    sent = _handling("12", status="Expedierad")
    handelser = (_beslut("7", sent, sekretess="true") + _beslut("8", sent, arbetsmaterial="1")
                 + _beslut("9", sent, sekretess="unknown"))
    batch = changes_from_reply(_updated(_arende("BN 2026-000001", handelser)))

    secret, draft, odd = batch.changes
    assert (secret.change_id, secret.facts["sekretess"], secret.documents) == ("handelse:7", "true", ())
    assert (draft.change_id, draft.facts["arbetsmaterial"], draft.documents) == (
        "handelse:8:arbetsmaterial", "true", ())
    assert "sekretess" not in odd.facts and odd.documents == (DocumentRef("12"),)  # no boolean: no fact


def test_an_arende_without_dnr_is_skipped_counted_and_logged_without_its_values(caplog):
    secret = _beslut("8", _handling("12"), start="2026-11-30T09:30:00").replace("Startbesked", "Anna-Karin Ström")
    arenden = (_arende("BN 2026-000001", _beslut("7", "")) + _arende(None, secret)
               + _arende("BN 2026-000003", _beslut("9", "")))

    with caplog.at_level(logging.WARNING, logger="brygga.adapters.byggr.status"):
        batch = changes_from_reply(_updated(arenden))

    assert [(c.case_ref, c.change_id) for c in batch.changes] == [
        ("BN 2026-000001", "handelse:7"), ("BN 2026-000003", "handelse:9")]
    assert batch.facts_seen["unreadable"] == 1
    assert "arende 1 of the GetUpdatedArenden reply has no dnr (arende/@dnr); it is skipped" in caplog.text
    assert "Ström" not in caplog.text and "Ström" not in repr(batch)


def test_changes_at_the_same_time_are_ordered_by_their_numeric_id():
    handelser = _beslut("100000", "") + _beslut("99999", "") + _beslut("100001", "", arbetsmaterial="true")
    batch = changes_from_reply(_updated(_arende("BN 2026-000001", handelser)))

    assert [c.change_id for c in batch.changes] == [
        "handelse:99999", "handelse:100000", "handelse:100001:arbetsmaterial"]


def test_a_draft_decision_has_no_documents_until_it_goes_out(byggr_sim, byggr_connection):
    feed = ByggrStatusFeed(byggr_connection)
    since = datetime.now(STOCKHOLM) - timedelta(seconds=1)
    dnr = byggr_sim.app.seed_case("KUMLA STENEN", "1:23")
    draft = byggr_sim.app.decide(dnr, rubrik="Slutbesked", handelseslag="SLU", draft=True)
    secret = byggr_sim.app.decide(dnr, secret=True)

    first = by_id(feed.changes(since).changes)
    byggr_sim.app.send_out(dnr, draft["handelseId"])
    then = by_id(feed.changes(since).changes)

    drafted = first[f"handelse:{draft['handelseId']}:arbetsmaterial"]
    assert (drafted.facts["arbetsmaterial"], drafted.documents) == ("true", ())
    assert f"handelse:{draft['handelseId']}" not in first
    final = then[f"handelse:{draft['handelseId']}"]  # a change of its own: the draft's was recorded already
    assert final.facts["arbetsmaterial"] == "false" and final.documents == (DocumentRef(draft["dokId"], "Beslut.pdf"),)
    assert final.occurred_at == drafted.occurred_at
    told = then[f"handelse:{secret['handelseId']}"]
    assert (told.facts["sekretess"], told.documents) == ("true", ())


def test_the_bundled_vocabulary_tells_a_draft_once_it_goes_out_and_atoms_messages_although_marked(
        byggr_sim, byggr_connection):
    from brygga.status.vocabulary import load_vocabulary

    vocabulary = load_vocabulary(Path(__file__).resolve().parents[3] / "mappings" / "status" / "byggr.yaml")
    feed = ByggrStatusFeed(byggr_connection)
    since = datetime.now(STOCKHOLM) - timedelta(seconds=1)
    dnr = byggr_sim.app.seed_case("KUMLA STENEN", "1:23")
    supplement = byggr_sim.app.request_supplement(dnr)
    draft = byggr_sim.app.decide(dnr, draft=True)
    secret = byggr_sim.app.decide(dnr, rubrik="Föreläggande", handelseslag="ÅTG", secret=True)

    def kinds() -> dict[str, str | None]:
        found = {}
        for change in feed.changes(since).changes:
            classified = vocabulary.classify(change)
            found[change.change_id] = classified.kind if classified is not None else "unmapped"
        return found

    first = kinds()
    byggr_sim.app.send_out(dnr, draft["handelseId"])
    then = kinds()

    assert first[f"handelse:{supplement['handelseId']}:arbetsmaterial"] == "supplement_requested"
    assert first[f"handelse:{draft['handelseId']}:arbetsmaterial"] is None  # ignored: a draft
    assert then[f"handelse:{draft['handelseId']}"] == "decision_made"
    assert first[f"handelse:{secret['handelseId']}"] == "decision_made"


def test_a_reply_without_a_batch_end_is_unreadable():
    with pytest.raises(UnreadableReply, match="no readable BatchEnd"):
        changes_from_reply(_updated("", batch_end="{{now}}"))


def test_a_document_reply_without_a_file_or_with_broken_base64_is_unreadable():
    def reply(fil: str) -> bytes:
        return (f'<s:Envelope xmlns:s="{SOAP_NS}"><s:Body><GetDocumentResponse xmlns="{SC}">'
                f'<GetDocumentResult dokId="7"><namn xmlns="{AR}">a.pdf</namn>{fil}</GetDocumentResult>'
                "</GetDocumentResponse></s:Body></s:Envelope>").encode()

    with pytest.raises(UnreadableReply, match="no GetDocumentResult with a file"):
        document_from_reply(reply(""), "7")
    with pytest.raises(UnreadableReply, match="not valid base64"):
        document_from_reply(reply(f'<fil xmlns="{AR}"><filBuffer>not base64!</filBuffer></fil>'), "7")
    fetched = document_from_reply(reply(f'<fil xmlns="{AR}"><filBuffer>\n   aGVq\n   </filBuffer></fil>'), "7")
    assert (fetched.name, fetched.media_type, fetched.content) == ("a.pdf", "application/pdf", b"hej")

