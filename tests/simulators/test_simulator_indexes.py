"""The simulators find cases and orders through indexes, and the indexes give the answers a scan of every record
would, however many records there are and as they change."""

from __future__ import annotations

import pytest
import zeep
from zeep import xsd

from brygga_simulators.byggr.records import CaseRecord, a, norm
from brygga_simulators.workorder.store import WorkOrderStore


@pytest.fixture
def client(byggr):
    return zeep.Client(byggr.wsdl_url, settings=zeep.Settings(strict=True, forbid_dtd=True, forbid_entities=True))


def _save(client, extern_ref: str, trakt: str, fbet_nr: str, fnr: int | None = None) -> str:
    fastighet = client.get_type("{www.tekis.se/arende}arendeFastighet")
    place = {"trakt": trakt, "fbetNr": fbet_nr, **({"fnr": fnr} if fnr is not None else {})}
    arende = {
        "arendegrupp": "LOV", "arendetyp": "BL", "ankomstDatum": "2026-10-14", "externRef": extern_ref,
        "intressentLista": {"intressent": [{"namn": "Test Testsson", "rollLista": {"roll": ["SOK"]}}]},
        "objektLista": {"abstractArendeObjekt": [fastighet(arHuvudObjekt=True, fastighet=place)]},
    }
    return client.service.SaveNewArende(message={"Arende": arende, "AnkomststamplaHandlingar": False})


def _scan_property(cases: dict[str, CaseRecord], fnr: str | None, trakt: str | None, fbet_nr: str | None):
    def on_it(case: CaseRecord) -> bool:
        for position, (_, fastighet) in enumerate(case.fastigheter()):
            if fnr and case.fnr(position, fastighet) == fnr:
                return True
            designation = (norm(fastighet.findtext(a("trakt"))), norm(fastighet.findtext(a("fbetNr"))))
            if trakt and fbet_nr and designation == (norm(trakt), norm(fbet_nr)):
                return True
        return False

    return [dnr for dnr, case in cases.items() if on_it(case)]


def _scan_refs(cases: dict[str, CaseRecord]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for dnr, case in cases.items():
        if case.extern_ref:
            found.setdefault(case.extern_ref, []).append(dnr)
    return found


def test_byggr_property_and_extern_ref_lookups_answer_as_a_scan_would(byggr, client, monkeypatch):
    sim = byggr.app
    for number in range(40):  # five properties, eight cases each; every fourth on an FNR as well
        _save(client, f"1881:oep:{number}", "STENEN", f"1:{number % 5}", fnr=22040000 + number % 5
              if number % 4 == 0 else None)
    _save(client, "1881:oep:7", "STENEN", "1:2")  # a duplicate externRef
    for number in range(10):  # registered by an officer: no externRef
        sim.seed_case("stenen ", f" 1:{number % 3}", fnr=22049999 if number == 9 else None)
    cases = sim.cases
    assert len(cases) == 51

    # The answers come from the index alone: no case's properties or externRef are read.
    looked_at: list[str] = []
    original = CaseRecord.fastigheter
    monkeypatch.setattr(CaseRecord, "fastigheter", lambda self: looked_at.append(self.dnr) or original(self))
    monkeypatch.setattr(CaseRecord, "extern_ref", property(lambda self: looked_at.append(self.dnr)))
    by_property = {(fnr, f"1:{n}"): sim.cases_on_property(fnr=fnr, trakt="Stenen", fbet_nr=f"1:{n}")
                   for n in range(6) for fnr in (None, str(22040000 + n), "22049999")}
    by_ref = {ref: sim.cases_with_extern_ref(ref) for ref in [*(f"1881:oep:{n}" for n in range(41)), "none"]}
    per_ref = sim.counts()["cases_per_extern_ref"]
    assert looked_at == []
    monkeypatch.undo()

    for (fnr, fbet_nr), found in by_property.items():
        assert found == _scan_property(cases, fnr, "Stenen", fbet_nr), (fnr, fbet_nr)
    assert by_property[(None, "1:2")], "the properties are found at all"
    scanned_refs = _scan_refs(cases)
    assert by_ref == {ref: scanned_refs.get(ref, []) for ref in by_ref}
    assert len(by_ref["1881:oep:7"]) == 2
    assert per_ref == {ref: len(dnrs) for ref, dnrs in scanned_refs.items()}


def test_byggr_lookups_stay_right_as_cases_change_and_after_a_reset(byggr, client):
    sim = byggr.app
    first = _save(client, "1881:oep:1", "STENEN", "1:1", fnr=22044332)
    second = _save(client, "1881:oep:2", "STENEN", "1:1")
    sim.decide(first)  # a new handelse and, closed, another status: the case stays on its property
    sim.close(first)
    related = client.service.GetRelateradeArendenByFastighet(
        fnr=xsd.Nil, trakt="STENEN", fBetNr="1:1", arHuvudObjekt=xsd.Nil, statusFilter="Aktiv")
    assert [item.dnr for item in related] == [second]
    assert sim.cases_on_property(trakt="STENEN", fbet_nr="1:1") == [first, second]
    assert sim.cases_on_property(fnr=22044332) == [first]

    sim.reset()
    assert sim.cases_on_property(trakt="STENEN", fbet_nr="1:1") == []
    assert sim.cases_with_extern_ref("1881:oep:1") == []
    again = _save(client, "1881:oep:1", "STENEN", "1:1")
    assert sim.cases_with_extern_ref("1881:oep:1") == [again]


class _Unscannable(dict):
    def values(self):
        raise AssertionError("every order was walked through")

    def __iter__(self):
        raise AssertionError("every order was walked through")


def _scan_orders(store: WorkOrderStore, client: str, ref):
    return [order for owner, order in store.all_orders() if owner == client
            and (ref is None or order.get("externalRef") == ref)]


@pytest.mark.parametrize("flaws", [frozenset(), frozenset({"ignores-idempotency-key"})])
def test_work_order_searches_answer_as_a_scan_would(flaws):
    store = WorkOrderStore({"a": "x", "b": "y"}, 3600, flaws=flaws)
    repeats = bool(flaws)  # such a variant takes a reference again; the conforming one refuses it (409)
    for number in range(30):
        reference = f"1881:oep:{number % 10 if repeats else number}"
        store.create("a" if number % 3 else "b", {"externalRef": reference, "title": "Gatlykta"})
    for _ in range(3 if repeats else 1):
        store.create("a", {"title": "without a reference"})
    if flaws:  # such a variant also stores what is no string
        store.create("a", {"externalRef": ["odd"]})
    numbers = [order["orderNumber"] for _, order in store.all_orders()]
    store.set_status(numbers[4], "in_progress")
    store.add_note("a", numbers[5], "Lampan bytt")

    expected = {(client, ref): _scan_orders(store, client, ref)
                for client in ("a", "b", "c") for ref in [None, *(f"1881:oep:{n}" for n in range(31))]}
    store._orders = _Unscannable(store._orders)  # a search or a create that walks every order fails
    assert {key: store.search(*key) for key in expected} == expected
    store.create("c", {"externalRef": "1881:oep:99"})
    assert [o["externalRef"] for o in store.search("c", None)] == ["1881:oep:99"]


def test_work_orders_refuse_a_second_order_with_the_same_external_ref_per_client():
    store = WorkOrderStore({"a": "x", "b": "y"}, 3600)
    store.create("a", {"externalRef": "1881:oep:1"})
    store.create("b", {"externalRef": "1881:oep:1"})  # another client's reference is its own
    with pytest.raises(Exception, match="externalRef already exists"):
        store.create("a", {"externalRef": "1881:oep:1"})
    store.clear()
    store.create("a", {"externalRef": "1881:oep:1"})
    assert len(store.search("a", "1881:oep:1")) == 1
