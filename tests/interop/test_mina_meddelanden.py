"""The Mina meddelanden adapter and simulator against the REAL contract (../shared/reference/national/mina-meddelanden).

- Every request the adapter sends (captured by the simulator over https with mutual TLS) is valid against the real
  v3 XSDs: isReachable against schema/v3/Recipient.xsd, deliverSecure against schema/v3/Service.xsd (which pulls in
  Message v1/v2/v3, Sender, Recipient and W3C's xmldsig schema from the shared folder).
- The simulator's answers (isReachableResponse in each state, deliverSecureResponse, the applicationFault detail)
  are valid against the real XSDs too, so the adapter is tested against answers the real service could give.
- The simulator's subset WSDLs name the operations, messages, elements, port types, bindings, services, ports and
  SOAP actions of the real Recipient.wsdl and Service.wsdl.
- Both signatures of the delivery on the wire verify with signxml against the organisation's CA.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier

from brygga.connections import Connection
from brygga_adapters.mina_meddelanden import Attachment, DigitalMail, MinaMeddelandenMailbox
from brygga_simulators import RunningSimulator
from brygga_simulators.mina_meddelanden import SimulatorPki, start_secure

pytestmark = pytest.mark.interop

FOLDER = "national/mina-meddelanden"
SIMULATOR = Path(__file__).resolve().parents[2] / "simulators" / "mina_meddelanden"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
SVC3 = "http://minameddelanden.gov.se/schema/Service/v3"
M3 = "http://minameddelanden.gov.se/schema/Message/v3"
C3 = "http://minameddelanden.gov.se/schema/Common/v3"
DS = "http://www.w3.org/2000/09/xmldsig#"

RESIDENT = "198005122380"
NO_MAILBOX = "199001012385"
PENDING = "198503154570"
CONFIG = {
    "sender_organisationsnummer": "212000-1819",
    "sender_name": "Kumla kommun",
    "support_text": "Frågor om beslutet? Ring Kumla kommuns kontaktcenter.",
    "support_url": "https://www.kumla.se/kontakt",
    "support_phone": "019-58 80 00",
    "support_email": "kontaktcenter@kumla.se",
}


def _schema(shared_reference: Path, relative: str) -> etree.XMLSchema:
    # The real XSDs import each other by relative schemaLocation inside the shared folder; nothing from the network.
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(shared_reference / FOLDER / relative), parser))


@pytest.fixture(scope="module")
def recipient_xsd(shared_reference: Path) -> etree.XMLSchema:
    return _schema(shared_reference, "schema/v3/Recipient.xsd")


@pytest.fixture(scope="module")
def service_xsd(shared_reference: Path) -> etree.XMLSchema:
    return _schema(shared_reference, "schema/v3/Service.xsd")


@pytest.fixture(scope="module")
def common_xsd(shared_reference: Path) -> etree.XMLSchema:
    return _schema(shared_reference, "schema/v3/Common.xsd")


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[RunningSimulator, SimulatorPki]]:
    running, pki = start_secure(tmp_path, unreachable={NO_MAILBOX}, pending={PENDING})
    with running:
        yield running, pki


def _mailbox(running: RunningSimulator, pki: SimulatorPki) -> MinaMeddelandenMailbox:
    uri = (f"{running.base_url}?cert_file={pki.client_cert}&key_file={pki.client_key}&ca_bundle={pki.ca_file}")
    return MinaMeddelandenMailbox(dict(CONFIG), Connection.from_uri("mina_meddelanden_kumla", uri))


def _payload(envelope: bytes) -> etree._Element:
    root = etree.fromstring(envelope, etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True))
    (payload,) = [child for child in root.find(f"{{{SOAP}}}Body") if isinstance(child.tag, str)]
    return payload


def _valid(schema: etree.XMLSchema, element: etree._Element) -> list[str]:
    document = etree.ElementTree(etree.fromstring(etree.tostring(element), etree.XMLParser(huge_tree=True)))
    return [] if schema.validate(document) else [str(error) for error in schema.error_log]


def _post(running: RunningSimulator, pki: SimulatorPki, path: str, body: bytes) -> requests.Response:
    return requests.post(f"{running.base_url}{path}", data=body, cert=(str(pki.client_cert), str(pki.client_key)),
                         verify=str(pki.ca_file), headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=20)


def test_the_requests_the_adapter_sends_are_valid_against_the_real_v3_schemas(sim, recipient_xsd, service_xsd):
    running, pki = sim
    mailbox = _mailbox(running, pki)
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 4000

    assert mailbox.reachable(RESIDENT) is True
    mailbox.send(DigitalMail(RESIDENT, "Beslut i ärende BN 2026-000001", "Hej!\nBeslutet finns bifogat.", "ev-1",
                             (Attachment("Beslut.pdf", "application/pdf", pdf),
                              Attachment("Situationsplan.pdf", "application/pdf", pdf[::-1]))))

    is_reachable, deliver_secure = (_payload(raw) for raw in running.app.captured_requests)
    assert etree.QName(is_reachable).text == "{http://minameddelanden.gov.se/schema/Recipient/v3}isReachable"
    assert etree.QName(deliver_secure).text == f"{{{SVC3}}}deliverSecure"
    assert _valid(recipient_xsd, is_reachable) == []
    assert _valid(service_xsd, deliver_secure) == []
    assert running.app.deliveries[0].attachments[0].sha256 == hashlib.sha256(pdf).hexdigest()


def test_both_signatures_on_the_wire_verify_against_the_organisations_ca(sim):
    running, pki = sim
    _mailbox(running, pki).send(DigitalMail(RESIDENT, "Beslut", "Hej", "ev-2"))

    sealed = _payload(running.app.captured_requests[-1]).find(f"{{{SVC3}}}deliverSecure")
    for element in (sealed.find(f"{{{M3}}}SignedDelivery"), sealed):
        standalone = etree.fromstring(etree.tostring(element))
        result = XMLVerifier().verify(standalone, ca_pem_file=str(pki.ca_file),
                                      expect_config=SignatureConfiguration(location="./"))
        assert etree.QName(result.signed_xml).localname == etree.QName(element).localname


def test_the_simulators_answers_are_valid_against_the_real_v3_schemas(sim, recipient_xsd, service_xsd, common_xsd):
    running, pki = sim
    mailbox = _mailbox(running, pki)
    for recipient in (RESIDENT, NO_MAILBOX, PENDING):
        mailbox.reachable(recipient)
    mailbox.send(DigitalMail(RESIDENT, "Beslut", "Hej", "ev-3"))
    requests_sent = list(running.app.captured_requests)

    for raw in requests_sent[:3]:
        answer = _post(running, pki, "/Recipient/v3", raw)
        assert answer.status_code == 200
        assert _valid(recipient_xsd, _payload(answer.content)) == []
    delivered = _post(running, pki, "/Service/v3", requests_sent[3])
    assert delivered.status_code == 200
    assert _valid(service_xsd, _payload(delivered.content)) == []
    refused = _post(running, pki, "/Service/v3", requests_sent[3].replace(b"ev-3</", b"ev-X</", 1))
    assert refused.status_code == 500
    detail = etree.fromstring(refused.content).find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault/detail/{{{C3}}}applicationFault")
    assert _valid(common_xsd, detail) == []


def _wsdl_facts(path: Path) -> dict[str, object]:
    """Port types, bindings, services and ports by name; per operation its SOAP action and its messages' elements."""
    root = etree.parse(str(path)).getroot()

    def element_of(message_ref: str) -> str:
        name = message_ref.rpartition(":")[2]
        (part,) = root.find(f"{{{WSDL}}}message[@name='{name}']").findall(f"{{{WSDL}}}part")
        prefix, _, local = part.get("element").rpartition(":")
        return f"{{{part.nsmap[prefix]}}}{local}"

    operations = {}
    for binding in root.findall(f"{{{WSDL}}}binding"):
        for operation in binding.findall(f"{{{WSDL}}}operation"):
            name = operation.get("name")
            port_op = root.find(f"{{{WSDL}}}portType/{{{WSDL}}}operation[@name='{name}']")
            operations[name] = {
                "soapAction": operation.find(f"{{{WSDL_SOAP}}}operation").get("soapAction"),
                "input": element_of(port_op.find(f"{{{WSDL}}}input").get("message")),
                "output": element_of(port_op.find(f"{{{WSDL}}}output").get("message")),
                "faults": sorted(element_of(f.get("message")) for f in port_op.findall(f"{{{WSDL}}}fault")),
                "binding": binding.get("name"),
            }
    return {
        "targetNamespace": root.get("targetNamespace"),
        "portTypes": sorted(p.get("name") for p in root.findall(f"{{{WSDL}}}portType")),
        "services": sorted((s.get("name"), p.get("name"), p.get("binding").rpartition(":")[2])
                           for s in root.findall(f"{{{WSDL}}}service") for p in s.findall(f"{{{WSDL}}}port")),
        "operations": operations,
    }


@pytest.mark.parametrize("wsdl", ["Recipient.wsdl", "Service.wsdl"])
def test_the_subset_wsdls_name_what_the_real_ones_name(shared_reference, wsdl):
    real = _wsdl_facts(shared_reference / FOLDER / wsdl)
    ours = _wsdl_facts(SIMULATOR / wsdl)

    assert ours["targetNamespace"] == real["targetNamespace"]
    assert ours["portTypes"] == real["portTypes"]
    assert ours["services"] == real["services"]
    assert ours["operations"]
    for name, facts in ours["operations"].items():
        assert facts == real["operations"][name], name
