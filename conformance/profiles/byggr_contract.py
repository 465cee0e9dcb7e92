"""Brygga's copy of ByggR's ArendeExportWS contract (v8 or v4), read as data, and the endpoint's WSDL compared with it.

The copies ship as package data of brygga_simulators (``byggr/ArendeExportWS.wsdl``, ``byggr/ArendeExportWS.v4.wsdl``).
The package is located, not imported: its ``__init__`` would load simulator code, which the kit must not run.
Each copy is the subset of ByggR's published WSDL that Brygga uses. An endpoint may declare more (a real ByggR does);
what the copy declares must be there under the same names: the operations with their SOAP actions (which name the
contract version), the messages' elements, and each type's elements and attributes (a renamed one is one missing).
"""

from __future__ import annotations

import importlib.util
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import zeep.wsdl
from lxml import etree
from zeep.transports import Transport

from brygga_adapters.byggr.contracts import version_in_actions
from brygga_adapters.soap import safe_settings
from brygga_conformance.profiles.ecos_contract import compile_schema

SERVICE_NS = "www.tekis.se/ServiceContract"
ARENDE_NS = "www.tekis.se/arende"
CONTRACT_FILES = {"v8": "ArendeExportWS.wsdl", "v4": "ArendeExportWS.v4.wsdl"}


@dataclass(frozen=True)
class Contract:
    version: str  # v8 or v4
    document: Any  # zeep.wsdl.Document: operations and types, to compare the endpoint's WSDL with
    schema: etree.XMLSchema  # the WSDL's embedded XSD, to validate reply bodies with

    @property
    def operations(self) -> dict[str, Any]:
        return binding_operations(self.document)


def contract_wsdl(version: str) -> bytes:
    spec = importlib.util.find_spec("brygga_simulators")
    if spec is None:
        raise RuntimeError("brygga_simulators is not installed: the kit reads ByggR's contract from its package data")
    package = importlib.util.module_from_spec(spec)  # a module object to read files by; its code does not run
    return files(package).joinpath("byggr", CONTRACT_FILES[version]).read_bytes()


@cache
def contract(version: str) -> Contract:
    wsdl = contract_wsdl(version)
    document = zeep.wsdl.Document(io.BytesIO(wsdl), Transport(), settings=safe_settings())
    return Contract(version, document, compile_schema(wsdl))


def binding_operations(document: Any) -> dict[str, Any]:
    """Operation name -> zeep operation, over every binding of the WSDL (an installation may list http and https)."""
    found: dict[str, Any] = {}
    for binding in document.bindings.values():
        for name, operation in getattr(binding, "_operations", {}).items():
            found.setdefault(name, operation)
    return found


def compare_wsdl(ours: Contract, served: Any) -> list[str]:
    """Findings where the endpoint's WSDL (a zeep Document) lacks what Brygga's copy of the contract declares."""
    theirs = binding_operations(served)
    served_version = version_in_actions([operation.soapaction or "" for operation in theirs.values()])
    if served_version not in (None, ours.version):
        # One finding, not one per operation and element: the run asked for the other version.
        return [f"the endpoint's WSDL is ByggR contract {served_version} (its SOAP actions say so); the kit checked "
                f"it as contract {ours.version}: run it with --option contract={served_version}"]
    findings = []
    for name, operation in ours.operations.items():
        if name not in theirs:
            findings.append(f"the endpoint's WSDL has no operation {name}; contract {ours.version} has it")
            continue
        if (theirs[name].soapaction or "") != operation.soapaction:
            findings.append(f"the endpoint's WSDL gives {name} the SOAP action {theirs[name].soapaction!r}; "
                            f"contract {ours.version} has {operation.soapaction!r}")
        for direction in ("input", "output"):
            expected, found = _body(getattr(operation, direction)), _body(getattr(theirs[name], direction))
            if expected != found:
                findings.append(f"the endpoint's WSDL gives {name} the {direction} element {_name(found)}; "
                                f"contract {ours.version} has {_name(expected)}")
    for element in ours.document.types.elements:
        if element.qname.namespace == SERVICE_NS:
            found = _lookup(served.types.get_element, element.qname)
            findings += _compare(ours.version, f"element {element.qname.localname}", element.type,
                                 getattr(found, "type", None), missing=found is None)
    for xsd_type in ours.document.types.types:
        qname = getattr(xsd_type, "qname", None)
        if qname is None or qname.namespace not in (SERVICE_NS, ARENDE_NS) or not _members(xsd_type):
            continue
        found = _lookup(served.types.get_type, qname)
        findings += _compare(ours.version, f"type {qname.localname}", xsd_type, found, missing=found is None)
    return findings


def _members(xsd_type: Any) -> list[tuple[str, str]]:
    """(kind, local name) of the elements and attributes a zeep complex type declares, its base type's included."""
    elements = [("element", name) for name, _ in getattr(xsd_type, "elements", []) if not name.startswith("_value")]
    return elements + [("attribute", name) for name, _ in getattr(xsd_type, "attributes", [])]


def _compare(version: str, what: str, expected: Any, found: Any, *, missing: bool) -> list[str]:
    if missing:
        return [f"the endpoint's WSDL has no {what}; contract {version} has it"]
    theirs = set(_members(found))
    return [f"the endpoint's WSDL: {what} has no {kind} {name}; contract {version} has it"
            for kind, name in _members(expected) if (kind, name) not in theirs]


def _lookup(getter: Any, qname: Any) -> Any:
    try:
        return getter(qname)
    except (LookupError, ValueError, zeep.exceptions.Error):
        return None


def _body(message: Any) -> etree.QName | None:
    qname = getattr(getattr(message, "body", None), "qname", None)
    return etree.QName(qname) if qname is not None else None


def _name(qname: etree.QName | None) -> str:
    return qname.localname if qname is not None else "(none)"
