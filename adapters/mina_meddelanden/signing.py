"""Signing a delivery with the organisation's certificate: an enveloped XML signature made with signxml.

As Mina meddelanden's reference client signs: RSA-SHA256, a SHA-256 digest, exclusive canonicalisation, one
reference to the whole signed element (``URI=""``) with the enveloped-signature transform, and the certificate in
``KeyInfo/X509Data``. The element is signed as a document of its own and then placed in the request unchanged;
exclusive canonicalisation makes its digest independent of where it ends up.

The key and certificate come from the connection: extras ``signing_cert_file`` and ``signing_key_file``, by default
the mutual-TLS ``cert_file`` and ``key_file`` (the same organisation certificate usually does both). Problems are
found when the adapter is built, named by extra and rule.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml import XMLSigner
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

from brygga.connections import Connection
from brygga.errors import ConfigError
from brygga.xmlsafe import safe_parser
from brygga_adapters.http.extras import text

# signxml logs every canonicalised document at DEBUG: the whole message, personnummer and text included. Logging is
# processing of personal data, so those records are dropped whatever level an operator configures.
logging.getLogger("signxml.processor").addFilter(lambda record: record.levelno > logging.DEBUG)


class _Signer(XMLSigner):
    """signxml's signer, parsing with Brygga's safe parser: an attachment of several MB is one large text node,
    over libxml2's default limit."""

    @property
    def parser(self) -> etree.XMLParser:
        return safe_parser(huge_tree=True)


@dataclass(frozen=True)
class SigningKey:
    key: rsa.RSAPrivateKey
    chain: tuple[x509.Certificate, ...]  # the organisation's certificate first, then any intermediates

    def sign(self, element: etree._Element) -> etree._Element:
        """``element`` (the root of its own document) with an enveloped Signature as its last child."""
        signer = _Signer(
            signature_algorithm=SignatureMethod.RSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        )
        return signer.sign(element, key=self.key, cert=list(self.chain))


def _files(connection: Connection) -> tuple[tuple[str, str], tuple[str, str]]:
    """((extra, path) of the certificate, (extra, path) of the key)."""
    where = f"connection {connection.conn_id!r}"
    cert, key = text(connection, "signing_cert_file"), text(connection, "signing_key_file")
    if cert or key:
        if not (cert and key):
            raise ConfigError(f"{where}: extras 'signing_cert_file' and 'signing_key_file' go together")
        return ("signing_cert_file", cert), ("signing_key_file", key)
    cert, key = text(connection, "cert_file"), text(connection, "key_file")
    if not (cert and key):
        raise ConfigError(f"{where}: Mina meddelanden needs the organisation's certificate and key to sign with: "
                          "extras 'cert_file' and 'key_file' (or 'signing_cert_file' and 'signing_key_file')")
    return ("cert_file", cert), ("key_file", key)


def _read(connection: Connection, extra: str, value: str) -> bytes:
    path = Path(value).expanduser()
    try:
        return path.read_bytes()
    except OSError:
        raise ConfigError(f"connection {connection.conn_id!r}: extra {extra!r} does not name a readable file") from None


def load_signing_key(connection: Connection, now: datetime.datetime | None = None) -> SigningKey:
    """The organisation's RSA key and certificate chain, checked to belong together and to be valid now."""
    where = f"connection {connection.conn_id!r}"
    (cert_extra, cert_path), (key_extra, key_path) = _files(connection)
    try:
        chain = tuple(x509.load_pem_x509_certificates(_read(connection, cert_extra, cert_path)))
    except ValueError:
        raise ConfigError(f"{where}: extra {cert_extra!r} holds no PEM certificate") from None
    try:
        key = serialization.load_pem_private_key(_read(connection, key_extra, key_path), password=None)
    except (ValueError, TypeError):
        raise ConfigError(f"{where}: extra {key_extra!r} holds no unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(f"{where}: extra {key_extra!r}: the key must be RSA (rule: Mina meddelanden takes "
                          "RSA-SHA256 signatures)")
    leaf = chain[0]
    if leaf.public_key() != key.public_key():
        raise ConfigError(f"{where}: extras {cert_extra!r} and {key_extra!r} do not belong together (rule: the "
                          "first certificate must be the key's)")
    moment = now or datetime.datetime.now(datetime.UTC)
    if not leaf.not_valid_before_utc <= moment <= leaf.not_valid_after_utc:
        raise ConfigError(f"{where}: extra {cert_extra!r}: the certificate is not valid now (valid "
                          f"{leaf.not_valid_before_utc:%Y-%m-%d} to {leaf.not_valid_after_utc:%Y-%m-%d})")
    return SigningKey(key=key, chain=chain)
