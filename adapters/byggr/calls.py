"""The ArendeExportWS operations Brygga uses: requests built strictly by zeep, replies read tolerantly."""

from __future__ import annotations

from typing import Any

from zeep import xsd

from brygga_adapters.byggr.payload import FastighetKey, to_zeep
from brygga_adapters.byggr.replies import (
    ArendeSummary,
    read_get_arende,
    read_related_arenden,
    read_save_new_arende,
    read_save_new_handelse,
)
from brygga_adapters.soap import SoapService
from brygga_adapters.soap.raw import call_raw

RELATED = "GetRelateradeArendenByFastighet"


class ByggrCalls:
    def __init__(self, service: SoapService, handlaggar_sign: str | None, ankomststampla: bool) -> None:
        self.service = service
        self.handlaggar_sign = handlaggar_sign
        self.ankomststampla = ankomststampla

    def related(self, key: FastighetKey) -> tuple[ArendeSummary, ...]:
        reply = call_raw(
            self.service,
            RELATED,
            fnr=key.fnr if key.fnr is not None else xsd.Nil,
            trakt=key.trakt,
            fBetNr=key.fbet_nr,
            arHuvudObjekt=xsd.Nil,
            statusFilter="None",
        )
        return read_related_arenden(reply, RELATED)

    def get_arende(self, dnr: str) -> ArendeSummary:
        return read_get_arende(call_raw(self.service, "GetArende", dnr=dnr))

    def save_new_arende(
        self, arende: dict[str, Any], handelse: dict[str, Any] | None = None, handlingar: dict[str, Any] | None = None
    ) -> str:
        message = {
            "HandlaggarSign": self.handlaggar_sign,
            "Arende": to_zeep(arende, self.service.get_type),
            "Handelse": handelse,
            "Handlingar": handlingar,
            "AnkomststamplaHandlingar": self.ankomststampla,
        }
        return read_save_new_arende(call_raw(self.service, "SaveNewArende", message=message))

    def save_new_handelse(self, dnr: str, handelse: dict[str, Any], handlingar: dict[str, Any] | None) -> int:
        message = {
            "Dnr": dnr,
            "HandlaggarSign": self.handlaggar_sign,
            "Handelse": handelse,
            "Handlingar": handlingar,
            "BesvaradHandelseId": xsd.Nil,
            "AnkomststamplaHandlingar": self.ankomststampla,
            "AutoGenereraBeslutNr": False,
        }
        return read_save_new_handelse(call_raw(self.service, "SaveNewHandelse", message=message))

    def soap_actions(self) -> list[str]:
        """The SOAP actions of the bound port, which name the contract version (see contracts.py)."""
        operations = getattr(getattr(self.service.proxy, "_binding", None), "_operations", {}) or {}
        return [getattr(operation, "soapaction", "") or "" for operation in operations.values()]
