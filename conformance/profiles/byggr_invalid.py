"""Input ByggR's contract refuses, sent to the endpoint: each must get a SOAP Fault with faultcode Client.

Each is a sample's valid SaveNewArende with one thing taken away: an element the schema requires (the request is
built by zeep from the endpoint's WSDL, then the element is removed on its way out, as zeep would never send it), or
what ByggR's rules require (adapters/byggr/README.md, "Required by ByggR"). A Client fault is what Brygga treats as
a refusal (the submission goes to quarantine); a Server fault is retried, HTTP 5xx without a fault too, so a system
answering that way keeps a bad submission waiting for its whole retry budget. What the endpoint accepts it registers:
the finding names the dnr, for the vendor to remove.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from lxml import etree
from zeep import Plugin
from zeep import exceptions as zeep_errors

from brygga.connections import Connection
from brygga.errors import BryggaError
from brygga.faults import Fault, soap_fault_code_fault
from brygga_adapters.byggr.payload import ARENDE_NS, to_zeep
from brygga_adapters.soap import SoapService
from brygga_adapters.soap.elements import child_text, local_name, result_or_self
from brygga_adapters.soap.raw import reply_payload

OPERATION = "SaveNewArende"


@dataclass(frozen=True)
class Invalid:
    what: str  # for the finding: "SaveNewArende without Arende/ankomstDatum (the schema requires it)"
    arende: dict[str, Any]  # the payload sent
    remove: str | None = None  # an arende element removed after zeep built the request


def invalid_inputs(arende: dict[str, Any]) -> list[Invalid]:
    """What is sent, made from a valid arende payload (as the contract's SaveNewArende carries it)."""
    def without(*keys: str) -> dict[str, Any]:
        return {key: value for key, value in arende.items() if key not in keys}

    return [
        Invalid(f"{OPERATION} without Arende/ankomstDatum (the schema requires it)", arende, remove="ankomstDatum"),
        Invalid(f"{OPERATION} without an applicant (no intressent with roll SOK; ByggR requires one)",
                without("intressentLista")),
        Invalid(f"{OPERATION} without the attributes arendegrupp and arendetyp (ByggR requires them)",
                without("arendegrupp", "arendetyp")),
    ]


class _Remove(Plugin):
    """Takes one arende element out of the envelope zeep built (zeep's egress hook, after its own validation)."""

    def __init__(self) -> None:
        self.name: str | None = None

    def egress(self, envelope: etree._Element, http_headers: Any, operation: Any, binding_options: Any) -> Any:
        if self.name:
            for element in list(envelope.iter(f"{{{ARENDE_NS}}}{self.name}")):
                element.getparent().remove(element)
        return envelope, http_headers


class InvalidSender:
    """A SOAP client of its own (it alters requests), sending each invalid input and keeping the raw answer."""

    def __init__(self, connection: Connection, handlaggar_sign: str | None) -> None:
        self._remove = _Remove()
        self.service = SoapService(connection, plugins=[self._remove])
        self.handlaggar_sign = handlaggar_sign

    def send(self, invalid: Invalid) -> requests.Response:
        message = {
            "HandlaggarSign": self.handlaggar_sign,
            "Arende": to_zeep(invalid.arende, self.service.get_type),
            "Handelse": None,
            "Handlingar": None,
            "AnkomststamplaHandlingar": True,
        }
        with self._removing(invalid.remove), self.service.client.settings(raw_response=True):
            return self.service.proxy.SaveNewArende(message=message)

    @contextmanager
    def _removing(self, name: str | None) -> Iterator[None]:
        self._remove.name = name
        try:
            yield
        finally:
            self._remove.name = None


def judge(invalid: Invalid, response: requests.Response) -> tuple[str | None, str]:
    """(a finding or None, a note) for the endpoint's answer to ``invalid``."""
    status, kind = response.status_code, response.headers.get("Content-Type", "no Content-Type")
    expected = "expected a SOAP Fault with faultcode Client"
    try:
        payload = reply_payload(status, response.content, OPERATION)
    except zeep_errors.Fault as fault:
        code = (fault.code or "").strip()
        # By its code only: the faultstring is the endpoint's free text, which may quote the request's names.
        note = f"{invalid.what}: HTTP {status}, SOAP Fault {code or '(no faultcode)'}"
        if soap_fault_code_fault(code) is Fault.PERMANENT:  # as Brygga reads it: a refusal
            return None, note
        return (f"{invalid.what} got a SOAP Fault with faultcode {code}, which says the server failed; {expected} "
                "(Brygga retries a Server fault, so a refused submission would wait out its retry budget instead of "
                "going to quarantine)"), note
    except zeep_errors.TransportError:
        return f"{invalid.what} got HTTP {status} ({kind}) without a SOAP Fault; {expected}", f"HTTP {status}"
    except BryggaError as exc:  # HTTP 200 that is no SOAP, or a malformed envelope
        return f"{invalid.what} got HTTP {status} ({kind}) that is no SOAP Fault ({exc}); {expected}", f"HTTP {status}"
    dnr = child_text(result_or_self(payload, OPERATION, unreadable=ValueError), "Dnr") if _is_reply(payload) else None
    registered = f", registering case {dnr}" if dnr else ""
    return (f"{invalid.what} was accepted: HTTP {status} {etree.QName(payload).localname}{registered}; {expected}",
            f"HTTP {status}{registered}")


def _is_reply(payload: etree._Element) -> bool:
    return local_name(payload) == f"{OPERATION}Response".casefold()
