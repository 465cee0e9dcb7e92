"""The delivery the adapter builds, offline: what it holds, and two enveloped signatures that verify on their own."""

from __future__ import annotations

import base64
import datetime
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from mm_data import CONFIG, RESIDENT
from signxml import SignatureConfiguration, XMLVerifier
from signxml.exceptions import InvalidDigest

from brygga.connections import Connection
from brygga_adapters.mina_meddelanden import Attachment, DigitalMail, MinaMeddelandenMailbox

DS = "http://www.w3.org/2000/09/xmldsig#"
NS = {
    "svc3": "http://minameddelanden.gov.se/schema/Service/v3",
    "m3": "http://minameddelanden.gov.se/schema/Message/v3",
    "m2": "http://minameddelanden.gov.se/schema/Message/v2",
    "m": "http://minameddelanden.gov.se/schema/Message",
    "s": "http://minameddelanden.gov.se/schema/Sender",
    "ds": DS,
}
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40
MAIL = DigitalMail(RESIDENT, "Beslut om startbesked", "Hej!\nBeslutet finns bifogat.", "ev-42",
                   (Attachment("Beslut.pdf", "application/pdf", PDF), Attachment("Ritning.pdf", "application/pdf",
                                                                                 PDF[::-1])))


def _mailbox(pki, **extra: str) -> MinaMeddelandenMailbox:
    extras = {"cert_file": str(pki.client_cert), "key_file": str(pki.client_key), **extra}
    query = "&".join(f"{key}={value}" for key, value in extras.items())
    return MinaMeddelandenMailbox(dict(CONFIG), Connection.from_uri("mm", f"https://mm.example.se?{query}"))


def _verify(element: etree._Element, ca_file) -> etree._Element:
    standalone = etree.fromstring(etree.tostring(element))  # each signature covers its own element as a document
    return XMLVerifier().verify(standalone, ca_pem_file=str(ca_file),
                                expect_config=SignatureConfiguration(location="./")).signed_xml


def test_both_signatures_verify_against_the_organisations_ca(pki):
    sealed = _mailbox(pki).build_delivery(MAIL, today=datetime.date(2026, 11, 30))

    assert etree.QName(sealed).text == "{http://minameddelanden.gov.se/schema/Service/v3}deliverSecure"
    signed_delivery = _verify(sealed.find("m3:SignedDelivery", NS), pki.ca_file)
    sealed_content = _verify(sealed, pki.ca_file)
    assert signed_delivery.find("m3:Delivery", NS) is not None
    assert sealed_content.findtext("m3:Seal/m:ReceivedTime", namespaces=NS) == "2026-11-30"
    assert sealed_content.findtext("m3:Seal/m:SignaturesOK", namespaces=NS) == "true"


def test_the_signatures_are_rsa_sha256_over_the_whole_element_with_exclusive_c14n_and_the_certificate(pki):
    sealed = _mailbox(pki).build_delivery(MAIL)
    certificate = x509.load_pem_x509_certificate(pki.client_cert.read_bytes())

    for signature in (sealed.find("m3:SignedDelivery/ds:Signature", NS), sealed.find("ds:Signature", NS)):
        assert signature.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm") == \
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        assert signature.find("ds:SignedInfo/ds:CanonicalizationMethod", NS).get("Algorithm") == \
            "http://www.w3.org/2001/10/xml-exc-c14n#"
        (reference,) = signature.findall("ds:SignedInfo/ds:Reference", NS)
        assert reference.get("URI") == ""
        assert [t.get("Algorithm") for t in reference.findall("ds:Transforms/ds:Transform", NS)] == [
            "http://www.w3.org/2000/09/xmldsig#enveloped-signature", "http://www.w3.org/2001/10/xml-exc-c14n#"]
        (embedded,) = signature.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS)
        assert base64.b64decode("".join(embedded.text.split())) == \
            certificate.public_bytes(serialization.Encoding.DER)


def test_the_delivery_holds_the_mail_and_md5_checksums(pki):
    sealed = _mailbox(pki).build_delivery(MAIL)
    delivery = sealed.find("m3:SignedDelivery/m3:Delivery", NS)

    assert delivery.findtext("m3:Header/m2:Sender/s:Id", namespaces=NS) == "162120001819"
    assert delivery.findtext("m3:Header/m2:Recipient", namespaces=NS) == RESIDENT
    assert delivery.findtext("m3:Header/m2:Reference", namespaces=NS) == "ev-42"
    (message,) = delivery.findall("m3:Message", NS)
    assert message.findtext("m3:Header/m3:Id", namespaces=NS) == "ev-42"
    assert message.findtext("m3:Header/m3:Subject", namespaces=NS) == MAIL.subject
    assert message.findtext("m3:Header/m3:Supportinfo/m3:Text", namespaces=NS) == CONFIG["support_text"]
    assert message.findtext("m3:Header/m3:Language", namespaces=NS) == "svSE"
    assert message.findtext("m3:Body/m:ContentType", namespaces=NS) == "text/plain"
    assert base64.b64decode(message.findtext("m3:Body/m:Body", namespaces=NS)).decode() == MAIL.body
    attachments = message.findall("m3:Attachment", NS)
    assert [a.findtext("m:Filename", namespaces=NS) for a in attachments] == ["Beslut.pdf", "Ritning.pdf"]
    for element, attachment in zip(attachments, MAIL.attachments, strict=True):
        assert base64.b64decode(element.findtext("m:Body", namespaces=NS)) == attachment.content
        assert element.findtext("m:Checksum", namespaces=NS) == hashlib.md5(attachment.content).hexdigest().upper()


def test_a_changed_byte_breaks_the_senders_signature(pki):
    sealed = _mailbox(pki).build_delivery(MAIL)
    body = sealed.find("m3:SignedDelivery/m3:Delivery/m3:Message/m3:Attachment/m:Body", NS)
    body.text = base64.b64encode(PDF[:-1] + b"X").decode()

    with pytest.raises(InvalidDigest):
        _verify(sealed.find("m3:SignedDelivery", NS), pki.ca_file)


def test_a_separate_signing_certificate_signs_instead_of_the_tls_one(pki, other_pki):
    mailbox = _mailbox(pki, signing_cert_file=str(other_pki.client_cert), signing_key_file=str(other_pki.client_key))

    sealed = mailbox.build_delivery(MAIL)

    assert _verify(sealed.find("m3:SignedDelivery", NS), other_pki.ca_file) is not None
