"""Brygga's copy of the IntegrationCallback contract, read as data, and an endpoint's WSDL compared with it.

The copies ship as package data of brygga_simulators (``oep_callback/*.wsdl``), one per variant Brygga speaks; only
the files are read, no simulator code runs for them. Each holds the operations Brygga's notifier knows (setStatus,
addEvent, addMessage, confirmDelivery) with the real contract's shapes. An endpoint may declare more operations and
more optional elements (a real Open ePlatform does); what the copy declares must be there, under the same names and
types, and the endpoint may not require what the copy leaves optional.
"""

from __future__ import annotations

import copy
import io
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

import zeep.wsdl
from lxml import etree
from zeep.transports import Transport

from brygga.xmlsafe import parse_xml
from brygga_adapters.soap import safe_settings

CALLBACK_NS = "http://www.oeplatform.org/version/1.0/schemas/integration/callback"
CONTRACT_FILES = {"upstream": "IntegrationCallbackService.wsdl", "sundsvall": "IntegrationCallbackSundsvall.wsdl"}
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XS_NS = "http://www.w3.org/2001/XMLSchema"
_MAX_DEPTH = 8  # the contract nests three levels; a recursive type in a served WSDL stops here
# Schema messages quote a wrong value; a reply's values are the endpoint's, so they are masked (names stay).
_VALUES = (
    (re.compile(r"'[^']*' is not a valid value"), "the value is not a valid value"),
    (re.compile(r"[Tt]he value '[^']*'"), "The value"),
    (re.compile(r"'[^']*' is not accepted by the pattern"), "the value is not accepted by the pattern"),
)


@dataclass(frozen=True)
class Contract:
    file: str  # the copy's file name, as findings name it
    document: Any  # zeep.wsdl.Document: the operations to compare
    schema: etree.XMLSchema  # the embedded XSD, to validate reply bodies with

    @property
    def operations(self) -> dict[str, Any]:
        return binding_operations(self.document)


@cache
def contract(variant: str) -> Contract:
    name = CONTRACT_FILES[variant]
    wsdl = files("brygga_simulators").joinpath("oep_callback", name).read_bytes()
    document = zeep.wsdl.Document(io.BytesIO(wsdl), Transport(), settings=safe_settings())
    return Contract(name, document, _schema(wsdl))


def _schema(wsdl: bytes) -> etree.XMLSchema:
    # The copy inlines one xs:schema that imports nothing: lifted into a document of its own, with the namespaces
    # in scope on wsdl:definitions declared on it.
    definitions = parse_xml(wsdl, source="contract WSDL")
    embedded = definitions.find(f"{{{WSDL_NS}}}types/{{{XS_NS}}}schema")
    root = etree.Element(embedded.tag, attrib=dict(embedded.attrib), nsmap=dict(embedded.nsmap))
    root.extend(copy.deepcopy(child) for child in embedded)
    return etree.XMLSchema(root)


def binding_operations(document: Any) -> dict[str, Any]:
    """Operation name -> zeep binding operation, over every binding of the WSDL."""
    found: dict[str, Any] = {}
    for binding in document.bindings.values():
        for name, operation in getattr(binding, "_operations", {}).items():
            found.setdefault(name, operation)
    return found


@dataclass(frozen=True)
class Field:
    min_occurs: int
    type: str  # the type's QName, e.g. {http://www.w3.org/2001/XMLSchema}int, or "" for an anonymous one


def message_fields(body: Any) -> dict[str, Field]:
    """Every element under a message's body element, by path ("message/attachments/size"). A choice's members are
    optional (zeep flattens them so), as the sundsvall contract writes them."""
    fields: dict[str, Field] = {}

    def walk(xsd_type: Any, prefix: str, depth: int) -> None:
        for name, element in getattr(xsd_type, "elements", None) or []:
            path = f"{prefix}{name}"
            qname = getattr(element.type, "qname", None)
            fields[path] = Field(int(element.min_occurs or 0), qname.text if qname is not None else "")
            if depth < _MAX_DEPTH:
                walk(element.type, f"{path}/", depth + 1)

    walk(getattr(body, "type", None), "", 0)
    return fields


def _local(qname: str) -> str:
    return etree.QName(qname).localname if qname.startswith("{") else qname


def compare(expected: Contract, served: dict[str, Any]) -> list[str]:
    """Findings where the served WSDL's operations (name -> zeep operation) break Brygga's copy of the contract."""
    findings: list[str] = []
    for name, mine in expected.operations.items():
        theirs = served.get(name)
        if theirs is None:
            findings.append(f"the served WSDL has no operation {name}, which {expected.file} declares")
            continue
        for part in ("input", "output"):
            findings += _compare_part(expected.file, name, part, getattr(mine, part).body, getattr(theirs, part).body)
    return findings


def _compare_part(file: str, operation: str, part: str, mine: Any, theirs: Any) -> list[str]:
    what = f"{operation}'s {'request' if part == 'input' else 'reply'}"
    if theirs is None or getattr(theirs, "qname", None) != mine.qname:
        found = getattr(getattr(theirs, "qname", None), "text", "no element")
        return [f"{what} element is {found} in the served WSDL; {file} has {mine.qname.text}"]
    findings = []
    expected, served = message_fields(mine), message_fields(theirs)
    for path, field in expected.items():
        other = served.get(path)
        if other is None:
            findings.append(f"{what} lacks element {path} in the served WSDL, which {file} has")
        elif other.type != field.type:
            findings.append(f"{what} element {path} is of type {_local(other.type) or 'anonymous'} in the served "
                            f"WSDL; {file} has {_local(field.type) or 'anonymous'}")
        elif other.min_occurs > field.min_occurs:
            findings.append(f"{what} element {path} is required in the served WSDL (minOccurs {other.min_occurs}); "
                            f"{file} has it optional")
    for path, field in served.items():
        parent = path.rpartition("/")[0]
        if path not in expected and field.min_occurs > 0 and (not parent or parent in expected):
            findings.append(f"{what} requires element {path} in the served WSDL, which {file} does not have")
    return findings


def reply_errors(schema: etree.XMLSchema, payload: etree._Element) -> list[str]:
    """The contract's complaints about one reply payload (a Body's element, or a fault's detail entry)."""
    document = etree.ElementTree(etree.fromstring(etree.tostring(payload)))
    if schema.validate(document):
        return []
    return [_readable(error.message) for error in schema.error_log]


def _readable(message: str) -> str:
    for pattern, replacement in _VALUES:
        message = pattern.sub(replacement, message)
    return message.replace(f"{{{CALLBACK_NS}}}", "").strip()[:300]
