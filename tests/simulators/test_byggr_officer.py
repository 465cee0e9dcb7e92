"""A case officer's actions in the ByggR simulator: in Python and over POST /_sim/officer, each reported by
GetUpdatedArenden and shown by GetArende (checked against the WSDL in the contract reply style)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from lxml import etree

from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.byggr import ByggrSimulator
from brygga_simulators.byggr.render import decision_pdf
from brygga_simulators.byggr.service import UnknownCase

SC = "www.tekis.se/ServiceContract"
AR = "www.tekis.se/arende"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
MODES = [("contract", "v8"), ("real", "v8"), ("contract", "v4"), ("real", "v4")]


@pytest.fixture(params=MODES, ids=[f"{style}-{contract}" for style, contract in MODES])
def sim(request) -> Iterator[RunningSimulator]:
    reply_style, contract = request.param
    with start_simulator(ByggrSimulator(reply_style=reply_style, contract=contract)) as running:
        yield running


def _soap(running: RunningSimulator, body: str) -> etree._Element:
    envelope = f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{body}</s:Body></s:Envelope>'
    reply = requests.post(running.url, data=envelope.encode(), headers={"Content-Type": "text/xml"}, timeout=10)
    assert reply.status_code == 200, reply.text[:500]  # in the contract style the reply passed the WSDL's schema
    return etree.fromstring(reply.content)


def _updated_since(running: RunningSimulator, since: datetime) -> list[str]:
    root = _soap(running, f'<GetUpdatedArenden xmlns="{SC}" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
                 f"<filter><LowerExclusiveBound>{since.isoformat()}</LowerExclusiveBound>"
                 '<UpperInclusiveBound i:nil="true"/></filter></GetUpdatedArenden>')
    return [arende.get("dnr") for arende in root.iter(f"{{{SC}}}arende")]


def _arende(running: RunningSimulator, dnr: str) -> etree._Element:
    return _soap(running, f'<GetArende xmlns="{SC}"><dnr>{dnr}</dnr></GetArende>').find(f".//{{{SC}}}GetArendeResult")


def _officer(running: RunningSimulator, body: object) -> requests.Response:
    return requests.post(f"{running.base_url}/_sim/officer", json=body, timeout=10)


def test_each_action_marks_the_case_updated_and_the_replies_show_it(sim):
    app = sim.app
    other = app.seed_case("KUMLA STENEN", "1:24")  # registered first: it has not changed since any "before" below
    dnr = app.seed_case("KUMLA STENEN", "1:23")
    today = datetime.now(STOCKHOLM).date().isoformat()
    actions = [
        lambda: app.assign_handler(dnr),
        lambda: app.request_supplement(dnr),
        lambda: app.add_handelse(dnr, handelsetyp="HANDLING", rubrik="Tjänsteanteckning", riktning="In"),
        lambda: app.decide(dnr),
        lambda: app.close(dnr),
    ]
    for action in actions:
        before = app.cases[dnr].updated
        action()
        assert app.cases[dnr].updated > before
        assert _updated_since(sim, before) == [dnr]  # the other case did not change

    arende = _arende(sim, dnr)
    assert arende.findtext(f"{{{AR}}}status") == "Avslutat"
    assert arende.findtext(f"{{{AR}}}slutDatum") == today == arende.findtext(f"{{{AR}}}uppdateradDatum")
    handlaggare = arende.find(f"{{{AR}}}handlaggare")
    assert (handlaggare.get("handlaggareId"), handlaggare.get("signatur")) == ("1602", "hand01")
    handelser = arende.findall(f"{{{AR}}}handelseLista/{{{AR}}}handelse")
    assert len(handelser) == 4  # the seeded grannhörande and three by the officer
    supplement, note, decision = handelser[1:]
    assert [supplement.findtext(f"{{{AR}}}{n}") for n in (
        "handelsetyp", "handelseutfall", "rubrik", "riktning", "arbetsmaterial")] == [
        "Atom", "Kv11", "Kompletteringsföreläggande - skickat", "Okänd", "true"]  # as ByggR's Atom writes it
    assert note.findtext(f"{{{AR}}}riktning") == "In" and note.find(f"{{{AR}}}handlingLista") is None
    assert (decision.findtext(f"{{{AR}}}handelsetyp"), decision.findtext(f"{{{AR}}}handelseslag")) == ("BESLUT", "GAAC")
    (dokument,) = decision.iterfind(f"{{{AR}}}handlingLista/{{{AR}}}handling/{{{AR}}}dokument")
    assert dokument.get("dokId") == app.cases[dnr].handelser[-1].documents[0].dok_id
    assert dokument.find(f"{{{AR}}}fil") is None  # metadata only, as GetArende answers
    assert _arende(sim, other).findtext(f"{{{AR}}}status") == "Pågående"


def _handlingar(handelse: etree._Element) -> list[tuple[str | None, str | None, str | None]]:
    """(handlingId, status, dokId) of each handling of a handelse, in order."""
    return [(h.get("handlingId"), h.findtext(f"{{{AR}}}status"), h.find(f"{{{AR}}}dokument").get("dokId"))
            for h in handelse.iterfind(f"{{{AR}}}handlingLista/{{{AR}}}handling")]


def test_a_decision_links_the_incoming_documents_and_its_own_goes_out(sim):
    """The shape of the Startbesked in Sundsvall's recorded reply: the application's documents (Inkommen) and the
    decision (Expedierad) in one handlingLista."""
    app = sim.app
    dnr = app.seed_case("KUMLA STENEN", "1:23")
    application = app.add_handelse(dnr, handelsetyp="ANSÖKAN", rubrik="Bygglov", riktning="In",
                                   document=("Ansökan.pdf", b"%PDF-1.4 ansokan"))
    supplement = app.add_handelse(dnr, handelsetyp="HANDLING", handelseslag="KOMPL", rubrik="Komplettering",
                                  riktning="In", document=("Ritning.pdf", b"%PDF-1.4 ritning"))
    app.add_handelse(dnr, handelsetyp="HANDLING", rubrik="Underrättelse", riktning="Ut",
                     document=("Brev.pdf", b"%PDF-1.4 brev"))  # went out: not one of the case's incoming documents
    decision = app.decide(dnr, rubrik="Startbesked")

    handelser = _arende(sim, dnr).findall(f"{{{AR}}}handelseLista/{{{AR}}}handelse")  # valid against the WSDL
    (incoming,), (komplettering,) = (_handlingar(handelser[1]), _handlingar(handelser[2]))
    assert incoming[1:] == ("Inkommen", application["dokId"]) and komplettering[1:] == ("Inkommen", supplement["dokId"])
    linked = _handlingar(handelser[-1])
    assert linked[:2] == [incoming, komplettering]  # the same handlingar, linked
    assert linked[2][1:] == ("Expedierad", decision["dokId"]) and len(linked) == 3
    assert handelser[-1].findtext(f"{{{AR}}}arbetsmaterial") == "false"
    assert handelser[-1].findtext(f"{{{AR}}}sekretess") == "false"
    record = app.cases[dnr].handelser[-1]
    assert [d.dok_id for d in record.documents] == [decision["dokId"]]  # no new document for a linked one
    assert app.counts()["duplicate_documents"][dnr] == 0


def test_a_draft_decision_goes_out_when_sent(sim):
    app = sim.app
    dnr = app.seed_case("KUMLA STENEN", "1:23")
    draft = app.decide(dnr, rubrik="Slutbesked", handelseslag="SLU", draft=True)

    def decision() -> etree._Element:
        return _arende(sim, dnr).findall(f"{{{AR}}}handelseLista/{{{AR}}}handelse")[-1]

    assert decision().findtext(f"{{{AR}}}arbetsmaterial") == "true"
    assert [status for _, status, _ in _handlingar(decision())] == ["Arbetsmtrl"]
    before = app.cases[dnr].updated
    assert app.send_out(dnr, draft["handelseId"]) == {"dnr": dnr, "handelseId": draft["handelseId"]}
    assert app.cases[dnr].updated > before and _updated_since(sim, before) == [dnr]
    assert decision().get("handelseId") == str(draft["handelseId"])
    assert decision().findtext(f"{{{AR}}}arbetsmaterial") == "false"
    assert _handlingar(decision())[0][1:] == ("Expedierad", draft["dokId"])
    with pytest.raises(ValueError, match="is no draft"):
        app.send_out(dnr, draft["handelseId"])
    with pytest.raises(ValueError, match="has no handelse 1"):
        app.send_out(dnr, 1)


def test_a_secret_decision_is_sekretess(sim):
    dnr = sim.app.seed_case("KUMLA STENEN", "1:23")
    sim.app.decide(dnr, secret=True)
    decision = _arende(sim, dnr).findall(f"{{{AR}}}handelseLista/{{{AR}}}handelse")[-1]
    assert (decision.findtext(f"{{{AR}}}sekretess"), decision.findtext(f"{{{AR}}}arbetsmaterial")) == ("true", "false")


def test_a_withdrawn_case_is_makulerat(sim):
    dnr = sim.app.seed_case("KUMLA STENEN", "1:23")
    assert sim.app.withdraw(dnr) == {"dnr": dnr, "status": "Makulerat"}

    arende = _arende(sim, dnr)
    assert arende.findtext(f"{{{AR}}}status") == "Makulerat"
    makulerad = arende.findtext(f"{{{AR}}}makulerDatum")
    assert (makulerad is None) == (sim.app.contract == "v4")  # v4 has no makulerDatum
    with pytest.raises(ValueError, match="is Makulerat, not Pågående"):
        sim.app.close(dnr)


def test_the_handler_shows_as_byggr_writes_it():
    with start_simulator(ByggrSimulator(reply_style="real")) as running:
        dnr = running.app.seed_case("KUMLA STENEN", "1:23")
        unassigned = _arende(running, dnr).find(f"{{{AR}}}handlaggare").get("handlaggareId")
        running.app.assign_handler(dnr, handlaggare_id=822, signatur="hel07sah", fornamn="Test", efternamn="Testorsson")
        handlaggare = _arende(running, dnr).find(f"{{{AR}}}handlaggare")

    assert unassigned == "-1"
    assert (handlaggare.get("handlaggareId"), handlaggare.get("signatur")) == ("822", "hel07sah")
    assert [e.text for e in handlaggare.iterfind(f"{{{AR}}}fornamn")] == ["Test", "Testorsson"]  # fornamn twice


@pytest.mark.parametrize("style", ["contract", "real"])
def test_get_document_serves_the_officers_document(style):
    content = b"%PDF-1.4 beslut" * 100
    with start_simulator(ByggrSimulator(reply_style=style)) as running:
        dnr = running.app.seed_case("KUMLA STENEN", "1:23")
        ids = running.app.add_handelse(dnr, handelsetyp="BESLUT", rubrik="Beslut", document=("Beslut 1.PDF", content))
        result = _soap(running, f'<GetDocument xmlns="{SC}"><documentId>{ids["dokId"]}</documentId>'
                       "<inkluderaFil>true</inkluderaFil></GetDocument>").find(f".//{{{SC}}}GetDocumentResult")

    assert result.get("dokId") == ids["dokId"] and result.findtext(f"{{{AR}}}namn") == "Beslut 1.PDF"
    fil = result.find(f"{{{AR}}}fil")
    assert fil.get("filAndelse") == "pdf"
    text = fil.findtext(f"{{{AR}}}filBuffer")
    assert base64.b64decode("".join(text.split())) == content
    if style == "real":  # indented lines of 76 characters, as the recorded reply has them
        lines = [line.strip() for line in text.strip().splitlines()]
        assert len(lines) > 1 and {len(line) for line in lines[:-1]} == {76}
        assert text.splitlines()[1].startswith("\t")


def test_the_default_decision_document_is_a_valid_pdf():
    pdf = decision_pdf("BN 2026-000001", "Beslut om bygglov (förenklat)", "2026-11-30")

    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
    xref = int(re.search(rb"startxref\n(\d+)\n", pdf).group(1))
    assert pdf[xref:].startswith(b"xref\n0 6\n")
    offsets = [int(entry[:10]) for entry in re.findall(rb"(\d{10} 00000 n )", pdf)]
    assert [pdf[offset:].split(b"\n", 1)[0] for offset in offsets] == [b"%d 0 obj" % n for n in range(1, 6)]
    length = int(re.search(rb"/Length (\d+)", pdf).group(1))
    stream = pdf.split(b"stream\n", 1)[1]
    assert stream[length:].startswith(b"\nendstream")
    assert b"Beslut om bygglov \\(f\xf6renklat\\)" in stream  # WinAnsi, parentheses escaped


def test_actions_refuse_what_an_officer_could_not_do():
    app = ByggrSimulator()
    dnr = app.seed_case("KUMLA STENEN", "1:23")
    with pytest.raises(UnknownCase):
        app.assign_handler("BN 1999-000001")
    with pytest.raises(ValueError, match="riktning"):
        app.add_handelse(dnr, handelsetyp="X", rubrik="x", riktning="Sideways")
    with pytest.raises(ValueError, match="file name"):
        app.decide(dnr, document=("../Beslut.pdf", b"x"))
    with pytest.raises(ValueError, match="no content"):
        app.decide(dnr, document=("Beslut.pdf", b""))
    with pytest.raises(ValueError, match="positive integer"):
        app.assign_handler(dnr, handlaggare_id=0)


# --- over HTTP -------------------------------------------------------------------------------------------


def test_officer_actions_over_http():
    with start_simulator("byggr") as running:
        dnr = running.app.seed_case("KUMLA STENEN", "1:23")
        since = running.app.cases[dnr].updated
        document = {"name": "Startbesked.pdf", "content_base64": base64.b64encode(b"%PDF-1.4 start").decode()}

        assigned = _officer(running, {"action": "assign_handler", "dnr": dnr, "handlaggare_id": 77})
        supplement = _officer(running, {"action": "request_supplement", "dnr": dnr})
        decided = _officer(running, {"action": "decide", "dnr": dnr, "rubrik": "Startbesked", "document": document})
        default = _officer(running, {"action": "decide", "dnr": dnr})  # with a generated Beslut.pdf
        draft = _officer(running, {"action": "decide", "dnr": dnr, "draft": True, "secret": True})
        sent = _officer(running, {"action": "send_out", "dnr": dnr, "handelse_id": draft.json()["handelseId"]})
        closed = _officer(running, {"action": "close", "dnr": dnr})
        updated = _updated_since(running, since)
        case = running.app.cases[dnr]

    assert assigned.json() == {"dnr": dnr, "handlaggareId": 77}
    assert supplement.json()["handelseId"] == case.handelser[1].handelse_id and supplement.json()["dokId"] is None
    assert decided.status_code == 200 and decided.json()["dokId"] == case.handelser[2].documents[0].dok_id
    assert case.handelser[2].documents[0].content == b"%PDF-1.4 start"
    assert default.json()["dokId"] == case.handelser[3].documents[0].dok_id
    assert case.handelser[3].documents[0].name == "Beslut.pdf"
    assert case.handelser[3].documents[0].content.startswith(b"%PDF-1.4")
    assert sent.json() == {"dnr": dnr, "handelseId": case.handelser[4].handelse_id}
    assert [case.handelser[4].element.findtext(f"{{{AR}}}{n}") for n in ("sekretess", "arbetsmaterial")] == [
        "true", "false"]
    assert closed.json() == {"dnr": dnr, "status": "Avslutat"}
    assert updated == [dnr] and case.handlaggare_id == "77"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"action": "close", "dnr": "BN 1999-000001"}, 404, "no arende with dnr"),
        ({"action": "promote", "dnr": "{dnr}"}, 400, "'action' must be one of"),
        ({"action": "close"}, 400, "'dnr' must be"),
        (["close"], 400, "must be a JSON object"),
        ({"action": "close", "dnr": "{dnr}", "rubrik": "x"}, 400, "close takes no rubrik"),
        ({"action": "assign_handler", "dnr": "{dnr}", "handlaggare_id": "1602"}, 400, "must be an integer"),
        ({"action": "decide", "dnr": "{dnr}", "document": {"name": "a.pdf"}}, 400, "'document' must be"),
        ({"action": "decide", "dnr": "{dnr}", "document": {"name": "a.pdf", "content_base64": "!!"}}, 400,
         "not valid base64"),
        ({"action": "add_handelse", "dnr": "{dnr}", "rubrik": "x"}, 400, "needs 'handelsetyp' and 'rubrik'"),
        ({"action": "request_supplement", "dnr": "{dnr}", "riktning": "In"}, 400, "takes no riktning"),
        ({"action": "decide", "dnr": "{dnr}", "draft": "yes"}, 400, "'draft' must be true or false"),
        ({"action": "send_out", "dnr": "{dnr}"}, 400, "send_out needs 'handelse_id'"),
        ({"action": "send_out", "dnr": "{dnr}", "handelse_id": "1"}, 400, "'handelse_id' must be an integer"),
        ({"action": "send_out", "dnr": "{dnr}", "handelse_id": 1}, 400, "has no handelse 1"),
    ],
)
def test_bad_officer_requests_are_refused_clearly(body, status, message):
    with start_simulator("byggr") as running:
        dnr = running.app.seed_case("KUMLA STENEN", "1:23")
        if isinstance(body, dict):
            body = {key: dnr if value == "{dnr}" else value for key, value in body.items()}
        answer = _officer(running, body)
        handelser = len(running.app.cases[dnr].handelser)

    assert answer.status_code == status and message in answer.text
    assert handelser == 1  # nothing was done


def test_the_officer_endpoint_takes_json_posts_only():
    with start_simulator("byggr") as running:
        not_json = requests.post(f"{running.base_url}/_sim/officer", data=b"{close", timeout=10)
        get = requests.get(f"{running.base_url}/_sim/officer", timeout=10)
        cases = requests.get(f"{running.base_url}/_sim/cases", timeout=10)  # the other views answer as before

    assert not_json.status_code == 400 and "not JSON" in not_json.text
    assert get.status_code == 405 and get.headers["Allow"] == "POST"
    assert cases.json() == []


def test_a_case_updated_earlier_today_is_not_reported_for_a_later_bound():
    with start_simulator("byggr") as running:
        dnr = running.app.seed_case("KUMLA STENEN", "1:23")
        running.app.assign_handler(dnr)
        later = running.app.cases[dnr].updated + timedelta(microseconds=1)
        assert _updated_since(running, later) == []
