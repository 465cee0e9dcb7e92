"""The real WSDLs bind the right port and never downgrade https.

ByggR's published ArendeExportWS.wsdl lists two SOAP 1.1 ports for the same host: plain http first, https
second. zeep alone binds the first. Here the real WSDL is given through the ``wsdl`` extra (a local file: it is
read from ../shared/reference, never copied) while the simulators answer behind TLS with a certificate from a
throwaway CA, so what was posted, and over what, is measured on a real socket.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
import zeep
from archive_samples import stored
from soap_capture import schema_errors, sent_payloads
from tls_helpers import make_certificates, serve_app

from brygga.connections import Connection
from brygga.errors import ConfigError
from brygga.plugins import DeliveryRequest, StatusUpdate
from brygga_adapters.byggr import ByggrTarget
from brygga_adapters.oep_callback import OepCallbackNotifier
from brygga_adapters.soap import SoapService, clear_soap_cache, safe_settings
from brygga_simulators import start_simulator
from brygga_simulators.byggr import ByggrSimulator
from brygga_simulators.oep_callback import OepCallbackSimulator
from brygga_simulators.wsdl_schema import compile_wsdl_schema

pytestmark = pytest.mark.interop

ADAPTER_TESTS = Path(__file__).resolve().parents[1] / "adapters"


def _helper(name: str) -> ModuleType:
    # Helpers live with the adapter tests; load them by path (tests are not a package). Registered before
    # running, as dataclasses need their module in sys.modules.
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ADAPTER_TESTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module




@pytest.fixture(autouse=True)
def _fresh_clients() -> Iterator[None]:
    clear_soap_cache()
    yield
    clear_soap_cache()


@pytest.fixture(scope="module")
def byggr_wsdl(shared_reference: Path) -> Path:
    return shared_reference / "vertical-systems/byggr/ArendeExportWS.wsdl"


@pytest.fixture(scope="module")
def callback_wsdl(shared_reference: Path) -> Path:
    return shared_reference / "open-eplatform/callback-upstream/IntegrationCallbackService.wsdl"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory):
    return make_certificates(tmp_path_factory.mktemp("tls"))


def _https(server, path: str, certificates, wsdl: Path) -> Connection:
    return Connection.from_uri(
        "kumla",
        f"https://brygga:s3cret@localhost:{server.port}{path}?ca_bundle={certificates.ca_file}&wsdl={wsdl}",
    )


def _request(tmp_path: Path) -> DeliveryRequest:
    helper = _helper("byggr_example_payload")
    case = {
        "tenant": {"kommunkod": "1881"},
        "receivedAt": "2026-10-14T09:12:44+02:00",
        "title": "Ansökan om bygglov",
        "parties": [
            {"kind": "person", "roles": ["applicant"], "personnummer": "198005122380",
             "givenName": "Anna-Karin", "familyName": "Ström"},
        ],
        "properties": [{"fastighetsbeteckning": "KUMLA STENEN 1:23"}],
        "details": {"bygglov": {"description": "Nybyggnad av enbostadshus"}},
    }
    document = stored(tmp_path, "Situationsplan.pdf", b"%PDF-1.4 situationsplan", "application/pdf")
    return DeliveryRequest(
        "sub-1", "sub-1:byggr", "brygga:sub-1", helper.example_payload_from_case(case), case, [document]
    )


def test_the_real_byggr_wsdl_lists_plain_http_first(byggr_wsdl):
    # Guards the tests below: without Brygga's port choice, zeep binds the plain-http port.
    client = zeep.Client(str(byggr_wsdl), settings=safe_settings())
    ports = list(client.wsdl.services["ArendeExport"].ports.values())

    assert [(p.name, p.binding_options["address"].split(":")[0]) for p in ports] == [
        ("BasicHttpBinding_IExportArenden", "http"),
        ("BasicHttpBinding_IExportArenden1", "https"),
    ]
    assert client.service._binding_options["address"].startswith("http://")


def test_https_connection_binds_the_https_port_of_the_real_byggr_wsdl_and_delivers_over_tls(
    byggr_wsdl, certificates, tmp_path
):
    app = ByggrSimulator()
    with serve_app(app, certificates) as server:
        connection = _https(server, app.path, certificates, byggr_wsdl)
        service = SoapService(connection)
        receipt = ByggrTarget({"handelseslag": "Bygglov"}, connection).deliver(_request(tmp_path))

    assert (service.port.port, service.port.advertised_scheme) == ("BasicHttpBinding_IExportArenden1", "https")
    assert service.address == f"https://localhost:{server.port}{app.path}"  # not saas730.personal.sundsvall.se
    assert receipt.created and app.cases[receipt.external_ref].extern_ref == "brygga:sub-1"
    assert set(app.auth_users) == {"brygga"}  # the password went over TLS only: this server speaks nothing else

    real_schema = compile_wsdl_schema(byggr_wsdl.read_bytes())
    payloads = sent_payloads(app)
    assert payloads and [schema_errors(real_schema, p) for p in payloads] == [[]] * len(payloads)


def test_http_connection_allowed_for_a_simulator_binds_the_real_wsdls_http_port(byggr_wsdl):
    with start_simulator("byggr") as sim:
        service = SoapService(Connection.from_uri("byggr", f"{sim.url}?allow_http=true&wsdl={byggr_wsdl}"))

    assert service.port.port == "BasicHttpBinding_IExportArenden"
    assert service.address == sim.url


def test_plain_http_to_byggr_is_refused_without_allow_http(byggr_wsdl, tmp_path):
    with start_simulator("byggr") as sim:
        target = ByggrTarget({}, Connection.from_uri("byggr-kumla", f"{sim.url}?wsdl={byggr_wsdl}"))
        with pytest.raises(ConfigError, match=r"'byggr-kumla'.*rule: https-only"):
            target.deliver(_request(tmp_path))
        assert sim.app.captured_requests == []


def test_the_real_callback_wsdl_is_used_over_tls_although_it_advertises_http(callback_wsdl, certificates):
    # One SOAP 1.1 port advertising http (as behind a TLS-terminating proxy): bound, but posted over https.
    app = OepCallbackSimulator()
    with serve_app(app, certificates) as server:
        connection = _https(server, app.path, certificates, callback_wsdl)
        service = SoapService(connection)
        OepCallbackNotifier({}, connection).notify(
            StatusUpdate("1001", "Mottaget", "Ditt ärende är registrerat.", external_ref="BN 2026-000001")
        )

    assert (service.port.port, service.port.advertised_scheme) == ("IntegrationCallback", "http")
    assert service.address.startswith("https://localhost:")
    assert [call.operation for call in app.calls] == ["setStatus", "addMessage", "confirmDelivery"]


def test_a_wsdl_without_a_service_is_a_config_error(shared_reference, certificates):
    # Sundsvall's published callback WSDL has a portType only: there is nothing to bind, whatever the connection.
    wsdl = shared_reference / "open-eplatform/callback-sundsvall/callback.wsdl"
    app = OepCallbackSimulator()
    with serve_app(app, certificates) as server, pytest.raises(ConfigError, match="defines no service"):
        SoapService(_https(server, app.path, certificates, wsdl))
    assert app.captured_requests == []
