"""OepCallbackNotifier against the IntegrationCallback simulator over real HTTP."""

from __future__ import annotations

import jsonschema
import pytest

from brygga.errors import TargetRejected
from brygga.plugins import StatusNotifier, StatusUpdate, adapter_class
from brygga_adapters.oep_callback import OepCallbackNotifier


def test_found_by_entry_point_and_spec_is_valid(callback_connection):
    assert adapter_class("oep-callback") is OepCallbackNotifier
    assert isinstance(OepCallbackNotifier({}, callback_connection), StatusNotifier)
    jsonschema.Draft202012Validator.check_schema(OepCallbackNotifier.config_spec)


def test_notify_sets_status_adds_message_and_confirms_delivery(callback_connection, callback_sim):
    notifier = OepCallbackNotifier({}, callback_connection)

    notifier.notify(
        StatusUpdate(
            source_reference="1001",
            status="Mottaget",
            message="Ditt ärende är registrerat.",
            external_ref="BN 2026-000001",
        )
    )

    calls = callback_sim.app.calls
    assert [call.operation for call in calls] == ["setStatus", "addMessage", "confirmDelivery"]
    assert all(call.fields["flowInstanceID"] == 1001 for call in calls)
    assert calls[0].fields["statusAlias"] == "Mottaget"
    assert "BN 2026-000001" in calls[1].fields["message"]["message"]
    assert calls[2].fields["delivered"] == "true"
    assert calls[2].fields["externalID"] == {"ID": "BN 2026-000001", "System": "ByggR"}


def test_status_ids_and_no_confirmation_without_dnr(callback_sim, connect):
    notifier = OepCallbackNotifier({"status_ids": {"Beslut": 42}}, connect(callback_sim, "oep"))

    notifier.notify(StatusUpdate(source_reference="77", status="Beslut", message="Beslut fattat."))

    assert [call.operation for call in callback_sim.app.calls] == ["setStatus", "addMessage"]
    assert callback_sim.app.calls[0].fields["statusID"] == "42"


def test_message_already_naming_dnr_is_sent_as_is(callback_connection, callback_sim):
    OepCallbackNotifier({}, callback_connection).notify(
        StatusUpdate("5", "Mottaget", "Ärende BN 2026-000009 är registrerat.", external_ref="BN 2026-000009")
    )

    assert callback_sim.app.calls_for("addMessage")[0].fields["message"]["message"] == (
        "Ärende BN 2026-000009 är registrerat."
    )


def test_unknown_flow_instance_is_rejected(callback_connection, callback_sim):
    callback_sim.app.known_flow_instances = {1}

    with pytest.raises(TargetRejected, match="setStatus refused: setStatus: unknown flowInstanceID"):
        OepCallbackNotifier({}, callback_connection).notify(StatusUpdate("2", "Mottaget", "x"))


def test_non_numeric_reference_is_rejected(callback_connection):
    with pytest.raises(TargetRejected, match="flowInstanceID"):
        OepCallbackNotifier({}, callback_connection).notify(StatusUpdate("abc", "Mottaget", "x"))
