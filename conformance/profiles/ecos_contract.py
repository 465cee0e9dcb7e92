"""Brygga's copy of Ecos's MinutMiljoService contract, read as data, and the endpoint's WSDL compared with it.

The copy ships as package data of brygga_simulators (``ecos/MinutMiljoService.wsdl``); only the file is read, no
simulator code runs for it. It is a subset of Ecos's published WSDL: the operations and elements Brygga uses. An
endpoint may declare more (a real Ecos does); what the copy declares must be there under the same names.
"""

from __future__ import annotations

import copy
import importlib.util
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import zeep.wsdl
from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.transports import Transport

from brygga.xmlsafe import parse_xml
from brygga_adapters.soap import safe_settings

SERVICE_NS = "urn:Ecos.API.MinutMiljo.Service.V1"
CONTRACTS_NS = "urn:Ecos.API.MinutMiljo.DataContracts.V1"
CONTRACT_PACKAGE = "brygga_simulators"
CONTRACT_FILE = ("ecos", "MinutMiljoService.wsdl")
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XS_NS = "http://www.w3.org/2001/XMLSchema"
_MEMORY = "mem://"


@dataclass(frozen=True)
class Contract:
    wsdl: bytes
    document: Any  # zeep.wsdl.Document: operations and types, to compare and to walk replies by
    schema: etree.XMLSchema  # the WSDL's embedded XSD, to validate reply bodies with

    @property
    def operations(self) -> dict[str, Any]:
        return binding_operations(self.document)


@cache
def contract() -> Contract:
    spec = importlib.util.find_spec(CONTRACT_PACKAGE)
    if spec is None:
        raise RuntimeError(f"{CONTRACT_PACKAGE} is not installed: the kit reads Ecos's contract from its package data")
    package = importlib.util.module_from_spec(spec)  # a module object to read files by; its code does not run
    wsdl = files(package).joinpath(*CONTRACT_FILE).read_bytes()
    document = zeep.wsdl.Document(io.BytesIO(wsdl), Transport(), settings=safe_settings())
    return Contract(wsdl, document, compile_schema(wsdl))


def binding_operations(document: Any) -> dict[str, Any]:
    """Operation name -> zeep operation, over every binding of the WSDL (Ecos lists an http and an https one)."""
    found: dict[str, Any] = {}
    for binding in document.bindings.values():
        for name, operation in getattr(binding, "_operations", {}).items():
            found.setdefault(name, operation)
    return found


class _Resolver(etree.Resolver):
    """Serves the WSDL's schemas to each other from memory; nothing else is loaded."""

    def __init__(self, documents: dict[str, bytes]) -> None:
        super().__init__()
        self.documents = documents

    def resolve(self, system_url, public_id, context):  # type: ignore[no-untyped-def]
        name = system_url.removeprefix(_MEMORY)
        if name in self.documents:
            return self.resolve_string(self.documents[name], context)
        raise OSError(f"schema import {system_url!r} is not in the contract WSDL")


def compile_schema(wsdl: bytes) -> etree.XMLSchema:
    """The ``xs:schema`` elements of a WSDL as one XMLSchema. They import each other by namespace only, which
    libxml2 cannot follow, so each becomes a document of its own (with the namespaces in scope declared on it)."""
    definitions = parse_xml(wsdl, source="contract WSDL")
    schemas = []
    for embedded in definitions.iterfind(f"{{{WSDL_NS}}}types/{{{XS_NS}}}schema"):
        root = etree.Element(embedded.tag, attrib=dict(embedded.attrib), nsmap=dict(embedded.nsmap))
        root.extend(copy.deepcopy(child) for child in embedded)
        schemas.append(root)
    names = {schema.get("targetNamespace"): f"embedded-{index}.xsd" for index, schema in enumerate(schemas)}
    documents = {}
    for index, schema in enumerate(schemas):
        for imported in schema.iterfind(f"{{{XS_NS}}}import"):
            if imported.get("namespace") in names:
                imported.set("schemaLocation", _MEMORY + names[imported.get("namespace")])
        documents[f"embedded-{index}.xsd"] = etree.tostring(schema)
    driver = etree.Element(f"{{{XS_NS}}}schema", nsmap={"xs": XS_NS})
    for namespace, name in names.items():
        etree.SubElement(driver, f"{{{XS_NS}}}import", namespace=namespace, schemaLocation=_MEMORY + name)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    parser.resolvers.add(_Resolver(documents))
    return etree.XMLSchema(etree.fromstring(etree.tostring(driver), parser=parser))


def element_names(xsd_type: Any) -> list[str]:
    """The local names of the elements a zeep complex type declares, its base type's included; [] for simple ones."""
    return [name for name, _ in getattr(xsd_type, "elements", [])]


def compare_wsdl(ours: Contract, served: Any) -> list[str]:
    """Findings where the endpoint's WSDL (a zeep Document) lacks what Brygga's contract has: an operation, an
    operation's message element, a type, or an element of a type (a renamed element is one missing)."""
    findings = []
    theirs = binding_operations(served)
    for name, operation in ours.operations.items():
        if name not in theirs:
            findings.append(f"the endpoint's WSDL has no operation {name} (Brygga's contract has it)")
            continue
        for direction in ("input", "output"):
            expected, found = _body(getattr(operation, direction)), _body(getattr(theirs[name], direction))
            if _qname(expected) != _qname(found):
                findings.append(f"the endpoint's WSDL gives operation {name} the {direction} element "
                                f"{_local(found)} where Brygga's contract has {_local(expected)}")
            else:
                findings += _compare_type(f"element {_local(expected)}", expected.type, found.type)
    for xsd_type in ours.document.types.types:
        qname = getattr(xsd_type, "qname", None)
        if qname is None or qname.namespace not in (SERVICE_NS, CONTRACTS_NS) or not element_names(xsd_type):
            continue
        try:
            found_type = served.types.get_type(qname)
        except ZeepError:
            findings.append(f"the endpoint's WSDL has no type {qname.localname} (Brygga's contract has it)")
            continue
        findings += _compare_type(f"type {qname.localname}", xsd_type, found_type)
    return findings


def _compare_type(what: str, expected: Any, found: Any) -> list[str]:
    theirs = element_names(found)
    missing = [name for name in element_names(expected) if name not in theirs]
    if not missing:
        return []
    ours = set(element_names(expected))
    extra = [name for name in theirs if name not in ours]
    instead = f"; it declares {', '.join(extra)} there instead" if extra else ""
    return [f"the endpoint's WSDL: {what} has no element {', '.join(missing)} (Brygga's contract has it){instead}"]


def _body(message: Any) -> Any:
    return getattr(message, "body", None)


def _qname(element: Any) -> str | None:
    qname = getattr(element, "qname", None)
    return etree.QName(qname).text if qname is not None else None


def _local(element: Any) -> str:
    qname = _qname(element)
    return etree.QName(qname).localname if qname else "(none)"
