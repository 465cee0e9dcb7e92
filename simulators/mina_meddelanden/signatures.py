"""Checking a delivery's enveloped XML signature, as the service does, with signxml.

Each signature of a SealedDelivery references its own parent element as a document (``URI=""``, the enveloped
transform, exclusive canonicalisation), as Mina meddelanden's reference client signs them. So the element is lifted
out of the SOAP envelope into a document of its own and verified there; the Signature must be its direct child.

Trust is a CA (the signing certificate in ``KeyInfo`` must chain to it), a pinned certificate (the sender's,
as registered with the service), or, with neither configured, the client certificate of the TLS connection.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, SignXMLException

from brygga.xmlsafe import safe_parser
from brygga_simulators.mina_meddelanden.xml import DS

# signxml logs every canonicalised document at DEBUG, personnummer and text included: never kept.
logging.getLogger("signxml.processor").addFilter(lambda record: record.levelno > logging.DEBUG)

# Our own words for what failed: signxml's messages may quote the certificate or the document.
_DIGEST = "the digest does not match the signed content (it was changed after signing)"
_CERTIFICATE = "the signing certificate is not trusted (not issued by the trusted CA, expired, or not allowed to sign)"
_VALUE = "the signature value does not verify with the signing certificate"
_MALFORMED = "the signature is malformed, uses an algorithm that is not accepted, or carries no X.509 certificate"
_SCHEMA = "the Signature element does not follow the XML Signature schema"


class SignatureRefused(Exception):
    """The signature does not verify; the message says why in words of our own, never quoting the document."""


@dataclass(frozen=True)
class Trust:
    ca_file: Path | None = None  # PEM of the CA the signing certificate must chain to
    certificate_pem: str | None = None  # the one certificate signatures must be made with

    @property
    def configured(self) -> bool:
        return self.ca_file is not None or self.certificate_pem is not None


@dataclass(frozen=True)
class Verified:
    signed: etree._Element  # what the signature covers, as signxml returns it: read the content from here only
    certificate: x509.Certificate  # the signing certificate

    @property
    def signer(self) -> str:
        """The signing certificate's subject."""
        return self.certificate.subject.rfc4514_string()


def verify_enveloped(element: etree._Element, trust: Trust) -> Verified:
    """Verify the Signature that is a direct child of ``element``; raise ``SignatureRefused`` when it does not."""
    if element.find(f"{{{DS}}}Signature") is None:
        raise SignatureRefused("there is no Signature in it")
    if trust.certificate_pem is not None:
        anchor: dict[str, str] = {"x509_cert": trust.certificate_pem}
    elif trust.ca_file is not None:
        anchor = {"ca_pem_file": str(trust.ca_file)}
    else:
        raise SignatureRefused("there is nothing to verify it against (no trusted CA, sender certificate or client "
                               "certificate)")
    try:
        result = XMLVerifier().verify(
            element,
            parser=safe_parser(huge_tree=True),  # an attachment of several MB is one large text node
            expect_config=SignatureConfiguration(location="./"),
            **anchor,
        )
    except InvalidDigest:
        raise SignatureRefused(_DIGEST) from None
    except InvalidCertificate:
        raise SignatureRefused(_CERTIFICATE) from None
    except InvalidInput:
        raise SignatureRefused(_MALFORMED) from None
    except etree.DocumentInvalid:
        raise SignatureRefused(_SCHEMA) from None
    except (SignXMLException, ValueError):
        raise SignatureRefused(_VALUE) from None
    if result.signed_xml is None:
        raise SignatureRefused(_MALFORMED)
    signer = _signing_certificate(result.signature_xml, result.signature_key, trust)
    if signer is None:
        raise SignatureRefused(_MALFORMED)
    return Verified(signed=result.signed_xml, certificate=signer)


def _signing_certificate(signature: etree._Element, key: bytes, trust: Trust) -> x509.Certificate | None:
    """The certificate whose key the signature verified with: the pinned one, or that one of KeyInfo's."""
    if trust.certificate_pem is not None:
        return x509.load_pem_x509_certificate(trust.certificate_pem.encode())
    for found in signature.iterfind(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate"):
        certificate = x509.load_der_x509_certificate(base64.b64decode("".join((found.text or "").split())))
        if certificate.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo) == key:
            return certificate
    return None
