"""The Mina meddelanden simulator on its own, over raw HTTPS: mutual TLS, the two WSDLs, isReachable's answers,
deliverSecure's checks (schema, both signatures, reachability, checksums) and the views without personal data.

Requests are written here by hand and signed with signxml directly, independent of the adapter.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import CanonicalizationMethod

from brygga_simulators import RunningSimulator, simulator_class, start_simulator
from brygga_simulators.mina_meddelanden import MinaMeddelandenSimulator, SimulatorPki, make_test_pki, start_secure
from brygga_simulators.mina_meddelanden.certificates import TEST_ORGANISATIONSNUMMER, organisation_number

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
R3 = "http://minameddelanden.gov.se/schema/Recipient/v3"
R = "http://minameddelanden.gov.se/schema/Recipient"
SVC3 = "http://minameddelanden.gov.se/schema/Service/v3"
SVC = "http://minameddelanden.gov.se/schema/Service"
M3 = "http://minameddelanden.gov.se/schema/Message/v3"
M2 = "http://minameddelanden.gov.se/schema/Message/v2"
M = "http://minameddelanden.gov.se/schema/Message"
S = "http://minameddelanden.gov.se/schema/Sender"
C3 = "http://minameddelanden.gov.se/schema/Common/v3"
NS = {"r3": R3, "r": R, "svc3": SVC3, "svc": SVC, "c3": C3, "soap": SOAP}

RESIDENT = "198005122380"
NO_MAILBOX = "199001012385"
PENDING = "198503154570"
BLOCKED = "197506203319"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 100
SENDER = f"16{TEST_ORGANISATIONSNUMMER}"  # the organisation the test PKI's certificate is issued to
KINDA = "2120000514"  # Kinda kommun's organisationsnummer: another organisation


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimulatorPki:
    return make_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> SimulatorPki:
    return make_test_pki(tmp_path_factory.mktemp("other"), organisation="Främmande organisation")


@pytest.fixture
def sim(pki: SimulatorPki, tmp_path: Path) -> Iterator[RunningSimulator]:
    running, _ = start_secure(tmp_path, pki=pki, unreachable=[NO_MAILBOX], pending=PENDING, blocked={BLOCKED})
    with running:
        yield running


def _post(sim: RunningSimulator, pki: SimulatorPki, path: str, body: bytes) -> requests.Response:
    return requests.post(f"{sim.base_url}{path}", data=body, cert=(str(pki.client_cert), str(pki.client_key)),
                         verify=str(pki.ca_file), headers={"Content-Type": "text/xml; charset=utf-8",
                                                           "SOAPAction": '""'}, timeout=10)


def _envelope(payload: bytes) -> bytes:
    return b'<s:Envelope xmlns:s="' + SOAP.encode() + b'"><s:Body>' + payload + b"</s:Body></s:Envelope>"


def _is_reachable(*recipients: str, sender: str = SENDER) -> bytes:
    ids = "".join(f"<r3:recipientId>{r}</r3:recipientId>" for r in recipients)
    return _envelope(f'<r3:isReachable xmlns:r3="{R3}"><r3:senderOrgNr>{sender}</r3:senderOrgNr>{ids}'
                     "</r3:isReachable>".encode())


def _sign(element: etree._Element, signer: SimulatorPki) -> etree._Element:
    return XMLSigner(c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0).sign(
        element, key=signer.client_key.read_bytes(), cert=signer.client_cert.read_text())


def _delivery(signer: SimulatorPki, recipient: str = RESIDENT, checksum: str | None = None,
              seal_signer: SimulatorPki | None = None, reference: str = "ev-1", sender: str = SENDER) -> bytes:
    """A deliverSecure request from ``sender``: a SignedDelivery signed by ``signer``, sealed and signed again."""
    checksum = checksum or hashlib.md5(PDF).hexdigest()
    signed = etree.fromstring(f"""<m3:SignedDelivery xmlns:m3="{M3}" xmlns:m2="{M2}" xmlns:m="{M}" xmlns:s="{S}">
<m3:Delivery><m3:Header><m2:Sender><s:Id>{sender}</s:Id><s:Name>Kumla kommun</s:Name></m2:Sender>
<m2:Recipient>{recipient}</m2:Recipient><m2:Reference>{reference}</m2:Reference></m3:Header>
<m3:Message><m3:Header><m3:Id>{reference}</m3:Id><m3:Subject>Beslut</m3:Subject>
<m3:Supportinfo><m3:Text>Ring kontaktcenter</m3:Text></m3:Supportinfo><m3:Language>svSE</m3:Language></m3:Header>
<m3:Body><m:ContentType>text/plain</m:ContentType><m:Body>{base64.b64encode(b"Hej").decode()}</m:Body>
</m3:Body><m3:Attachment><m:ContentType>application/pdf</m:ContentType><m:Body>{base64.b64encode(PDF).decode()}
</m:Body><m:Checksum>{checksum}</m:Checksum><m:Filename>Beslut.pdf</m:Filename></m3:Attachment></m3:Message>
</m3:Delivery></m3:SignedDelivery>""".encode())
    sealed = etree.Element(f"{{{SVC3}}}deliverSecure", nsmap={"svc3": SVC3, "m3": M3, "m": M})
    sealed.append(_sign(signed, signer))
    seal = etree.SubElement(sealed, f"{{{M3}}}Seal")
    etree.SubElement(seal, f"{{{M}}}ReceivedTime").text = "2026-11-30"
    etree.SubElement(seal, f"{{{M}}}SignaturesOK").text = "true"
    sealed = _sign(sealed, seal_signer or signer)
    return _envelope(f'<svc3:deliverSecure xmlns:svc3="{SVC3}">'.encode() + etree.tostring(sealed)
                     + b"</svc3:deliverSecure>")


def _fault(answer: requests.Response) -> tuple[str, str, str | None]:
    """(faultcode, faultstring, applicationFault ErrorCode)."""
    assert answer.status_code == 500
    fault = etree.fromstring(answer.content).find("soap:Body/soap:Fault", NS)
    return (fault.findtext("faultcode"), fault.findtext("faultstring"),
            fault.findtext("detail/c3:applicationFault/c3:ErrorCode", namespaces=NS))


def test_it_is_registered_by_name():
    assert simulator_class("mina-meddelanden") is MinaMeddelandenSimulator


def test_both_wsdls_are_served_with_the_address_the_client_used(sim, pki):
    for path, operation in (("/Recipient/v3", "isReachable"), ("/Service/v3", "deliverSecure")):
        answer = requests.get(f"{sim.base_url}{path}?wsdl", cert=(str(pki.client_cert), str(pki.client_key)),
                              verify=str(pki.ca_file), timeout=10)
        wsdl = etree.fromstring(answer.content)
        names = [op.get("name") for op in wsdl.iter("{http://schemas.xmlsoap.org/wsdl/}operation")]
        assert set(names) == {operation}
        (address,) = wsdl.iter("{http://schemas.xmlsoap.org/wsdl/soap/}address")
        assert address.get("location") == f"{sim.base_url}{path}"


def test_a_client_without_a_certificate_is_refused_in_the_tls_handshake(sim, pki):
    # An SSLError (the alert, or the reset that can follow it under TLS 1.3), never an answer.
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(f"{sim.base_url}/Recipient/v3", data=_is_reachable(RESIDENT), verify=str(pki.ca_file),
                      timeout=10)
    assert sim.app.captured_requests == []


def test_a_client_certificate_of_another_ca_is_refused_in_the_tls_handshake(pki, other_pki, tmp_path):
    running, _ = start_secure(tmp_path, pki=pki, maximum_tls=ssl.TLSVersion.TLSv1_2)
    # TLS 1.2: the refusal is an alert in the handshake (under TLS 1.3 it may reach the client as a bare reset).
    with running, pytest.raises(requests.exceptions.SSLError, match=r"(?i)alert unknown ca"):
        requests.post(f"{running.base_url}/Recipient/v3", data=_is_reachable(RESIDENT), verify=str(pki.ca_file),
                      cert=(str(other_pki.client_cert), str(other_pki.client_key)), timeout=10)


def test_served_without_tls_every_call_is_refused_for_want_of_a_client_certificate():
    with start_simulator("mina-meddelanden") as running:
        for path in ("/Recipient/v3?wsdl", "/Service/v3?wsdl"):
            assert requests.get(f"{running.base_url}{path}", timeout=10).status_code == 403
        assert requests.post(f"{running.base_url}/Recipient/v3", data=_is_reachable(RESIDENT),
                             timeout=10).status_code == 403


def test_isreachable_answers_each_recipient_as_configured(sim, pki):
    answer = _post(sim, pki, "/Recipient/v3", _is_reachable(RESIDENT, NO_MAILBOX, PENDING, BLOCKED, "198005122381"))

    assert answer.status_code == 200
    statuses = etree.fromstring(answer.content).findall("soap:Body/r3:isReachableResponse/r3:return", NS)
    seen = {}
    for status in statuses:
        account = status.find("r:AccountStatus", NS)
        seen[account.findtext("r:RecipientId", namespaces=NS)] = (
            account.findtext("r:Type", namespaces=NS), account.findtext("r:Pending", namespaces=NS),
            account.findtext("r:ServiceSupplier/r:ServiceAdress", namespaces=NS),
            status.findtext("r:SenderAccepted", namespaces=NS))
    service = f"{sim.base_url}/Service/v3"
    assert seen == {
        RESIDENT: ("Secure", "false", service, "true"),
        NO_MAILBOX: ("Not", "false", None, "false"),
        PENDING: ("Secure", "true", service, "true"),
        BLOCKED: ("Secure", "false", service, "false"),
        "198005122381": ("Not", "false", None, "false"),  # not a valid personnummer: nobody's mailbox
    }


def test_a_request_off_the_schema_is_a_client_fault_that_does_not_quote_the_value(sim, pki):
    answer = _post(sim, pki, "/Recipient/v3", _is_reachable(RESIDENT, sender="2120001819"))  # not 16-prefixed

    faultcode, faultstring, code = _fault(answer)

    assert (faultcode, code) == ("s:Client", None)
    assert "isReachable: schema violation" in faultstring
    assert "2120001819" not in faultstring


def test_a_signed_and_sealed_delivery_is_kept_and_answered_with_a_transid(sim, pki):
    answer = _post(sim, pki, "/Service/v3", _delivery(pki))

    assert answer.status_code == 200
    result = etree.fromstring(answer.content).find("soap:Body/svc3:deliverSecureResponse/svc3:return", NS)
    (delivery,) = sim.app.deliveries
    assert result.findtext("svc:TransId", namespaces=NS) == delivery.trans_id
    assert result.findtext("svc:Status/svc:Delivered", namespaces=NS) == "true"
    assert delivery.attachments[0].sha256 == hashlib.sha256(PDF).hexdigest()
    assert delivery.signer == f"CN=Brygga testkommun,2.5.4.5={SENDER},O=Brygga testkommun,C=SE"


def test_the_same_reference_twice_is_two_deliveries_and_counted(sim, pki):
    for _ in range(2):
        assert _post(sim, pki, "/Service/v3", _delivery(pki, reference="ev-7")).status_code == 200

    assert sim.app.inspect("counts") == {"deliveries": 2, "deliveries_per_reference": {"ev-7": 2},
                                         "duplicate_deliveries": 1}


@pytest.mark.parametrize(
    ("build", "code", "words"),
    [
        (lambda pki, other: _delivery(other), "1001", "the signature of SignedDelivery does not verify: the signing "
                                                      "certificate is not trusted"),
        (lambda pki, other: _delivery(pki, seal_signer=other), "1002", "the signature of the seal"),
        (lambda pki, other: _delivery(pki, NO_MAILBOX), "2001", "the recipient has no mailbox"),
        (lambda pki, other: _delivery(pki, PENDING), "2002", "account pending"),
        (lambda pki, other: _delivery(pki, BLOCKED), "2003", "does not accept messages from this sender"),
        (lambda pki, other: _delivery(pki, checksum="0" * 32), "3001", "Attachment 1: Checksum is not the MD5"),
        (lambda pki, other: _delivery(pki, sender=f"16{KINDA}"), "1003", "Sender/Id is not the organisationsnummer "
                                                                        "of the SignedDelivery's signing certificate"),
    ],
    ids=["untrusted-signer", "untrusted-seal", "no-mailbox", "pending", "blocked", "checksum", "another-sender"],
)
def test_a_delivery_the_service_refuses_gets_an_application_fault(sim, pki, other_pki, build, code, words):
    faultcode, faultstring, error_code = _fault(_post(sim, pki, "/Service/v3", build(pki, other_pki)))

    assert (faultcode, error_code) == ("s:Server", code)
    assert words in faultstring
    assert RESIDENT not in faultstring and NO_MAILBOX not in faultstring and KINDA not in faultstring
    assert sim.app.deliveries == []
    assert sim.app.inspect("calls")[-1]["error_code"] == code


def test_a_delivery_changed_after_signing_is_refused(sim, pki):
    tampered = _delivery(pki).replace(b"<m3:Subject>Beslut</m3:Subject>", b"<m3:Subject>Beslut!</m3:Subject>")

    _, faultstring, code = _fault(_post(sim, pki, "/Service/v3", tampered))

    assert code == "1001"
    assert "the digest does not match the signed content" in faultstring


def test_an_unsigned_delivery_is_off_the_schema(sim, pki):
    unsigned = etree.fromstring(_delivery(pki))
    for signature in list(unsigned.iter("{http://www.w3.org/2000/09/xmldsig#}Signature")):
        signature.getparent().remove(signature)

    faultcode, faultstring, code = _fault(_post(sim, pki, "/Service/v3", etree.tostring(unsigned)))

    assert (faultcode, code) == ("s:Client", None)
    assert "deliverSecure: schema violation" in faultstring


def test_a_pinned_sender_certificate_refuses_another_certificate_of_the_same_ca(pki, tmp_path):
    colleague = make_test_pki(tmp_path / "colleague")  # another CA: its client certificate is not the pinned one
    running, _ = start_secure(tmp_path / "sim", pki=pki, sender_certificate=colleague.client_cert)
    with running:
        _, faultstring, code = _fault(_post(running, pki, "/Service/v3", _delivery(pki)))
        assert code == "1001" and "does not verify with the signing certificate" in faultstring
        assert _post(running, pki, "/Service/v3", _delivery(colleague, seal_signer=colleague)).status_code == 200


def test_isreachable_for_another_organisation_than_the_client_certificates_is_refused(sim, pki):
    _, faultstring, code = _fault(_post(sim, pki, "/Recipient/v3", _is_reachable(RESIDENT, sender=f"16{KINDA}")))

    assert code == "1003"
    assert "isReachable: senderOrgNr is not the organisationsnummer of the TLS client certificate" in faultstring
    assert KINDA not in faultstring
    # The same number written without the 16 is the same organisation; the schema asks for the 16 (above).
    assert _post(sim, pki, "/Recipient/v3", _is_reachable(RESIDENT)).status_code == 200


def test_the_sender_is_checked_against_the_signing_certificate_not_the_tls_one(pki, tmp_path):
    # Kinda's certificate (another CA, pinned) signs; the TLS connection is Kumla's.
    kinda = make_test_pki(tmp_path / "kinda", organisation="Kinda kommun", organisationsnummer=KINDA)
    running, _ = start_secure(tmp_path / "sim", pki=pki, sender_certificate=kinda.client_cert)
    with running:
        _, faultstring, code = _fault(_post(running, pki, "/Service/v3", _delivery(kinda)))
        assert code == "1003" and "the SignedDelivery's signing certificate" in faultstring
        assert _post(running, pki, "/Service/v3", _delivery(kinda, sender=f"16{KINDA}")).status_code == 200
    assert [d.sender_id for d in running.app.deliveries] == [f"16{KINDA}"]


def test_the_organisation_a_certificate_is_issued_to(pki, tmp_path):
    def issued(*attributes: x509.NameAttribute) -> x509.Certificate:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Kinda kommun"), *attributes])
        now = datetime.datetime.now(datetime.UTC)
        return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(hours=1))
                .sign(key, hashes.SHA256()))

    assert organisation_number(x509.load_pem_x509_certificate(pki.client_cert.read_bytes())) == \
        TEST_ORGANISATIONSNUMMER
    assert organisation_number(issued(x509.NameAttribute(NameOID.SERIAL_NUMBER, "212000-0514"))) == KINDA
    assert organisation_number(issued(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "NTRSE-2120000514"))) \
        == KINDA
    assert organisation_number(issued(x509.NameAttribute(NameOID.SERIAL_NUMBER, "1234"))) is None
    assert organisation_number(x509.load_pem_x509_certificate(pki.server_cert.read_bytes())) is None


def test_the_views_carry_fingerprints_never_the_personnummer(sim, pki):
    _post(sim, pki, "/Recipient/v3", _is_reachable(RESIDENT))
    _post(sim, pki, "/Service/v3", _delivery(pki))

    for view in ("deliveries", "calls", "counts", "clients"):
        answer = requests.get(f"{sim.base_url}/_sim/{view}", cert=(str(pki.client_cert), str(pki.client_key)),
                              verify=str(pki.ca_file), timeout=10)
        assert answer.status_code == 200
        assert RESIDENT not in answer.text
    (delivery,) = requests.get(f"{sim.base_url}/_sim/deliveries", cert=(str(pki.client_cert), str(pki.client_key)),
                               verify=str(pki.ca_file), timeout=10).json()
    assert delivery["recipient_sha256"] == hashlib.sha256(RESIDENT.encode()).hexdigest()
    assert delivery["attachments"][0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert delivery["signature_valid"] is True
    sim.app.reset()
    assert sim.app.deliveries == [] and sim.app.inspect("calls") == []
