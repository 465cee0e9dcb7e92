"""Non-conforming variants of the ByggR simulator: bugs a vendor's ArendeExportWS could ship, switched on by name.

``ByggrSimulator(flaws=["ignores-extern-ref"])``, ``start_simulator("byggr", flaws=[...])`` or
``python -m brygga_simulators byggr --option flaws=omits-dnr,truncates-documents``. The conformance kit's
``byggr-soap`` profile must fail against each with a precise finding (tests/conformance/test_byggr_soap.py).
Without flaws the simulator behaves as documented; nothing here runs then.
"""

from __future__ import annotations

import base64
from collections.abc import Collection

from lxml import etree

from brygga_simulators.flaws import flaw_names

FLAWS: dict[str, str] = {
    "omits-dnr": "SaveNewArende registers the case but answers an empty SaveNewArendeResult, without its Dnr",
    "truncates-documents": "a file's last base64 group is dropped when it is padded (a decoder that takes whole "
                           "unpadded groups only): a file whose size is no multiple of 3 loses its last 1 or 2 bytes",
    "accepts-invalid": "SaveNewArende registers whatever comes: neither the schema (ankomstDatum) nor ByggR's rules "
                       "(arendegrupp, arendetyp, an applicant) are checked",
    "no-fault-500": "invalid input gets IIS's bare HTTP 500 error page, not a SOAP Fault (an unhandled exception)",
    "server-fault": "invalid input gets a SOAP Fault with faultcode Server, as if the server had failed, not Client",
    "ignores-extern-ref": "SaveNewArende does not store the arende's externRef (v8), so no search finds the case by it",
    "drops-anteckning": "a handelse sent in is stored without its anteckning, where Brygga's brygga-ref marker goes",
    "renames-reply-element": "SaveNewArende's reply spells Dnr as DNr",
    "wsdl-without-get-document": "the WSDL served at ?wsdl has no GetDocument operation (the service still answers it)",
}
# Flaws whose replies are off-contract or built from what the contract refuses: the simulator's own reply check
# would turn them into Server faults.
OFF_CONTRACT = frozenset({"renames-reply-element", "accepts-invalid"})
WSDL = "http://schemas.xmlsoap.org/wsdl/"

ERROR_PAGE = (
    '<!DOCTYPE html><html><head><title>Runtime Error</title></head><body><h1>Server Error in '
    "'/TekisArende' Application.</h1><h2><i>Runtime Error</i></h2></body></html>"
)


class ErrorPage(Exception):
    """Raised by a flawed operation to answer IIS's bare HTTP 500 page (flaw ``no-fault-500``)."""


def parse_flaws(value: Collection[str] | str | None) -> frozenset[str]:
    """``flaws`` as given in Python (a collection) or by ``--option flaws=a,b``; unknown names are a ValueError."""
    return flaw_names(value, FLAWS, "byggr")


def without_padded_group(encoded: str) -> bytes:
    """What a decoder that takes whole unpadded 4-character groups only makes of ``encoded`` (flaw
    ``truncates-documents``)."""
    text = "".join(encoded.split())
    return base64.b64decode(text[:-4] if text.endswith("=") else text)


def without_operation(definitions: etree._Element, operation: str) -> None:
    """Remove ``operation`` from every portType and binding of a parsed WSDL (flaw ``wsdl-without-get-document``)."""
    for parent in (*definitions.iterfind(f"{{{WSDL}}}portType"), *definitions.iterfind(f"{{{WSDL}}}binding")):
        for found in parent.iterfind(f"{{{WSDL}}}operation[@name='{operation}']"):
            parent.remove(found)
