"""A felanmälan end to end into the work-order system: the Open ePlatform sample, its canonical case, the
work-order mapping, RestTarget, and the simulator holding the order with the right fields and the photo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from rest_workorder import WORK_ORDER_CONFIG, connection_to

from brygga.mapping import compile_mapping
from brygga.pipeline.keys import extern_ref, idempotency_key
from brygga.plugins import DeliveryRequest, StoredDocument
from brygga.storage import ContentStore
from brygga_adapters.rest import RestTarget
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.workorder import WorkOrderSimulator

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "samples/open-eplatform/felanmalan-gatlykta.xml"
PHOTO_SHA256 = "58ff1d6c8124bc4991e4fba43dcad2f5743972ef8572b1ff97bc98623cfb019a"


@pytest.fixture
def system() -> Iterator[RunningSimulator]:
    # Its own client, so the order's "client" shows whose credentials created it; conftest clears the token cache.
    with start_simulator(WorkOrderSimulator, clients="kumla:k-secret") as running:
        yield running


def felanmalan_request(content: ContentStore) -> DeliveryRequest:
    case = compile_mapping(ROOT / "mappings/open-eplatform/felanmalan.yaml").run(SAMPLE, blob_sink=content)
    payload = compile_mapping(ROOT / "mappings/workorder/felanmalan.yaml").run(case)
    tenant = case["tenant"]["kommunkod"]
    return DeliveryRequest(submission_id="sub-4711", idempotency_key=idempotency_key(case, tenant, "workorder"),
                           extern_ref=extern_ref(case, tenant), payload=payload, case=case,
                           documents=[StoredDocument(name=a["name"], media_type=a["mediaType"], size=a["size"],
                                                     sha256=a["sha256"], path=content.path_for(a["sha256"]))
                                      for a in case["attachments"]])


def test_the_gatlykta_sample_becomes_a_work_order_with_its_photo(system, tmp_path):
    request = felanmalan_request(ContentStore(tmp_path / "content"))
    # WORK_ORDER_CONFIG is the target config a route gives (routes.yaml: targets[].config) for this system.
    target = RestTarget(WORK_ORDER_CONFIG, connection_to(system, "workorder_kumla", login="kumla", password="k-secret"))

    receipt = target.deliver(request)
    again = target.deliver(request)  # a retry: found by externalRef, nothing sent twice

    assert receipt.created is True and receipt.external_ref == "AO-2026-00001"
    assert (again.external_ref, again.created) == (receipt.external_ref, False)
    order = system.app.order(receipt.external_ref)
    assert order["client"] == "kumla" and order["status"] == "registered"
    assert order["externalRef"] == "1881:open-eplatform:4711"  # written by the adapter, not the mapping
    assert order["category"] == "belysning"
    assert order["title"] == "Felanmälan: Belysning"
    assert order["description"].startswith("Gatlyktan vid övergångsstället är släckt sedan i fredags.")
    assert order["location"] == {
        "address": "Sörbyvägen vid övergångsstället mot Sörbyskolan (SWEREF 99 TM N 6551234.5, E 507654.2)"}
    assert order["reporter"] == {"name": "Elin Björk", "email": "elin.bjork@example.se", "phone": "073-555 98 76"}
    assert order["reportedAt"] == "2026-11-23T17:42:10+01:00"
    assert order["priority"] == "normal"  # the system's default: the mapping sets none
    assert [(a["name"], a["mediaType"], a["size"], a["sha256"]) for a in order["attachments"]] == [
        ("Gatlyktan.png", "image/png", 69, PHOTO_SHA256)]
    assert system.app.counts()["orders"] == 1
