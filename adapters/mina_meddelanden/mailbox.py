"""``MinaMeddelandenMailbox``: Mina meddelanden, the national digital mailbox, as a ``DigitalMailbox``. See README.md.

Nothing of the resident reaches a log or an exception: no personnummer, subject, text or file name. Logs name the
connection, the message's reference (a status event id) and counts.
"""

from __future__ import annotations

import datetime
import logging
import time
from typing import Any, ClassVar

from lxml import etree

from brygga.connections import Connection
from brygga.errors import ConfigError, TargetRejected
from brygga_adapters.http import build_session, check_url, endpoint_url, timeouts
from brygga_adapters.mina_meddelanden import payload, replies
from brygga_adapters.mina_meddelanden.config import CONFIG_SPEC, read_settings
from brygga_adapters.mina_meddelanden.contract import DigitalMail
from brygga_adapters.mina_meddelanden.signing import load_signing_key
from brygga_adapters.mina_meddelanden.transport import post

log = logging.getLogger("brygga.adapters.mina_meddelanden")

CONNECTION_FIELDS: dict[str, str] = {
    "conn_type": "brygga_http (or a plain https URI as BRYGGA_CONN_<ID>)",
    "host": "the Mina meddelanden host (or its whole URL); https only",
    "extra path": "a base path both services share, if any; the config's recipient_path and service_path follow it",
    "extra cert_file": "the organisation's certificate (PEM, e.g. a funktionscertifikat) for mutual TLS",
    "extra key_file": "its private key (PEM, unencrypted, a path; never the PEM itself)",
    "extra signing_cert_file": "certificate to sign deliveries with, if not cert_file (RSA)",
    "extra signing_key_file": "its private key, with signing_cert_file",
    "extra ca_bundle": "PEM file of the CA that issued the service's TLS certificate, if not a public one",
    "extra allowed_hosts": "with deliver_to service_supplier: the mailbox operators' hosts deliveries may go to",
    "extra connect_timeout": "seconds to connect (default 5)",
    "extra read_timeout": "seconds to wait for an answer (default 30)",
}


class MinaMeddelandenMailbox:
    """isReachable and deliverSecure (v3) with the organisation's certificate: mutual TLS and XML signatures."""

    config_spec: ClassVar[dict[str, Any]] = CONFIG_SPEC
    connection_fields: ClassVar[dict[str, str]] = CONNECTION_FIELDS

    def __init__(self, config: dict[str, Any], connection: Connection | None) -> None:
        if connection is None:
            raise ConfigError("mina-meddelanden needs a connection (the service's URL and the organisation's "
                              "certificate)")
        self.settings = read_settings(config)
        self.connection = connection
        base = endpoint_url(connection)
        self.recipient_url = base + self.settings.recipient_path
        self.service_url = base + self.settings.service_path
        check_url(connection, self.recipient_url)
        check_url(connection, self.service_url)
        self.signing_key = load_signing_key(connection)
        # No HTTP credentials: the organisation is known by its client certificate.
        self.session = build_session(connection, http_auth=False)
        self.timeout = timeouts(connection)
        self.where = f"mina-meddelanden {connection.conn_id}"

    # --- DigitalMailbox ---------------------------------------------------------------------------

    def reachable(self, recipient: str) -> bool:
        """isReachable: the recipient has a mailbox, with a service supplier, open and accepting this sender."""
        started = time.monotonic()
        status = self._reachability(recipient)
        log.info("mina-meddelanden isReachable: connection=%s reachable=%s seconds=%.3f", self.connection.conn_id,
                 status.reachable, time.monotonic() - started)
        return status.reachable

    def send(self, mail: DigitalMail) -> str:
        """deliverSecure: sign, seal and deliver ``mail``; the service's delivery reference (TransId)."""
        sealed = self.build_delivery(mail)  # refuses what the schema would, before any call
        url = self.service_url
        if self.settings.deliver_to == "service_supplier":
            status = self._reachability(mail.recipient)
            if not status.reachable or status.service_address is None:
                raise TargetRejected(f"{self.where}.deliverSecure: the recipient cannot be reached in Mina "
                                     "meddelanden (rule: isReachable first)")
            url = status.service_address
            check_url(self.connection, url)
        started = time.monotonic()
        trans_id = self.post_delivery(sealed, url)
        log.info("mina-meddelanden deliverSecure: connection=%s reference=%s attachments=%d seconds=%.3f",
                 self.connection.conn_id, mail.reference, len(mail.attachments), time.monotonic() - started)
        return trans_id

    # --- the two steps of send, apart for tests and tools -----------------------------------------

    def build_delivery(self, mail: DigitalMail, today: datetime.date | None = None) -> etree._Element:
        """The signed and sealed delivery: deliverSecure's inner element, ready to post."""
        where = f"{self.where}.deliverSecure"
        signed = self.signing_key.sign(payload.signed_delivery(mail, self.settings, where))
        sealed = payload.sealed_delivery(signed, today or datetime.date.today())
        return self.signing_key.sign(sealed)

    def post_delivery(self, sealed: etree._Element, url: str | None = None) -> str:
        """Post a delivery built by ``build_delivery`` (to ``url``, by default the service path); the TransId."""
        where = f"{self.where}.deliverSecure"
        body = payload.deliver_secure_envelope(sealed)
        status, content = post(self.session, url or self.service_url, body, self.timeout, where, changes_state=True)
        return replies.delivery_reference(replies.payload(status, content, where, changes_state=True), where)

    def _reachability(self, recipient: str) -> replies.Reachability:
        where = f"{self.where}.isReachable"
        payload.check_recipient(recipient, where)
        request = payload.is_reachable_request(self.settings.sender_id, recipient)
        status, content = post(self.session, self.recipient_url, payload.envelope(request), self.timeout, where,
                               changes_state=False)
        return replies.reachability(replies.payload(status, content, where), recipient, where)
