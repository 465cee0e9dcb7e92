"""The ByggR simulator's operations and business rules, driven through zeep as a client would."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
import requests
import zeep
from zeep import xsd

from brygga_simulators import start_simulator
from brygga_simulators.byggr import ByggrSimulator


@pytest.fixture
def client(byggr):
    return zeep.Client(
        byggr.wsdl_url, settings=zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True)
    )


def _arende(client, extern_ref="ref-1", roles=("SOK",), fbet_nr="1:23"):
    fastighet = client.get_type("{www.tekis.se/arende}arendeFastighet")
    return {
        "arendegrupp": "LOV",
        "arendetyp": "BL",
        "ankomstDatum": "2026-10-14",
        "externRef": extern_ref,
        "intressentLista": {"intressent": [{"namn": "Test Testsson", "rollLista": {"roll": list(roles)}}]},
        "objektLista": {
            "abstractArendeObjekt": [
                fastighet(arHuvudObjekt=True, fastighet={"trakt": "STENEN", "fbetNr": fbet_nr})
            ]
        },
    }


def _save(client, **kwargs):
    return client.service.SaveNewArende(
        message={"Arende": _arende(client, **kwargs), "AnkomststamplaHandlingar": False}
    )


def _handelse(client, dnr, content=b"%PDF-1.4 x"):
    return client.service.SaveNewHandelse(
        message={
            "Dnr": dnr,
            "Handelse": {
                "handelseId": 0,
                "riktning": "In",
                "rubrik": "Komplettering",
                "startDatum": datetime.now(),
                "sekretess": False,
                "makulerad": False,
                "arbetsmaterial": False,
            },
            "Handlingar": {
                "handling": [
                    {
                        "handlingId": 0,
                        "typ": "BIL",
                        "handlingDatum": "2026-10-14",
                        "makulerad": False,
                        "dokument": {"namn": "a.pdf", "fil": {"filBuffer": content}},
                    }
                ]
            },
            "BesvaradHandelseId": xsd.Nil,
            "AnkomststamplaHandlingar": True,
            "AutoGenereraBeslutNr": False,
        }
    )


def test_dnr_is_sequential_per_year(client):
    year = datetime.now().year
    assert _save(client, extern_ref="a") == f"BN {year}-000001"
    assert _save(client, extern_ref="b") == f"BN {year}-000002"


def test_year_rollover_restarts_numbering():
    clock = {"now": datetime(2026, 12, 31, 23, 0).astimezone()}
    app = ByggrSimulator(clock=lambda: clock["now"])
    with start_simulator(app) as running:
        client = zeep.Client(running.wsdl_url)
        _save(client, extern_ref="a")
        clock["now"] = datetime(2027, 1, 1, 8, 0).astimezone()
        assert _save(client, extern_ref="b") == "BN 2027-000001"


def test_applicant_is_required(client):
    with pytest.raises(zeep.exceptions.Fault, match="roll SOK"):
        _save(client, roles=("KPER",))


def test_handelse_on_unknown_dnr_is_a_fault(client):
    with pytest.raises(zeep.exceptions.Fault, match="no arende with dnr"):
        _handelse(client, "BN 2026-000404")


def test_handelse_keeps_document_bytes_and_get_arende_shows_metadata(client, byggr):
    dnr = _save(client)
    handelse_id = _handelse(client, dnr, content=b"hello pdf")

    arende = client.service.GetArende(dnr=dnr)
    (handelse,) = arende.handelseLista.handelse
    assert handelse.handelseId == handelse_id
    (handling,) = handelse.handlingLista.handling
    assert handling.dokument.namn == "a.pdf"
    assert handling.dokument.fil is None  # files are not sent back in GetArende
    (document,) = byggr.app.cases[dnr].handelser[0].documents
    assert document.sha256 == hashlib.sha256(b"hello pdf").hexdigest()
    assert arende.status == "Pågående"
    assert arende.externRef == "ref-1"


def test_handling_without_file_is_a_fault(client):
    dnr = _save(client)
    with pytest.raises(zeep.exceptions.Fault, match="filBuffer is required"):
        _handelse(client, dnr, content=b"")


def test_related_by_fastighet_finds_cases_by_trakt_and_number(client):
    dnr = _save(client)
    _save(client, extern_ref="other", fbet_nr="9:99")

    found = client.service.GetRelateradeArendenByFastighet(
        fnr=xsd.Nil, trakt="stenen", fBetNr="1:23", arHuvudObjekt=xsd.Nil, statusFilter="Aktiv"
    )
    assert [a.dnr for a in found] == [dnr]
    assert found[0].objektLista.abstractArendeObjekt[0].fastighet.fbetNr == "1:23"
    none = client.service.GetRelateradeArendenByFastighet(
        fnr=xsd.Nil, trakt="STENEN", fBetNr="1:23", arHuvudObjekt=xsd.Nil, statusFilter="Inaktiv"
    )
    assert not none


def test_related_by_fastighet_needs_a_key(client):
    with pytest.raises(zeep.exceptions.Fault, match="fnr, or both trakt and fBetNr"):
        client.service.GetRelateradeArendenByFastighet(
            fnr=xsd.Nil, arHuvudObjekt=xsd.Nil, statusFilter="None"
        )


def test_updated_arenden_by_batch_filter(client):
    before = datetime.now().astimezone() - timedelta(seconds=1)
    dnr = _save(client)

    batch = client.service.GetUpdatedArenden(
        filter={"LowerExclusiveBound": before, "UpperInclusiveBound": xsd.Nil}
    )
    assert [a.dnr for a in batch.Arenden.arende] == [dnr]
    later = client.service.GetUpdatedArenden(
        filter={"LowerExclusiveBound": datetime.now().astimezone(), "UpperInclusiveBound": xsd.Nil}
    )
    assert not later.Arenden


def test_inspection_view_has_no_personal_data(client, byggr):
    dnr = _save(client)
    _handelse(client, dnr)

    (case,) = requests.get(byggr.base_url + "/_sim/cases", timeout=10).json()
    assert case["dnr"] == dnr and case["externRef"] == "ref-1"
    assert case["handelser"][0]["documents"][0]["sha256"]
    assert "Testsson" not in str(case)
