"""ByggR as a case target: one submission becomes one arende with one handelse holding its documents.

Delivery is at-least-once, so every step is safe to repeat:
1. check-before-create: GetRelateradeArendenByFastighet for each property in the payload, looking for an
   arende whose ``externRef`` is the request's ``extern_ref``;
2. if none, SaveNewArende with ``externRef`` set;
3. documents go in a separate SaveNewHandelse whose ``anteckning`` carries a marker; on a retry GetArende
   shows whether that handelse is already there, so documents are added once.
A crash between 2 and 3 is repaired by the retry: step 1 finds the case, step 3 adds the documents.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any, ClassVar

from zeep import xsd

from brygga.connections import Connection
from brygga.errors import ConfigError, TargetRejected
from brygga.plugins import DeliveryReceipt, DeliveryRequest, configure
from brygga_adapters.byggr.documents import VerifiedDocument, read_verified
from brygga_adapters.byggr.payload import FastighetKey, arende_with_extern_ref, fastighet_keys, to_zeep
from brygga_adapters.soap import SoapService, soap_service

log = logging.getLogger("brygga.adapters.byggr")

MARKER_PREFIX = "brygga-ref:"

CONFIG_SPEC: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ByggR case target",
    "type": "object",
    "additionalProperties": False,
    "properties": {
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
        "handlingstyp": {
            "type": "string",
            "default": "BIL",
            "description": "Handling type code (typ) given to each attached document, e.g. ANS or BIL.",
        },
        "handling_status": {"type": "string", "default": "Inkommen"},
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

    def __init__(self, config: dict[str, Any], connection: Connection | None) -> None:
        if connection is None:
            raise ConfigError("byggr target needs a connection (the ArendeExportWS endpoint)")
        self.config = configure("byggr", CONFIG_SPEC, config)
        self.connection = connection

    @property
    def service(self) -> SoapService:
        # Looked up per call: the cache makes it cheap, and a target that was down at start-up recovers.
        return soap_service(self.connection)

    def deliver(self, request: DeliveryRequest) -> DeliveryReceipt:
        # Everything that can be refused locally is checked before the first remote call.
        documents = [read_verified(doc, position) for position, doc in enumerate(request.documents, start=1)]
        arende = arende_with_extern_ref(request.payload, request.extern_ref)
        keys = fastighet_keys(arende)
        marker = MARKER_PREFIX + request.extern_ref

        dnr = self.find_existing(request.extern_ref, keys)
        created = dnr is None
        if dnr is None:
            dnr = self.save_new_arende(arende)
        if documents and (created or not self.has_marked_handelse(dnr, marker)):
            self.save_documents(dnr, documents, marker)
        log.info(
            "byggr delivery: submission=%s dnr=%s created=%s documents=%d",
            request.submission_id,
            dnr,
            created,
            len(documents),
        )
        return DeliveryReceipt(external_ref=dnr, created=created)

    # --- the remote steps -------------------------------------------------------------------------

    def find_existing(self, extern_ref: str, keys: list[FastighetKey]) -> str | None:
        for key in keys:
            found = self.service.call(
                "GetRelateradeArendenByFastighet",
                fnr=key.fnr if key.fnr is not None else xsd.Nil,
                trakt=key.trakt,
                fBetNr=key.fbet_nr,
                arHuvudObjekt=xsd.Nil,
                statusFilter="None",
            )
            for arende in found or []:
                if arende is not None and arende.externRef == extern_ref and arende.dnr:
                    return str(arende.dnr)
        return None

    def save_new_arende(self, arende: dict[str, Any]) -> str:
        result = self.service.call(
            "SaveNewArende",
            message={
                "HandlaggarSign": self.config.get("handlaggar_sign"),
                "Arende": to_zeep(arende, self.service.get_type),
                "AnkomststamplaHandlingar": self.config["ankomststampla_handlingar"],
            },
        )
        dnr = getattr(result, "Dnr", result)  # zeep unwraps a single-element result
        if not dnr:
            raise TargetRejected("byggr SaveNewArende answered without a Dnr")
        return str(dnr)

    def has_marked_handelse(self, dnr: str, marker: str) -> bool:
        arende = self.service.call("GetArende", dnr=dnr)
        handelser = arende.handelseLista.handelse if arende is not None and arende.handelseLista else []
        return any((handelse.anteckning or "").startswith(marker) for handelse in handelser)

    def save_documents(self, dnr: str, documents: list[VerifiedDocument], marker: str) -> int:
        today = date.today()
        handelse = {
            "handelseId": 0,  # required by the schema; ByggR assigns the real id
            "riktning": "In",
            "rubrik": self.config["handelse_rubrik"],
            "startDatum": datetime.now().astimezone(),
            "anteckning": marker,
            "handelseslag": self.config.get("handelseslag"),
            "handelsetyp": self.config.get("handelsetyp"),
            "sekretess": False,
            "makulerad": False,
            "arbetsmaterial": False,
        }
        handlingar = [
            {
                "handlingId": 0,
                "typ": self.config["handlingstyp"],
                "status": self.config["handling_status"],
                "handlingDatum": today,
                "anteckning": document.name,
                "makulerad": False,
                "dokument": {
                    "namn": document.name,
                    "fil": {"filBuffer": document.content, "filAndelse": document.extension or None},
                },
            }
            for document in documents
        ]
        result = self.service.call(
            "SaveNewHandelse",
            message={
                "Dnr": dnr,
                "HandlaggarSign": self.config.get("handlaggar_sign"),
                "Handelse": handelse,
                "Handlingar": {"handling": handlingar},
                "BesvaradHandelseId": xsd.Nil,
                "AnkomststamplaHandlingar": self.config["ankomststampla_handlingar"],
                "AutoGenereraBeslutNr": False,
            },
        )
        handelse_id = getattr(result, "HandelseId", result)
        if handelse_id is None:
            raise TargetRejected("byggr SaveNewHandelse answered without a HandelseId")
        return int(handelse_id)
