"""The attefall e-service end to end into ByggR: FlowInstance XML -> canonical case -> ByggR payload -> simulator.

``samples/open-eplatform/attefall-utf8.xml`` is translated by ``mappings/open-eplatform/attefall.yaml`` (its
attachments decoded into a content store), the case by ``mappings/byggr/attefall.yaml``, and the payload is
delivered by the real byggr adapter to the ByggR simulator over a socket. The simulator must have registered an
anmälan (ärendegrupp ANM, ärendetyp ATT) with the applicant as SOK and the ombud as OMB, on the property, with
both drawings in the incoming handelse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from byggr_delivery import deliver_twice

from brygga.canonical import validate_case
from brygga.mapping import compile_mapping
from brygga.plugins import DeliveryRequest, StoredDocument
from brygga.storage import ContentStore

REPO = Path(__file__).resolve().parents[2]
INBOUND = REPO / "mappings" / "open-eplatform" / "attefall.yaml"
OUTBOUND = REPO / "mappings" / "byggr" / "attefall.yaml"
SAMPLE = REPO / "samples" / "open-eplatform" / "attefall-utf8.xml"
ARENDE = "{www.tekis.se/arende}"


@pytest.fixture(scope="module")
def inbound() -> Any:
    return compile_mapping(INBOUND)


@pytest.fixture(scope="module")
def outbound() -> Any:
    return compile_mapping(OUTBOUND)


def _intressenter(element: Any) -> list[tuple[str | None, list[str]]]:
    """(persOrgNr, roles) of each intressent of a registered arende, in order."""
    return [
        (
            intressent.get("persOrgNr"),  # an attribute in the WSDL
            [(roll.text or "").strip() for roll in intressent.iterfind(f"{ARENDE}rollLista/{ARENDE}roll")],
        )
        for intressent in element.iterfind(f"{ARENDE}intressentLista/{ARENDE}intressent")
    ]


def test_the_attefall_sample_is_registered_in_byggr_as_an_anmalan(inbound: Any, outbound: Any, tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "content")
    case = inbound.run(SAMPLE, blob_sink=store)
    assert validate_case(case) == []
    assert case["caseType"] == "attefall"
    payload = outbound.run(case)
    assert (payload["arendegrupp"], payload["arendetyp"]) == ("ANM", "ATT")

    documents = [
        StoredDocument(
            name=attachment["name"],
            media_type=attachment["mediaType"],
            size=attachment["size"],
            sha256=attachment["sha256"],
            path=store.path_for(attachment["sha256"]),
        )
        for attachment in case["attachments"]
    ]
    assert len(documents) == 2 and all(d.path.stat().st_size == d.size for d in documents)
    reference = case["source"]["reference"]
    request = DeliveryRequest(
        submission_id=f"sub-attefall-{reference}",
        idempotency_key=f"sub-attefall-{reference}:byggr",
        extern_ref=f"1881:open-eplatform:{reference}",
        payload=payload,
        case=case,
        documents=documents,
    )

    delivered = deliver_twice(request)
    receipt, again, record, registered = delivered.first, delivered.again, delivered.record, delivered.cases

    assert receipt.created is True
    assert receipt.external_ref.startswith("BN ")
    assert (again.external_ref, again.created, registered) == (receipt.external_ref, False, 1)
    assert record.extern_ref == request.extern_ref
    assert (record.element.get("arendegrupp"), record.element.get("arendetyp")) == ("ANM", "ATT")
    assert record.element.findtext(f"{ARENDE}beskrivning").startswith("Attefallsåtgärd: komplementbostadshus.")
    assert _intressenter(record.element) == [
        ("19780623-2489", ["SOK"]),  # the applicant, Karin Åkesson
        ("19650911-3574", ["OMB"]),  # the ombud, Per Söderström
    ]
    parties = record.element.iterfind(f"{ARENDE}intressentLista/{ARENDE}intressent")
    names = [i.findtext(f"{ARENDE}namn") for i in parties]
    assert names == ["Karin Åkesson", "Per Söderström"]
    ((_, fastighet),) = record.fastigheter()
    assert (fastighet.findtext(f"{ARENDE}trakt"), fastighet.findtext(f"{ARENDE}fbetNr")) == ("KUMLA SÖRBY", "3:14")
    (handelse,) = record.handelser
    assert [d.sha256 for d in handelse.documents] == [a["sha256"] for a in case["attachments"]]
