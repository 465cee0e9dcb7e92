"""What the adapter refuses when it is built: config, connection and signing material, by field and rule, offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from mm_data import CONFIG

from brygga.connections import Connection
from brygga.errors import ConfigError
from brygga_adapters.mina_meddelanden import CONFIG_SPEC, MinaMeddelandenMailbox
from brygga_adapters.mina_meddelanden.config import read_settings

URL = "https://minameddelanden.example.se"


def _connection(**extra: str) -> Connection:
    query = "&".join(f"{key}={value}" for key, value in extra.items())
    return Connection.from_uri("mina_meddelanden_kumla", f"{URL}?{query}")


def _mtls(pki) -> Connection:
    return _connection(cert_file=str(pki.client_cert), key_file=str(pki.client_key))


def test_every_config_field_is_described_and_the_connection_fields_are_listed():
    assert all(prop.get("description") for prop in CONFIG_SPEC["properties"].values())
    fields = MinaMeddelandenMailbox.connection_fields
    assert {"host", "extra cert_file", "extra key_file", "extra signing_cert_file", "extra ca_bundle"} <= set(fields)


def test_the_sender_number_is_sent_16_prefixed_and_the_paths_default_to_the_contract_addresses(pki):
    mailbox = MinaMeddelandenMailbox(dict(CONFIG), _mtls(pki))

    assert mailbox.settings.sender_id == "162120001819"
    assert (mailbox.recipient_url, mailbox.service_url) == (f"{URL}/Recipient/v3", f"{URL}/Service/v3")
    assert read_settings({**CONFIG, "sender_organisationsnummer": "162120001819"}).sender_id == "162120001819"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({**CONFIG, "sender_organisationsnummer": "212000-0143"},
         r"config/sender_organisationsnummer: not a valid organisationsnummer \(rule: luhn"),
        ({**CONFIG, "sender_organisationsnummer": "SE212000181901"}, "config/sender_organisationsnummer: .*pattern"),
        ({k: v for k, v in CONFIG.items() if k != "support_text"}, "'support_text' is a required property"),
        ({**CONFIG, "support_text": "x" * 1025}, "config/support_text: .*(long|maxLength)"),
        ({**CONFIG, "language": "svenska språket"}, "config/language"),
        ({**CONFIG, "service_path": "https://elsewhere/x"}, "config/service_path"),
        ({**CONFIG, "deliver_to": "anywhere"}, "config/deliver_to"),
        ({**CONFIG, "password": "x"}, "Additional properties are not allowed"),
    ],
)
def test_a_config_the_schema_or_the_rules_refuse_is_refused_by_field(pki, config, message):
    with pytest.raises(ConfigError, match=message) as refused:
        MinaMeddelandenMailbox(config, _mtls(pki))
    assert "212000-0143" not in str(refused.value)


def test_no_connection_is_refused():
    with pytest.raises(ConfigError, match="needs a connection"):
        MinaMeddelandenMailbox(dict(CONFIG), None)


def test_plain_http_is_refused(pki):
    connection = Connection.from_uri("mm", f"http://minameddelanden.example.se?cert_file={pki.client_cert}"
                                           f"&key_file={pki.client_key}")
    with pytest.raises(ConfigError, match="https-only"):
        MinaMeddelandenMailbox(dict(CONFIG), connection)


def test_without_a_certificate_to_sign_with_the_extras_are_named():
    with pytest.raises(ConfigError, match="extras 'cert_file' and 'key_file' \\(or 'signing_cert_file' and "
                                          "'signing_key_file'\\)"):
        MinaMeddelandenMailbox(dict(CONFIG), _connection())


def test_signing_files_go_in_pairs(pki):
    with pytest.raises(ConfigError, match="'signing_cert_file' and 'signing_key_file' go together"):
        MinaMeddelandenMailbox(dict(CONFIG), _connection(signing_cert_file=str(pki.client_cert)))


def test_a_key_that_is_not_the_certificates_is_refused(pki, other_pki):
    connection = _connection(cert_file=str(pki.client_cert), key_file=str(other_pki.client_key))
    with pytest.raises(ConfigError, match="extras 'cert_file' and 'key_file' do not belong together"):
        MinaMeddelandenMailbox(dict(CONFIG), connection)


def test_a_key_that_is_not_rsa_is_refused(pki):
    # The server certificate of the test PKI has an EC key.
    connection = _connection(signing_cert_file=str(pki.server_cert), signing_key_file=str(pki.server_key),
                             cert_file=str(pki.client_cert), key_file=str(pki.client_key))
    with pytest.raises(ConfigError, match="extra 'signing_key_file': the key must be RSA"):
        MinaMeddelandenMailbox(dict(CONFIG), connection)


def test_missing_or_unreadable_files_are_named(pki, tmp_path: Path):
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("not a certificate")
    with pytest.raises(ConfigError, match="extra 'cert_file' does not name a readable file"):
        MinaMeddelandenMailbox(dict(CONFIG), _connection(cert_file=str(tmp_path / "gone.pem"),
                                                         key_file=str(pki.client_key)))
    with pytest.raises(ConfigError, match="extra 'cert_file' holds no PEM certificate"):
        MinaMeddelandenMailbox(dict(CONFIG), _connection(cert_file=str(not_pem), key_file=str(pki.client_key)))
    with pytest.raises(ConfigError, match="extra 'key_file' holds no unencrypted PEM private key"):
        MinaMeddelandenMailbox(dict(CONFIG), _connection(cert_file=str(pki.client_cert), key_file=str(not_pem)))


def test_a_certificate_that_is_not_valid_now_is_refused(pki):
    import datetime

    from brygga_adapters.mina_meddelanden.signing import load_signing_key

    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=30)
    with pytest.raises(ConfigError, match="extra 'cert_file': the certificate is not valid now"):
        load_signing_key(_mtls(pki), now=later)
