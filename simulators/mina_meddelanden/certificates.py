"""A throwaway PKI for the Mina meddelanden simulator: a test CA, a server certificate for 127.0.0.1 and localhost,
and an organisation's certificate (RSA, for mutual TLS and for signing deliveries), all valid for a day.

The real service takes a funktionscertifikat issued to the sending organisation; this one carries the
organisationsnummer in the subject's serialNumber (16-prefixed) as such certificates do, and ``organisation_number``
reads it back (or an eIDAS organizationIdentifier, ``NTRSE-<number>``). Nothing here is secret beyond the test.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from brygga.canonical.formats import InvalidIdentifier, normalise_organisationsnummer

SERVER_NAMES = ("localhost", "127.0.0.1")
# The organisationsnummer the organisation certificate is made for: Kumla kommun's, as the bundled route
# kumla-bygglov sends with (routes/routes.yaml, digital_mail.config.sender_organisationsnummer), so the stand-in
# ``brygga run --simulators`` starts takes its deliveries.
TEST_ORGANISATIONSNUMMER = "2120001819"
_EIDAS_PREFIX = "NTRSE-"  # organizationIdentifier (2.5.4.97): a Swedish national trade register number


@dataclass(frozen=True)
class SimulatorPki:
    """PEM files in one folder: what a connection's extras and the simulator's TLS context name."""


    ca_file: Path  # the test CA's certificate: ca_bundle of the connection, trust anchor of the simulator
    server_cert: Path
    server_key: Path
    client_cert: Path  # the organisation's certificate: cert_file of the connection, and the signing certificate
    client_key: Path


def organisation_number(certificate: x509.Certificate) -> str | None:
    """The organisationsnummer (10 digits) a certificate is issued to: its subject's serialNumber (``16NNNNNNNNNN``
    or ``NNNNNN-NNNN``), else its organizationIdentifier (``NTRSE-NNNNNNNNNN``); None when it names none."""
    found = [str(a.value) for a in certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)]
    found += [str(a.value).removeprefix(_EIDAS_PREFIX)
              for a in certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
              if str(a.value).startswith(_EIDAS_PREFIX)]
    for value in found:
        number = as_organisationsnummer(value)
        if number is not None:
            return number
    return None


def as_organisationsnummer(value: str) -> str | None:
    """An organisationsnummer in any of its written forms (16-prefixed, with or without the hyphen) as 10 digits,
    None when it is not one."""
    try:
        return normalise_organisationsnummer(value)
    except InvalidIdentifier:
        return None


def _name(common_name: str, organisation: str | None = None, serial: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "SE")]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    if serial:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _write_key(path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def make_test_pki(folder: Path, organisation: str = "Brygga testkommun",
                  organisationsnummer: str = TEST_ORGANISATIONSNUMMER) -> SimulatorPki:
    """Write a fresh CA, server certificate and organisation certificate (with keys) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Brygga test CA", "Brygga test")
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    issuer_aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski)

    def issue(subject: x509.Name, public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey, usage: x509.KeyUsage,
              purposes: list[x509.ObjectIdentifier], names: list[x509.GeneralName] | None) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name).public_key(public_key)
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.ExtendedKeyUsage(purposes), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(issuer_aki, critical=False)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return builder.sign(ca_key, hashes.SHA256())

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = issue(
        _name("localhost"), server_key.public_key(),
        x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                      data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                      encipher_only=False, decipher_only=False),
        [ExtendedKeyUsageOID.SERVER_AUTH],
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    # RSA: the service takes RSA-SHA256 signatures. 2048 bits keeps key generation quick.
    client_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client_cert = issue(
        _name(organisation, organisation, f"16{organisationsnummer}"), client_key.public_key(),
        x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=True,
                      data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                      encipher_only=False, decipher_only=False),
        [ExtendedKeyUsageOID.CLIENT_AUTH],
        None,
    )

    pki = SimulatorPki(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem", folder / "organisation.pem",
                  folder / "organisation-key.pem")
    pki.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.server_cert.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    _write_key(pki.server_key, server_key)
    pki.client_cert.write_bytes(client_cert.public_bytes(serialization.Encoding.PEM))
    _write_key(pki.client_key, client_key)
    return pki


def server_context(pki: SimulatorPki, maximum_version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
    """The simulator's TLS context: its server certificate, and a client certificate from the test CA required.

    ``maximum_version=TLSVersion.TLSv1_2`` makes a refused client certificate a handshake alert the client always
    sees; under TLS 1.3 the client may see only the reset that follows it (the alert lost with the unread request).
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if maximum_version is not None:
        context.maximum_version = maximum_version
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.load_verify_locations(cafile=pki.ca_file)
    context.verify_mode = ssl.CERT_REQUIRED
    return context
