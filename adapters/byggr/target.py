"""ByggR as a case target: one submission becomes one arende with one handelse holding its documents.

Delivery is at-least-once, so every step is safe to repeat. What makes it so depends on the contract version
(``config.contract``, see contracts.py and README.md):

- **v8**: check-before-create looks for an arende whose ``externRef`` is the request's ``extern_ref``
  (GetRelateradeArendenByFastighet, by FNR when known, else trakt + fbetNr); if none, SaveNewArende with
  ``externRef`` set. The documents go in a separate SaveNewHandelse marked ``brygga-ref:<extern_ref>``; on a
  retry GetArende shows whether it is there, which also repairs a crash between the two calls.
- **v4** has no ``externRef``. The case is created together with its marked handelse in one SaveNewArende,
  so a case never exists without its marker, and check-before-create looks for that marker.

An amendment (``request.amendment``) adds one incoming handelse, marked ``brygga-ref:<extern_ref>#<revision>``,
to the existing case; GetArende first, so a retry adds it once.

The target is also a ``StatusFeed`` (``changes``, ``fetch_document``): see status_feed.py.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar

from brygga.connections import Connection
from brygga.errors import ConfigError, TargetRejected
from brygga.plugins import Amendment, DeliveryReceipt, DeliveryRequest, configure
from brygga.status.changes import ChangeBatch, DocumentRef, FetchedDocument
from brygga_adapters.byggr import preflight as preflight_rules
from brygga_adapters.byggr.calls import ByggrCalls
from brygga_adapters.byggr.contracts import CONTRACTS, DEFAULT_CONTRACT, arende_for, contract_named, version_in_actions
from brygga_adapters.byggr.handelser import HandelseSpec, handelse, handlingar
from brygga_adapters.byggr.markers import marked_handelse_exists
from brygga_adapters.byggr.payload import FastighetKey, fastighet_keys
from brygga_adapters.byggr.status_feed import ByggrStatusFeed
from brygga_adapters.documents import VerifiedDocument, amendment_note, verify_all
from brygga_adapters.http.fields import soap_connection_fields
from brygga_adapters.markers import amendment_marker, creation_marker
from brygga_adapters.soap import soap_service

log = logging.getLogger("brygga.adapters.byggr")

CONFIG_SPEC: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ByggR case target",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "contract": {
            "type": "string",
            "enum": sorted(CONTRACTS),
            "default": DEFAULT_CONTRACT,
            "description": "ArendeExportWS contract version of the installation: v8 (current) or v4 (no externRef).",
        },
        "handlaggar_sign": {
            "type": "string",
            "description": "Signature of the ByggR user the integration registers as (HandlaggarSign).",
        },
        "handelse_rubrik": {
            "type": "string",
            "default": "Handlingar från e-tjänst",
            "description": "Heading (rubrik) of the handelse that carries the submission's documents.",
        },
        "handelseslag": {"type": "string", "description": "handelseslag code of that handelse, if required."},
        "handelsetyp": {
            "type": "string",
            "default": "ANSÖKAN",
            "description": "handelsetyp code of that handelse.",
        },
        "komplettering_rubrik": {
            "type": "string",
            "default": "Komplettering från e-tjänst",
            "description": "Heading of the handelse an amended form adds to its existing case.",
        },
        "komplettering_handelsetyp": {
            "type": "string",
            "default": "HANDLING",
            "description": "handelsetyp code of an amendment's handelse.",
        },
        "komplettering_handelseslag": {
            "type": "string",
            "description": "handelseslag code of an amendment's handelse, e.g. KOMPL (codes are per municipality).",
        },
        "handlingstyp": {
            "type": "string",
            "default": "BIL",
            "description": "Handling type code (typ) given to each attached document, e.g. ANS or BIL.",
        },
        "handling_status": {"type": "string", "default": "Inkommen",
                            "description": "Status given to each attached document (handling), e.g. Inkommen."},
        "ankomststampla_handlingar": {
            "type": "boolean",
            "default": True,
            "description": "Let ByggR date-stamp the documents on arrival (AnkomststamplaHandlingar).",
        },
    },
}


class ByggrTarget:
    """``CaseTarget`` for ByggR's ArendeExportWS. Endpoint and credentials come from the connection."""

    config_spec: ClassVar[dict[str, Any]] = CONFIG_SPEC
    # What the connection holds (README.md, "Connection"; docs/connections.md): `brygga adapters list` shows it.
    connection_fields: ClassVar[dict[str, str]] = soap_connection_fields(
        system="ArendeExportWS", path="/TekisArende/ArendeExportWS.svc", account="the ByggR integration user")

    def __init__(self, config: dict[str, Any], connection: Connection | None) -> None:
        if connection is None:
            raise ConfigError("byggr target needs a connection (the ArendeExportWS endpoint)")
        self.config = configure("byggr", CONFIG_SPEC, config)
        self.contract = contract_named(self.config["contract"])
        self.connection = connection

    @classmethod
    def preflight(cls, config: dict[str, Any], case: dict[str, Any], payload: dict[str, Any] | None) -> list[str]:
        """What ByggR would refuse in this payload, without calling it (see preflight.py)."""
        return preflight_rules.problems(config, payload)

    def deliver(self, request: DeliveryRequest) -> DeliveryReceipt:
        # Everything that can be refused locally is checked before the first remote call.
        documents = verify_all(request.documents)
        if request.amendment is not None:
            return self.amend(request, request.amendment, documents)
        arende = arende_for(request.payload, self.contract, request.extern_ref)
        keys = fastighet_keys(arende)
        marker = creation_marker(request.extern_ref)
        calls = self.calls()
        if self.contract.carries_extern_ref:
            dnr, created = self.create_by_extern_ref(calls, request.extern_ref, keys, arende, documents, marker)
        else:
            dnr, created = self.create_by_marker(calls, keys, arende, documents, marker)
        log.info(
            "byggr delivery: submission=%s dnr=%s created=%s documents=%d contract=%s",
            request.submission_id,
            dnr,
            created,
            len(documents),
            self.contract.name,
        )
        return DeliveryReceipt(external_ref=dnr, created=created)

    def amend(
        self, request: DeliveryRequest, amendment: Amendment, documents: list[VerifiedDocument]
    ) -> DeliveryReceipt:
        if amendment.revision < 2 or not amendment.external_ref:
            raise TargetRejected("byggr amendment needs the existing dnr and a revision of 2 or more")
        dnr = amendment.external_ref
        marker = amendment_marker(request.extern_ref, amendment.revision)
        calls = self.calls()
        added = not marked_handelse_exists(calls.get_arende(dnr), marker)
        if added:
            spec = HandelseSpec(
                rubrik=self.config["komplettering_rubrik"],
                handelsetyp=self.config.get("komplettering_handelsetyp"),
                handelseslag=self.config.get("komplettering_handelseslag"),
                anteckning=amendment_note(marker, amendment.revision, amendment.changed_fields),
            )
            calls.save_new_handelse(dnr, handelse(spec), self.handlingar(calls, documents))
        log.info(
            "byggr amendment: submission=%s dnr=%s revision=%d added=%s documents=%d",
            request.submission_id,
            dnr,
            amendment.revision,
            added,
            len(documents),
        )
        return DeliveryReceipt(external_ref=dnr, created=False)

    # --- status feed (brygga.status.changes.StatusFeed) -------------------------------------------

    @cached_property
    def status_feed(self) -> ByggrStatusFeed:
        # Through calls(), so a feed on a connection serving another contract is refused as delivery is.
        return ByggrStatusFeed(self.connection, self.contract.name, service=lambda: self.calls().service)

    def changes(self, since: datetime) -> ChangeBatch:
        return self.status_feed.changes(since)

    def fetch_document(self, document: DocumentRef) -> FetchedDocument:
        return self.status_feed.fetch_document(document)

    # --- creating, per contract -------------------------------------------------------------------

    def create_by_extern_ref(
        self,
        calls: ByggrCalls,
        extern_ref: str,
        keys: list[FastighetKey],
        arende: dict[str, Any],
        documents: list[VerifiedDocument],
        marker: str,
    ) -> tuple[str, bool]:
        dnr = next((a.dnr for key in keys for a in calls.related(key) if a.extern_ref == extern_ref), None)
        created = dnr is None
        if dnr is None:
            dnr = calls.save_new_arende(arende)
        if documents and (created or not marked_handelse_exists(calls.get_arende(dnr), marker)):
            calls.save_new_handelse(dnr, handelse(self.documents_handelse(marker)), self.handlingar(calls, documents))
        return dnr, created

    def create_by_marker(
        self,
        calls: ByggrCalls,
        keys: list[FastighetKey],
        arende: dict[str, Any],
        documents: list[VerifiedDocument],
        marker: str,
    ) -> tuple[str, bool]:
        dnr = self.find_by_marker(calls, keys, marker)
        if dnr is not None:
            return dnr, False
        # Case and marker in one call: without externRef, a case without its marker could never be found again.
        spec = self.documents_handelse(marker)
        return calls.save_new_arende(arende, handelse(spec), self.handlingar(calls, documents)), True

    @staticmethod
    def find_by_marker(calls: ByggrCalls, keys: list[FastighetKey], marker: str) -> str | None:
        unlisted: dict[str, None] = {}  # arenden listed without handelser: the listing may leave them out
        for key in keys:
            for arende in calls.related(key):
                if marked_handelse_exists(arende, marker):
                    return arende.dnr
                if not arende.handelser:
                    unlisted[arende.dnr] = None
        return next((dnr for dnr in unlisted if marked_handelse_exists(calls.get_arende(dnr), marker)), None)

    # --- helpers ----------------------------------------------------------------------------------

    def calls(self) -> ByggrCalls:
        # Looked up per delivery: the cache makes it cheap, and a target that was down at start-up recovers.
        calls = ByggrCalls(
            soap_service(self.connection),
            handlaggar_sign=self.config.get("handlaggar_sign"),
            ankomststampla=self.config["ankomststampla_handlingar"],
        )
        served = version_in_actions(calls.soap_actions())
        if served in CONTRACTS and served != self.contract.name:
            # The configuration is wrong, not the request: the admin fixes config 'contract', then replays.
            raise ConfigError(
                f"connection {self.connection.conn_id!r} serves ByggR contract {served}, "
                f"the target is configured for {self.contract.name} (config 'contract')"
            )
        return calls

    def documents_handelse(self, marker: str) -> HandelseSpec:
        return HandelseSpec(
            rubrik=self.config["handelse_rubrik"],
            handelsetyp=self.config.get("handelsetyp"),
            handelseslag=self.config.get("handelseslag"),
            anteckning=marker,
        )

    def handlingar(self, calls: ByggrCalls, documents: list[VerifiedDocument]) -> dict[str, Any] | None:
        """Built right before the call that sends them: each document streams from disk into that request."""
        return handlingar(documents, self.config["handlingstyp"], self.config["handling_status"],
                          content=lambda d: calls.service.file_value(d.path, d.size, d.sha256))
