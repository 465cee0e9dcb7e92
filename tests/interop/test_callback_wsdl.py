"""What Brygga sends to Open ePlatform must be valid against its published IntegrationCallback contract."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree
from soap_capture import schema_errors, sent_payloads

from brygga.connections import Connection
from brygga.plugins import StatusUpdate
from brygga_adapters.oep_callback import OepCallbackNotifier
from brygga_adapters.soap import clear_soap_cache, soap_service
from brygga_simulators import RunningSimulator, start_simulator
from brygga_simulators.wsdl_schema import compile_wsdl_schema

pytestmark = pytest.mark.interop



@pytest.fixture(scope="module")
def real_schema(shared_reference: Path) -> etree.XMLSchema:
    folder = shared_reference / "open-eplatform/callback-upstream"
    return compile_wsdl_schema(
        (folder / "IntegrationCallbackService.wsdl").read_bytes(),
        {"IntegrationCallbackService.xsd": (folder / "IntegrationCallbackService.xsd").read_bytes()},
    )


@pytest.fixture
def callback() -> Iterator[RunningSimulator]:
    clear_soap_cache()
    with start_simulator("oep-callback") as running:
        yield running
    clear_soap_cache()


def test_notifier_calls_validate_against_the_real_callback_schema(callback, real_schema):
    connection = Connection.from_uri("oep", f"{callback.url}?allow_http=true")
    notifier = OepCallbackNotifier({"status_ids": {"Beslut": 7}}, connection)
    notifier.notify(
        StatusUpdate("1001", "Mottaget", "Ditt ärende är registrerat.", external_ref="BN 2026-000001")
    )
    notifier.notify(StatusUpdate("1001", "Beslut", "Beslut fattat."))
    soap_service(connection).call("addEvent", flowInstanceID=1001, date=datetime.now(), message="Levererat")

    payloads = sent_payloads(callback.app)
    assert [etree.QName(p).localname for p in payloads] == [
        "setStatus",
        "addMessage",
        "confirmDelivery",
        "setStatus",
        "addMessage",
        "addEvent",
    ]
    for payload in payloads:
        assert not schema_errors(real_schema, payload), (
            f"{etree.QName(payload).localname}: {real_schema.error_log.last_error}"
        )


def test_the_real_schema_does_catch_an_invalid_call(callback, real_schema):
    connection = Connection.from_uri("oep", f"{callback.url}?allow_http=true")
    OepCallbackNotifier({}, connection).notify(
        StatusUpdate("1001", "Mottaget", "x", external_ref="BN 2026-000001")
    )
    confirm = next(p for p in sent_payloads(callback.app) if etree.QName(p).localname == "confirmDelivery")
    delivered = confirm.find("{*}delivered")
    confirm.remove(delivered)

    assert schema_errors(real_schema, confirm)
