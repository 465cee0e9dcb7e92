"""The IntegrationCallback simulator records calls and answers like Open ePlatform."""

from __future__ import annotations

from datetime import datetime

import pytest
import requests
import zeep


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
