"""The IntegrationCallback simulator records calls and answers like Open ePlatform."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests
import zeep

from brygga.xmlsafe import parse_xml
from brygga_simulators import start_simulator
from brygga_simulators.oep_callback import OepCallbackSimulator


@pytest.fixture
def client(callback):
    return zeep.Client(callback.wsdl_url)


def test_records_every_operation(client, callback):
    assert client.service.setStatus(flowInstanceID=1001, statusAlias="Mottaget") > 0
    client.service.addMessage(
        flowInstanceID=1001, message={"added": datetime.now(), "message": "Hej", "userID": "brygga"}
    )
    client.service.addEvent(flowInstanceID=1001, date=datetime.now(), message="Levererat")
    client.service.confirmDelivery(
        flowInstanceID=1001, externalID={"ID": "BN 2026-000001", "System": "ByggR"}, delivered=True
    )

    assert [c.operation for c in callback.app.calls] == [
        "setStatus",
        "addMessage",
        "addEvent",
        "confirmDelivery",
    ]
    assert callback.app.calls_for("confirmDelivery")[0].fields["externalID"]["ID"] == "BN 2026-000001"
    calls = requests.get(callback.base_url + "/_sim/calls", timeout=10).json()
    assert calls[0] == {
        "operation": "setStatus",
        "fields": {"flowInstanceID": 1001, "statusAlias": "Mottaget"},
    }


def test_unknown_status_alias_is_a_fault_and_not_recorded(client, callback):
    callback.app.known_status_aliases = {"Mottaget"}

    with pytest.raises(zeep.exceptions.Fault, match="unknown statusAlias"):
        client.service.setStatus(flowInstanceID=1, statusAlias="Okänd")
    assert callback.app.calls == []


def test_message_is_required_by_schema(callback, post_soap):
    ns = "http://www.oeplatform.org/version/1.0/schemas/integration/callback"
    response = post_soap(
        callback, f'<addMessage xmlns="{ns}"><flowInstanceID>1</flowInstanceID></addMessage>'
    )

    assert response.status_code == 500
    assert b"message" in response.content
    assert callback.app.calls == []


# --- the Sundsvall variant ---------------------------------------------------------------------------------

NS = "http://www.oeplatform.org/version/1.0/schemas/integration/callback"


def _add_message(read_receipt: str | None) -> str:
    receipt = "" if read_receipt is None else f"<readReceiptEnabled>{read_receipt}</readReceiptEnabled>"
    return (
        f'<addMessage xmlns="{NS}"><flowInstanceID>7</flowInstanceID><message>'
        "<added>2026-10-14T09:12:44+02:00</added><message>Hej</message><userID>brygga</userID>"
        f"{receipt}</message></addMessage>"
    )


@pytest.fixture
def sundsvall():
    with start_simulator("oep-callback", variant="sundsvall") as running:
        yield running


def test_sundsvall_variant_serves_its_own_wsdl(sundsvall, callback):
    def read_receipt(running):
        wsdl = parse_xml(requests.get(running.wsdl_url, timeout=10).content)
        (element,) = [e for e in wsdl.iter("{http://www.w3.org/2001/XMLSchema}element")
                      if e.get("name") == "readReceiptEnabled"]
        return element.get("minOccurs", "1")

    assert read_receipt(sundsvall) == "1"
    assert read_receipt(callback) == "0"
    assert requests.get(sundsvall.base_url + "/_sim/variant", timeout=10).json() == {"variant": "sundsvall"}


def test_sundsvall_refuses_add_message_without_read_receipt(sundsvall, post_soap):
    response = post_soap(sundsvall, _add_message(None))

    assert response.status_code == 500
    assert b"readReceiptEnabled" in response.content
    assert sundsvall.app.calls == []


def test_sundsvall_records_add_message_with_read_receipt(sundsvall, post_soap):
    assert post_soap(sundsvall, _add_message("true")).status_code == 200

    (call,) = sundsvall.app.calls
    assert call.fields["message"]["readReceiptEnabled"] == "true"


def test_upstream_takes_add_message_without_read_receipt(callback, post_soap):
    assert post_soap(callback, _add_message(None)).status_code == 200
    # ...but not in the Sundsvall position after userID: upstream orders it before.
    assert post_soap(callback, _add_message("false")).status_code == 500
    assert len(callback.app.calls) == 1


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="unknown callback variant"):
        OepCallbackSimulator(variant="stockholm")


def test_sundsvall_variant_through_zeep(sundsvall):
    client = zeep.Client(sundsvall.wsdl_url)
    client.service.addMessage(
        flowInstanceID=5,
        message={"added": datetime.now(), "message": "Hej", "userID": "brygga", "readReceiptEnabled": False},
    )
    client.service.setStatus(flowInstanceID=5, statusID=3)

    assert [c.operation for c in sundsvall.app.calls] == ["addMessage", "setStatus"]
