"""Non-conforming variants of the Ecos simulator: bugs real vendors ship, switched on by name (``flaws``).

The conformance kit's ``ecos-soap`` profile must fail against each of them with a precise finding
(tests/conformance/test_ecos_soap.py). Without flaws the simulator behaves as documented; nothing here runs then.
"""

from __future__ import annotations

from collections.abc import Collection

from lxml import etree

from brygga.xmlsafe import parse_xml
from brygga_simulators.flaws import flaw_names

FLAWS: dict[str, str] = {
    "no-case-number": "RegisterDocument answers the CaseId without the CaseNumber (the diarienummer is only given "
                      "later, by a registrar)",
    "text-mode-documents": "documents are stored as text with Windows line endings (every LF byte becomes CR LF), "
                           "as a text-mode transfer does",
    "accepts-invalid": "requests are not validated against the schema, and a RegisterDocument without a valid "
                       "ProcessTypeId or OccurrenceTypeId is registered under the installation's first type",
    "no-fault-500": "a request it refuses gets a bare HTTP 500 HTML error page instead of a SOAP Fault (an "
                    "unhandled exception behind IIS)",
    "server-fault-on-invalid": "a request it refuses gets a SOAP Fault with faultcode Server instead of Client",
    "truncates-subtitle": "CaseSubtitleFree is stored cut to 64 characters (a column too short), so its end is lost",
    "renames-reply-element": "GetCase lists each document's Filename as FileName, unlike its own WSDL",
    "wsdl-lacks-operation": "the served WSDL leaves GetDocument out (an installation that does not publish document "
                            "download)",
    "wsdl-renames-element": "the served WSDL names DocumentListItemSvcDto's Filename FileName (the replies do not)",
}

SUBTITLE_COLUMN = 64
HTML_ERROR_PAGE = (b"<!DOCTYPE html><html><head><title>Runtime Error</title></head><body><h1>Server Error in "
                   b"'/Ecos2PublicServices' Application.</h1><p>An unhandled exception occurred.</p></body></html>")

_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_XS = "http://www.w3.org/2001/XMLSchema"
_LEFT_OUT = "GetDocument"
_RENAMED = ("DocumentListItemSvcDto", "Filename", "FileName")  # type, element, its name in the flawed WSDL


def parse_flaws(value: Collection[str] | str | None) -> frozenset[str]:
    """``flaws`` as given in Python (a collection) or by ``--option flaws=a,b``; unknown names are a ValueError."""
    return flaw_names(value, FLAWS, "ecos")


def text_mode(content: bytes) -> bytes:
    return content.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def flawed_wsdl(wsdl: bytes, flaws: frozenset[str]) -> bytes:
    """The WSDL as the flawed service serves it."""
    if not flaws & {"wsdl-lacks-operation", "wsdl-renames-element"}:
        return wsdl
    definitions = parse_xml(wsdl, source="simulator WSDL")
    if "wsdl-lacks-operation" in flaws:
        doomed = [
            *definitions.iterfind(f"{{{_WSDL}}}portType/{{{_WSDL}}}operation[@name='{_LEFT_OUT}']"),
            *definitions.iterfind(f"{{{_WSDL}}}binding/{{{_WSDL}}}operation[@name='{_LEFT_OUT}']"),
            *(m for m in definitions.iterfind(f"{{{_WSDL}}}message") if f"_{_LEFT_OUT}_" in m.get("name", "")),
            *(e for e in definitions.iterfind(f"{{{_WSDL}}}types/{{{_XS}}}schema/{{{_XS}}}element")
              if e.get("name") in (_LEFT_OUT, f"{_LEFT_OUT}Response")),
        ]
        for element in doomed:
            element.getparent().remove(element)
    if "wsdl-renames-element" in flaws:
        type_name, old, new = _RENAMED
        for element in definitions.iterfind(
                f"{{{_WSDL}}}types/{{{_XS}}}schema/{{{_XS}}}complexType[@name='{type_name}']//{{{_XS}}}element"):
            if element.get("name") == old:
                element.set("name", new)
    return etree.tostring(definitions, xml_declaration=True, encoding="utf-8")
