"""MinaMeddelandenMailbox against the simulator over real https with mutual TLS: reachability, a signed delivery with
a 2 MB PDF arriving intact, signatures that do not verify, clients the service does not let in, and faults."""

from __future__ import annotations

import hashlib
import logging
import os

import pytest
import requests
from lxml import etree
from mm_data import BLOCKED, CONFIG, NO_MAILBOX, PENDING, RESIDENT

from brygga.connections import Connection
from brygga.errors import CredentialsRefused, TargetRejected, TargetUnavailable
from brygga.routes import load_routes
from brygga.settings import Settings
from brygga_adapters.mina_meddelanden import Attachment, DigitalMail, DigitalMailbox, MinaMeddelandenMailbox
from brygga_simulators import start_simulator
from brygga_simulators.connections import simulate

MESSAGE = "http://minameddelanden.gov.se/schema/Message"
MESSAGE_V3 = "http://minameddelanden.gov.se/schema/Message/v3"
SUBJECT = "Beslut i ärende BN 2026-000001"
TEXT = "Hej!\nBeslut har fattats i ditt ärende BN 2026-000001: Startbesked. Beslutet finns bifogat."


def _pdf(size: int) -> bytes:
    # Random bytes behind a PDF header: nothing compresses or repeats, so a changed byte cannot hide.
    return b"%PDF-1.7\n" + os.urandom(size - 9)


def _mail(recipient: str = RESIDENT, reference: str = "ev-0", *attachments: Attachment) -> DigitalMail:
    return DigitalMail(recipient=recipient, subject=SUBJECT, body=TEXT, reference=reference,
                       attachments=tuple(attachments))


def test_the_adapter_is_a_digital_mailbox(mailbox):
    assert isinstance(mailbox, DigitalMailbox)


def test_a_resident_with_an_open_mailbox_is_reachable_over_mutual_tls(mailbox, mailbox_sim):
    assert mailbox.reachable(RESIDENT) is True

    assert [call["operation"] for call in mailbox_sim.app.inspect("calls")] == ["isReachable"]
    # The call came with the organisation's certificate (its subject carries the 16-prefixed organisationsnummer).
    assert mailbox_sim.app.client_subjects == ["CN=Brygga testkommun,2.5.4.5=162120001819,O=Brygga testkommun,C=SE"]


@pytest.mark.parametrize("recipient", [NO_MAILBOX, PENDING, BLOCKED], ids=["no-mailbox", "pending", "blocked"])
def test_no_mailbox_a_pending_account_or_a_refused_sender_is_not_reachable(mailbox, recipient):
    assert mailbox.reachable(recipient) is False


def test_a_decision_with_a_2_mb_pdf_arrives_intact(mailbox, mailbox_sim, pki):
    pdf = _pdf(2 * 1024 * 1024)

    trans_id = mailbox.send(_mail(RESIDENT, "ev-1", Attachment("Beslut.pdf", "application/pdf", pdf)))

    (delivery,) = mailbox_sim.app.deliveries
    assert trans_id == delivery.trans_id
    assert delivery.reference == "ev-1"
    assert delivery.message_id == "ev-1"
    assert delivery.recipient_sha256 == hashlib.sha256(RESIDENT.encode()).hexdigest()
    assert (delivery.sender_id, delivery.sender_name) == ("162120001819", "Kumla kommun")
    assert delivery.subject == SUBJECT
    assert (delivery.content_type, delivery.body.decode()) == ("text/plain", TEXT)
    (attachment,) = delivery.attachments
    assert (attachment.filename, attachment.content_type) == ("Beslut.pdf", "application/pdf")
    assert attachment.sha256 == hashlib.sha256(pdf).hexdigest()
    assert delivery.signature_valid is True
    # The JSON view over https (with a client certificate): fingerprints, never the personnummer or the text.
    answer = requests.get(f"{mailbox_sim.base_url}/_sim/deliveries", cert=(str(pki.client_cert), str(pki.client_key)),
                          verify=str(pki.ca_file), timeout=10)
    (view,) = answer.json()
    assert view["recipient_sha256"] == delivery.recipient_sha256
    assert view["attachments"] == [{"filename": "Beslut.pdf", "content_type": "application/pdf",
                                    "size": len(pdf), "sha256": hashlib.sha256(pdf).hexdigest()}]
    assert view["signature_valid"] is True
    assert RESIDENT not in answer.text and "Startbesked" not in answer.text


def test_a_delivery_changed_after_signing_is_refused(mailbox, mailbox_sim):
    sealed = mailbox.build_delivery(_mail())
    subject = sealed.find(f".//{{{MESSAGE_V3}}}Subject")
    subject.text = "Beslut i ett annat ärende"

    with pytest.raises(TargetRejected) as refused:
        mailbox.post_delivery(sealed)

    message = str(refused.value)
    assert "the signature of SignedDelivery does not verify" in message
    assert "the digest does not match the signed content" in message
    assert "applicationFault ErrorCode 1001" in message
    assert mailbox_sim.app.deliveries == []


def test_a_seal_changed_after_signing_is_refused(mailbox, mailbox_sim):
    sealed = mailbox.build_delivery(_mail())
    sealed.find(f"{{{MESSAGE_V3}}}Seal/{{{MESSAGE}}}ReceivedTime").text = "2020-01-01"

    with pytest.raises(TargetRejected, match=r"the signature of the seal .* does not verify.*ErrorCode 1002"):
        mailbox.post_delivery(sealed)
    assert mailbox_sim.app.deliveries == []


def test_a_delivery_signed_with_a_certificate_of_another_ca_is_refused(mailbox_sim, pki, other_pki, connect):
    # TLS with the trusted organisation certificate, signatures with one the service does not trust.
    connection = connect(mailbox_sim, pki, signing_cert_file=str(other_pki.client_cert),
                         signing_key_file=str(other_pki.client_key))
    mailbox = MinaMeddelandenMailbox(dict(CONFIG), connection)

    with pytest.raises(TargetRejected, match="the signing certificate is not trusted"):
        mailbox.send(_mail())
    assert mailbox_sim.app.deliveries == []


def test_a_client_without_a_certificate_is_refused_in_the_handshake(mailbox_sim, pki, connect):
    # Signing keys, but no client certificate for the TLS connection.
    connection = connect(mailbox_sim, pki, cert_file="", key_file="", signing_cert_file=str(pki.client_cert),
                         signing_key_file=str(pki.client_key))
    mailbox = MinaMeddelandenMailbox(dict(CONFIG), connection)

    with pytest.raises(CredentialsRefused, match="the service requires a client certificate and the connection "
                                                 "has none"):
        mailbox.reachable(RESIDENT)
    with pytest.raises(CredentialsRefused, match="cert_file and key_file"):
        mailbox.send(_mail())
    assert mailbox_sim.app.captured_requests == []
    assert mailbox_sim.app.deliveries == []


def test_a_client_certificate_of_another_ca_is_refused_in_the_handshake(mailbox_sim_tls12, pki, other_pki, connect):
    connection = connect(mailbox_sim_tls12, pki, cert_file=str(other_pki.client_cert),
                         key_file=str(other_pki.client_key))
    mailbox = MinaMeddelandenMailbox(dict(CONFIG), connection)

    with pytest.raises(CredentialsRefused, match="the service refused the organisation's client certificate"):
        mailbox.send(_mail())
    assert mailbox_sim_tls12.app.captured_requests == []


def test_a_403_from_a_proxy_in_front_of_the_service_is_refused_credentials(pki):
    # Served without TLS (start_simulator), the simulator answers as a TLS-terminating proxy: 403 without a
    # client certificate.
    with start_simulator("mina-meddelanden") as running:
        connection = Connection.from_uri(
            "mina_meddelanden_kumla",
            f"{running.base_url}?allow_http=true&signing_cert_file={pki.client_cert}&signing_key_file={pki.client_key}",
        )
        mailbox = MinaMeddelandenMailbox(dict(CONFIG), connection)
        with pytest.raises(CredentialsRefused, match="HTTP 403"):
            mailbox.reachable(RESIDENT)


@pytest.mark.parametrize(("recipient", "code"), [(NO_MAILBOX, 2001), (PENDING, 2002), (BLOCKED, 2003)])
def test_a_delivery_the_service_refuses_is_rejected_with_its_error_code_and_no_personnummer(
    mailbox, mailbox_sim, recipient, code
):
    with pytest.raises(TargetRejected) as refused:
        mailbox.send(_mail(recipient))

    message = str(refused.value)
    assert f"applicationFault ErrorCode {code}, CallId " in message
    assert message.startswith("mina-meddelanden mina_meddelanden_kumla.deliverSecure refused: deliverSecure: ")
    assert recipient not in message
    assert mailbox_sim.app.deliveries == []


@pytest.mark.parametrize("recipient", ["198005122381", "19800512-2380", "8005122380", "162120001819", ""])
def test_a_recipient_that_is_no_12_digit_personnummer_is_refused_before_anything_is_sent(mailbox, mailbox_sim,
                                                                                          recipient):
    for call in (lambda: mailbox.reachable(recipient), lambda: mailbox.send(_mail(recipient))):
        with pytest.raises(TargetRejected, match="the recipient is not a valid 12-digit personnummer") as refused:
            call()
        assert not recipient or recipient not in str(refused.value)
    assert mailbox_sim.app.captured_requests == []


def test_content_the_schema_would_refuse_is_refused_before_anything_is_sent(mailbox, mailbox_sim):
    too_long = DigitalMail(RESIDENT, "Ä" * 256, TEXT, "ev-1")
    nameless = _mail(RESIDENT, "ev-1", Attachment("", "application/pdf", b"%PDF"))
    control = DigitalMail(RESIDENT, "Beslut\x00", TEXT, "ev-1")

    with pytest.raises(TargetRejected, match=r"the subject is 256 characters .*at most 255"):
        mailbox.send(too_long)
    with pytest.raises(TargetRejected, match="attachment 1 has no file name or media type"):
        mailbox.send(nameless)
    with pytest.raises(TargetRejected, match="the subject holds characters XML cannot carry"):
        mailbox.send(control)
    assert mailbox_sim.app.captured_requests == []


def test_a_message_over_the_configured_size_is_refused_before_anything_is_sent(mailbox_sim, pki, connect):
    mailbox = MinaMeddelandenMailbox({**CONFIG, "max_message_bytes": 100_000}, connect(mailbox_sim, pki))

    with pytest.raises(TargetRejected, match="max_message_bytes"):
        mailbox.send(_mail(RESIDENT, "ev-1", Attachment("Beslut.pdf", "application/pdf", _pdf(100_001))))
    assert mailbox_sim.app.captured_requests == []


@pytest.mark.parametrize(
    ("rule", "error"),
    [
        ({"action": "soap_fault", "faultcode": "Server", "faultstring": "Tjänsten är tillfälligt otillgänglig"},
         TargetUnavailable),
        ({"action": "soap_fault", "faultcode": "Client", "faultstring": "Ogiltig begäran"}, TargetRejected),
        ({"action": "http_status", "status": 503}, TargetUnavailable),
        ({"action": "html_200"}, TargetUnavailable),
        ({"action": "reset"}, TargetUnavailable),
    ],
    ids=["server-fault", "client-fault", "503", "maintenance-page", "reset"],
)
def test_isreachable_failures_are_retried_or_refused_by_kind(mailbox, mailbox_sim, rule, error):
    mailbox_sim.app.faults.set([{"operation": "isReachable", **rule}])

    with pytest.raises(error) as failed:
        mailbox.reachable(RESIDENT)
    assert type(failed.value) is error  # a lost isReachable answer is never "in doubt": nothing was changed


# deliverSecure's outcomes when something breaks (delivered, not delivered, in doubt): test_mm_outcomes.py


def test_delivery_to_the_service_supplier_isreachable_names(mailbox_sim, pki, connect):
    mailbox = MinaMeddelandenMailbox({**CONFIG, "deliver_to": "service_supplier", "service_path": "/nowhere"},
                                     connect(mailbox_sim, pki))

    trans_id = mailbox.send(_mail())

    assert [call["operation"] for call in mailbox_sim.app.inspect("calls")] == ["isReachable", "deliverSecure"]
    assert mailbox_sim.app.deliveries[0].trans_id == trans_id
    with pytest.raises(TargetRejected, match="the recipient cannot be reached"):
        mailbox.send(_mail(NO_MAILBOX))
    assert [call["operation"] for call in mailbox_sim.app.inspect("calls")][2:] == ["isReachable"]


def test_nothing_personal_reaches_the_logs(mailbox, mailbox_sim, caplog):
    caplog.set_level(logging.DEBUG)

    mailbox.reachable(RESIDENT)
    mailbox.send(_mail(RESIDENT, "ev-1", Attachment("Beslut om startbesked.pdf", "application/pdf", _pdf(2048))))
    with pytest.raises(TargetRejected):
        mailbox.send(_mail(NO_MAILBOX, "ev-2"))

    assert "isReachable: connection=mina_meddelanden_kumla reachable=True" in caplog.text
    assert "deliverSecure: connection=mina_meddelanden_kumla reference=ev-1 attachments=1" in caplog.text
    for personal in (RESIDENT, NO_MAILBOX, "800512", SUBJECT, "Startbesked", "startbesked.pdf"):
        assert personal not in caplog.text


def test_the_signed_request_on_the_wire_is_what_was_signed(mailbox, mailbox_sim):
    # Placing the signed element in the SOAP envelope must not change a byte of it.
    sealed = mailbox.build_delivery(_mail())
    as_signed = etree.tostring(sealed)
    mailbox.post_delivery(sealed)

    (raw,) = mailbox_sim.app.captured_requests
    assert as_signed in raw


def test_a_sender_organisationsnummer_that_is_not_the_certificates_is_refused(mailbox_sim, pki, connect):
    # Kinda kommun's number, with Kumla's certificate: the service lets nobody send as another organisation.
    mailbox = MinaMeddelandenMailbox({**CONFIG, "sender_organisationsnummer": "212000-0514"},
                                     connect(mailbox_sim, pki))

    with pytest.raises(TargetRejected, match=r"senderOrgNr is not the organisationsnummer of the TLS client "
                                             r"certificate .*ErrorCode 1003"):
        mailbox.reachable(RESIDENT)
    with pytest.raises(TargetRejected, match=r"Sender/Id is not the organisationsnummer of the SignedDelivery's "
                                             r"signing certificate .*ErrorCode 1003"):
        mailbox.send(_mail())
    assert mailbox_sim.app.deliveries == []


def test_the_stand_in_brygga_run_starts_takes_the_bundled_routes_sender(tmp_path):
    """``brygga run --simulators``: the route kumla-bygglov's digital_mail config, as it is, against simulate()."""
    settings = Settings.from_env({"BRYGGA_HOME": str(tmp_path)})
    [route] = [r for r in load_routes(settings.routes_file, settings.mappings_dir) if r.id == "kumla-bygglov"]
    assert route.digital_mail is not None
    plan = '[{"operation": "deliverSecure", "action": "http_status", "status": 503, "times": 1}]'
    with simulate("mina-meddelanden", tmp_path / "mm", fault_plan=plan) as system:
        connection = Connection.from_uri("mina_meddelanden_kumla", system.uri)
        assert connection.scheme == "https" and connection.host == "127.0.0.1"
        assert {"cert_file", "key_file", "ca_bundle"} <= set(connection.extra)
        mailbox = MinaMeddelandenMailbox(dict(route.digital_mail.config), connection)

        assert mailbox.reachable(RESIDENT) is True
        with pytest.raises(TargetUnavailable, match="HTTP 503"):
            mailbox.send(_mail())
        assert mailbox.send(_mail()) == system.running.app.deliveries[0].trans_id
