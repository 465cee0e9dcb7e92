"""Each IntegrationCallback variant Brygga speaks is valid against its own real contract, and only against its own.

Upstream: Open ePlatform's IntegrationCallbackService WSDL+XSD. Sundsvall: the newer contract whose addMessage
requires readReceiptEnabled (after userID). The notifier runs against the simulator of each variant; the raw
requests it sent are validated against the real schema. The simulator's own Sundsvall WSDL is checked to accept
and refuse the same addMessage shapes as the real one.
"""

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
from brygga_simulators.oep_callback.service import WSDL_FILES
from brygga_simulators.wsdl_schema import compile_wsdl_schema

pytestmark = pytest.mark.interop

NS = "http://www.oeplatform.org/version/1.0/schemas/integration/callback"
REAL_CONTRACTS = {
    "upstream": ("callback-upstream", "IntegrationCallbackService.wsdl", "IntegrationCallbackService.xsd"),
    "sundsvall": ("callback-sundsvall", "callback.wsdl", "callback.xsd"),
}


@pytest.fixture(scope="module")
def real_schemas(shared_reference: Path) -> dict[str, etree.XMLSchema]:
    schemas = {}
    for variant, (folder, wsdl, xsd) in REAL_CONTRACTS.items():
        base = shared_reference / "open-eplatform" / folder
        schemas[variant] = compile_wsdl_schema((base / wsdl).read_bytes(), {xsd: (base / xsd).read_bytes()})
    return schemas


@pytest.fixture(params=sorted(REAL_CONTRACTS))
def variant(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def callback(variant: str) -> Iterator[RunningSimulator]:
    clear_soap_cache()
    with start_simulator("oep-callback", variant=variant) as running:
        yield running
    clear_soap_cache()


def _notify_all(running: RunningSimulator, variant: str) -> Connection:
    connection = Connection.from_uri("oep", f"{running.url}?allow_http=true")
    OepCallbackNotifier({"variant": variant, "status_ids": {"Beslut": 7}}, connection).notify(
        StatusUpdate("1001", "Mottaget", "Ditt ärende är registrerat.", external_ref="BN 2026-000001")
    )
    OepCallbackNotifier({"variant": variant, "read_receipt_enabled": True}, connection).notify(
        StatusUpdate("1001", "Beslut", "Beslut fattat.")
    )
    soap_service(connection).call("addEvent", flowInstanceID=1001, date=datetime.now(), message="Levererat")
    return connection


def test_each_variant_validates_against_its_own_real_contract(callback, variant, real_schemas):
    _notify_all(callback, variant)

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
        assert not schema_errors(real_schemas[variant], payload), (
            f"{variant} {etree.QName(payload).localname}: {real_schemas[variant].error_log.last_error}"
        )


def test_the_variants_differ_in_add_message_only(callback, variant, real_schemas):
    _notify_all(callback, variant)
    other = next(name for name in REAL_CONTRACTS if name != variant)

    refused = {etree.QName(p).localname for p in sent_payloads(callback.app) if schema_errors(real_schemas[other], p)}

    # Upstream's message lacks the field Sundsvall requires; Sundsvall's puts it where upstream does not allow it.
    assert refused == {"addMessage"}


def _add_message(fields: str) -> etree._Element:
    return etree.fromstring(
        f'<addMessage xmlns="{NS}"><flowInstanceID>7</flowInstanceID><message>'
        f"<added>2026-10-14T09:12:44+02:00</added>{fields}</message></addMessage>"
    )


@pytest.mark.parametrize(
    "fields",
    [
        "<message>Hej</message><userID>brygga</userID><readReceiptEnabled>false</readReceiptEnabled>",
        "<message>Hej</message><userID>brygga</userID>",
        "<message>Hej</message><readReceiptEnabled>true</readReceiptEnabled><userID>brygga</userID>",
        "<message>Hej</message><userID>brygga</userID><readReceiptEnabled>maybe</readReceiptEnabled>",
    ],
    ids=["sundsvall-order", "no-read-receipt", "upstream-order", "not-a-boolean"],
)
def test_our_sundsvall_wsdl_judges_add_message_like_the_real_one(real_schemas, fields):
    ours = compile_wsdl_schema(WSDL_FILES["sundsvall"].read_bytes())
    payload = _add_message(fields)

    assert bool(schema_errors(ours, payload)) == bool(schema_errors(real_schemas["sundsvall"], payload))


def test_our_upstream_wsdl_judges_add_message_like_the_real_one(real_schemas):
    ours = compile_wsdl_schema(WSDL_FILES["upstream"].read_bytes())
    for fields in (
        "<message>Hej</message><userID>brygga</userID>",
        "<message>Hej</message><readReceiptEnabled>true</readReceiptEnabled><userID>brygga</userID>",
        "<message>Hej</message><userID>brygga</userID><readReceiptEnabled>false</readReceiptEnabled>",
    ):
        payload = _add_message(fields)
        assert bool(schema_errors(ours, payload)) == bool(schema_errors(real_schemas["upstream"], payload)), fields


def test_the_real_schemas_do_catch_an_invalid_call(callback, variant, real_schemas):
    _notify_all(callback, variant)
    confirm = next(p for p in sent_payloads(callback.app) if etree.QName(p).localname == "confirmDelivery")
    confirm.remove(confirm.find("{*}delivered"))

    assert schema_errors(real_schemas[variant], confirm)
