"""Every reply the endpoint gives the byggr-soap profile, kept as it came, and judged against the contract.

Brygga's adapter reads replies tolerantly (adapters/byggr/README.md, "Reading replies"), so a reply off the contract
can pass every other check; here each reply is judged as every SOAP profile judges one (soap_replies.py): against the
XSD of Brygga's copy of the contract, where an element or attribute the copy lacks is allowed when the endpoint's own
WSDL declares it (Brygga's copy is a subset of ByggR's: a real ByggR answers with bevakningLista, beslut, byggnadList
and more). The replies are caught on the SOAP client's session, so the adapter's own calls are seen as sent.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import requests
from lxml import etree

from brygga_conformance.profiles.byggr_contract import contract
from brygga_conformance.profiles.soap_replies import ReplyCheck, ReplyLog, operation_of

__all__ = ["ReplyCheck", "ReplyLog", "operation_of", "shape_check", "shape_findings"]


def shape_check(replies: list[requests.Response], schema: etree.XMLSchema, version: str,
                served: Any = None) -> ReplyCheck:
    """The successful replies judged against contract ``version`` (validated with ``schema``, its XSD).
    ``served``: the endpoint's WSDL (a zeep Document), whose declarations are allowed beyond the copy's; without it,
    only the copy's are."""
    check = ReplyCheck(replace(contract(version), schema=schema), served)
    for reply in replies:
        check.add(reply)
    return check


def shape_findings(replies: list[requests.Response], schema: etree.XMLSchema, version: str,
                   served: Any = None) -> tuple[list[str], str]:
    """Findings for the successful replies that do not follow contract ``version``, and a note of what was validated
    and allowed (shape_check)."""
    findings, notes = shape_check(replies, schema, version, served).summary()
    return findings, "; ".join(notes)
