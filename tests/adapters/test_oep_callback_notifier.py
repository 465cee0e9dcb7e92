"""OepCallbackNotifier against the IntegrationCallback simulator over real HTTP."""

from __future__ import annotations

from types import SimpleNamespace

import jsonschema
import pytest

from brygga.errors import ConfigError, TargetRejected
from brygga.plugins import PREFLIGHT, StatusNotifier, StatusUpdate, adapter_class
from brygga_adapters.oep_callback import OepCallbackNotifier
from brygga_adapters.oep_callback.variants import check_wsdl_fits
from brygga_simulators import start_simulator


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


# --- variants: upstream and Sundsvall ------------------------------------------------------------------------


@pytest.fixture
def sundsvall_sim():
    with start_simulator("oep-callback", variant="sundsvall") as running:
        yield running


def _update(reference: str = "1001") -> StatusUpdate:
    return StatusUpdate(reference, "Mottaget", "Ditt ärende är registrerat.", external_ref="BN 2026-000001")


def test_variant_defaults_to_upstream_and_unknown_variants_are_refused(callback_connection):
    assert OepCallbackNotifier({}, callback_connection).config["variant"] == "upstream"
    with pytest.raises(ConfigError, match="variant"):
        OepCallbackNotifier({"variant": "stockholm"}, callback_connection)


def test_upstream_leaves_read_receipt_out_unless_asked_for(callback_sim, connect):
    OepCallbackNotifier({}, connect(callback_sim, "oep")).notify(_update())
    OepCallbackNotifier({"read_receipt_enabled": True}, connect(callback_sim, "oep")).notify(_update())

    first, second = (call.fields["message"] for call in callback_sim.app.calls_for("addMessage"))
    assert "readReceiptEnabled" not in first
    assert second["readReceiptEnabled"] == "true"


@pytest.mark.parametrize("wanted, sent", [(False, "false"), (True, "true")])
def test_sundsvall_always_sends_read_receipt(sundsvall_sim, connect, wanted, sent):
    notifier = OepCallbackNotifier(
        {"variant": "sundsvall", "read_receipt_enabled": wanted}, connect(sundsvall_sim, "oep-sundsvall")
    )

    notifier.notify(_update())

    calls = sundsvall_sim.app.calls
    assert [call.operation for call in calls] == ["setStatus", "addMessage", "confirmDelivery"]
    message = calls[1].fields["message"]
    assert message["readReceiptEnabled"] == sent
    assert "BN 2026-000001" in message["message"]
    # The Sundsvall contract puts readReceiptEnabled after userID; zeep followed the served WSDL.
    raw = next(r for r in sundsvall_sim.app.captured_requests if b"addMessage" in r)
    assert raw.index(b"userID>") < raw.index(b"readReceiptEnabled>")


def test_sundsvall_notifier_also_fits_an_upstream_endpoint(callback_sim, connect):
    OepCallbackNotifier({"variant": "sundsvall"}, connect(callback_sim, "oep")).notify(_update())

    assert callback_sim.app.calls_for("addMessage")[0].fields["message"]["readReceiptEnabled"] == "false"


def test_upstream_notifier_against_a_sundsvall_endpoint_is_refused_before_any_call(sundsvall_sim, connect):
    # A configuration mistake (the variant), not a refusal of the update.
    with pytest.raises(ConfigError, match=r"requires readReceiptEnabled.*variant: sundsvall"):
        OepCallbackNotifier({}, connect(sundsvall_sim, "oep-sundsvall")).notify(_update())

    assert sundsvall_sim.app.calls == []  # not half-sent: no status without its message


def _wsdl_with_message_fields(**min_occurs: int) -> SimpleNamespace:
    # What check_wsdl_fits reads of a SoapService: IntegrationMessage's elements and their minOccurs.
    message_type = SimpleNamespace(elements=[(name, SimpleNamespace(min_occurs=n)) for name, n in min_occurs.items()])
    return SimpleNamespace(get_type=lambda qname: message_type)


@pytest.mark.parametrize(
    ("variant", "fields", "fix"),
    [
        ("upstream", {"userID": 1, "readReceiptEnabled": 1}, "set the notifier config variant: sundsvall"),
        ("sundsvall", {"userID": 1}, "set the notifier config variant: upstream"),
    ],
)
def test_a_wsdl_of_the_other_variant_is_a_config_error(variant, fields, fix):
    with pytest.raises(ConfigError, match=rf"oep-callback oep-kumla\.addMessage: .*{fix}"):
        check_wsdl_fits(variant, _wsdl_with_message_fields(**fields), "oep-kumla")


def test_upstream_without_message_still_works_against_a_sundsvall_endpoint(sundsvall_sim, connect):
    notifier = OepCallbackNotifier({"add_message": False}, connect(sundsvall_sim, "oep-sundsvall"))

    notifier.notify(_update())

    assert [call.operation for call in sundsvall_sim.app.calls] == ["setStatus", "confirmDelivery"]


# --- preflight: the flowInstanceID rule at translate ---------------------------------------------------------


def _case(reference: object) -> dict:
    return {"source": {"system": "open-eplatform", "reference": reference}}


def test_preflight_is_the_plugin_convention():
    assert callable(getattr(OepCallbackNotifier, PREFLIGHT))


@pytest.mark.parametrize("reference", ["1001", "1", " 77 ", "2147483647", 42])
def test_preflight_accepts_flow_instance_ids(reference):
    assert OepCallbackNotifier.preflight({}, _case(reference), None) == []


@pytest.mark.parametrize(
    "reference",
    ["abc", "0", "-5", "+5", "1_000", "1.5", "", "2147483648", "99999999999", "١٢٣", "BN 2026-000001", True, 0],
)
def test_preflight_refuses_what_can_never_be_a_flow_instance_id(reference):
    # One fixed text for every bad value: it names the field and the rule, so it cannot carry the value.
    assert OepCallbackNotifier.preflight({}, _case(reference), None) == [
        "source.reference: must be an Open ePlatform flowInstanceID, a positive whole number up to 2147483647 "
        "(xs:int) (oep-callback notifier)"
    ]


def test_preflight_names_a_missing_reference():
    assert OepCallbackNotifier.preflight({}, {"source": {"system": "open-eplatform"}}, None) == [
        "source.reference: missing; the oep-callback notifier needs the flowInstanceID to report back"
    ]
    assert OepCallbackNotifier.preflight({}, {}, None)[0].startswith("source.reference: missing")


def test_notify_refuses_a_reference_beyond_xs_int_without_calling(callback_connection, callback_sim):
    with pytest.raises(TargetRejected, match=r"source_reference must be an Open ePlatform flowInstanceID"):
        OepCallbackNotifier({}, callback_connection).notify(StatusUpdate("2147483648", "Mottaget", "x"))

    assert callback_sim.app.calls == []
