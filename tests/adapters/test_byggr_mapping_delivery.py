"""The outbound mapping mappings/byggr/bygglov.yaml: equal to the Python reference, and accepted by ByggR.

The mapping deliberately carries two things the reference (byggr_example_payload.py) leaves out; both are
aligned here explicitly, so any other difference fails:

- ``coAdress`` from the address's ``careOf`` (the WSDL's intressent has it; "c/o Ekonomiavdelningen" is
  where an invoice recipient's mail goes);
- ``komtyp`` ``TEL`` for a phone number that is not a Swedish mobile number (07..., +46 7...); the reference
  calls every number ``MOB``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from byggr_delivery import deliver_twice
from byggr_example_payload import example_payload_from_case
from lxml import etree

from brygga.mapping import compile_mapping
from brygga.plugins import DeliveryRequest, StoredDocument

REPO = Path(__file__).resolve().parents[2]
MAPPING = REPO / "mappings" / "byggr" / "bygglov.yaml"
EXAMPLES = REPO / "schemas" / "canonical" / "examples"
BYGGLOV_EXAMPLES = sorted(EXAMPLES.glob("bygglov-*.json"))
DNR = re.compile(r"^BN \d{4}-\d{6}$")
CONTRACT = "{www.tekis.se/ServiceContract}"
MOBILE = re.compile(r"^(?:(?:\+|00)46[ ()0-]*|0)7")


@pytest.fixture(scope="module")
def mapping() -> Any:
    return compile_mapping(MAPPING)


def _case(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _with_deliberate_differences(reference: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    expected = copy.deepcopy(reference)
    for intressent, party in zip(expected["intressentLista"]["intressent"], case["parties"], strict=True):
        care_of = (party.get("address") or {}).get("careOf")
        if care_of:
            intressent["coAdress"] = care_of
        lista = intressent.get("intressentKommunikationLista", {}).get("intressentKommunikation", [])
        for kommunikation in lista:
            if kommunikation["komtyp"] == "MOB" and not MOBILE.match(kommunikation["beskrivning"]):
                kommunikation["komtyp"] = "TEL"
    return expected


def test_there_are_bygglov_examples() -> None:
    assert {p.name for p in BYGGLOV_EXAMPLES} >= {"bygglov-person.json", "bygglov-organisation.json"}


@pytest.mark.parametrize("example", BYGGLOV_EXAMPLES, ids=lambda p: p.stem)
def test_mapping_equals_the_reference_payload(mapping: Any, example: Path) -> None:
    case = _case(example)
    payload = mapping.run(case)

    assert payload == _with_deliberate_differences(example_payload_from_case(case), case)
    assert "externRef" not in payload and "handelseLista" not in payload  # the adapter's business


def test_the_person_example_needs_no_alignment(mapping: Any) -> None:
    case = _case(EXAMPLES / "bygglov-person.json")
    assert mapping.run(case) == example_payload_from_case(case)


def test_the_deliberate_differences_show_in_the_organisation_example(mapping: Any) -> None:
    case = _case(EXAMPLES / "bygglov-organisation.json")
    organisation, contact = mapping.run(case)["intressentLista"]["intressent"]
    assert organisation["coAdress"] == "Ekonomiavdelningen"
    assert [k["komtyp"] for k in contact["intressentKommunikationLista"]["intressentKommunikation"]] == [
        "EPOST",
        "TEL",
    ]


def test_the_mapping_does_not_change_its_input(mapping: Any) -> None:
    case = _case(EXAMPLES / "bygglov-organisation.json")
    before = copy.deepcopy(case)
    mapping.run(case)
    assert case == before


def _document(tmp_path: Path, name: str, content: bytes) -> StoredDocument:
    digest = hashlib.sha256(content).hexdigest()
    path = tmp_path / digest
    path.write_bytes(content)
    return StoredDocument(name=name, media_type="application/pdf", size=len(content), sha256=digest, path=path)


@pytest.mark.parametrize("example", BYGGLOV_EXAMPLES, ids=lambda p: p.stem)
def test_mapped_payload_is_delivered_to_the_simulator(mapping: Any, example: Path, tmp_path: Path) -> None:
    case = _case(example)
    payload = mapping.run(case)
    documents = [_document(tmp_path, "Situationsplan.pdf", b"%PDF-1.4 situationsplan " + example.stem.encode())]
    request = DeliveryRequest(
        submission_id=f"sub-{example.stem}",
        idempotency_key=f"sub-{example.stem}:byggr",
        extern_ref=f"brygga:sub-{example.stem}",
        payload=payload,
        case=case,
        documents=documents,
    )

    delivered = deliver_twice(request)
    receipt, again, record = delivered.first, delivered.again, delivered.record

    assert receipt.created is True
    assert DNR.match(receipt.external_ref)
    assert (again.external_ref, again.created) == (receipt.external_ref, False)  # found by trakt + fbetNr
    assert record.extern_ref == request.extern_ref
    ((_, fastighet), *_) = record.fastigheter()
    first_property = payload["objektLista"]["abstractArendeObjekt"][0]["fastighet"]
    assert (fastighet.findtext("{www.tekis.se/arende}trakt"), fastighet.findtext("{www.tekis.se/arende}fbetNr")) == (
        first_property["trakt"],
        first_property["fbetNr"],
    )
    (handelse,) = record.handelser
    assert [d.sha256 for d in handelse.documents] == [d.sha256 for d in documents]


def test_a_property_key_is_mapped_as_fnr_and_searched_by(mapping: Any, tmp_path: Path) -> None:
    case = _case(REPO / "mappings" / "byggr" / "testdata" / "bygglov-with-fastighetsnyckel.json")
    payload = mapping.run(case)
    assert payload == example_payload_from_case(case)
    request = DeliveryRequest(
        submission_id="sub-fnr",
        idempotency_key="sub-fnr:byggr",
        extern_ref="1881:open-eplatform:4001",
        payload=payload,
        case=case,
        documents=[_document(tmp_path, "Situationsplan.pdf", b"%PDF-1.4 fnr")],
    )

    delivered = deliver_twice(request)
    receipt, again, record = delivered.first, delivered.again, delivered.record
    searches = [_search_keys(raw) for raw in delivered.requests if b"GetRelateradeArendenBy" in raw]

    assert (again.external_ref, again.created) == (receipt.external_ref, False)
    first, second = (fastighet.get("fnr") for _, fastighet in record.fastigheter())
    assert (first, second) == ("22044332", None)
    # Each property is searched by its best key: the FNR where known, else the designation. The retry stops at
    # the first property, where it finds the case.
    by_fnr, by_designation = ("22044332", None, None), (None, "KUMLA STENEN", "1:24")
    assert searches == [by_fnr, by_designation, by_fnr]


def _search_keys(raw: bytes) -> tuple[str | None, str | None, str | None]:
    search = next(etree.fromstring(raw).iter(f"{CONTRACT}GetRelateradeArendenByFastighet"))
    return tuple(search.findtext(f"{CONTRACT}{name}") or None for name in ("fnr", "trakt", "fBetNr"))
