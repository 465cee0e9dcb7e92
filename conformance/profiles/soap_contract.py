"""Brygga's copy of a SOAP contract, read as data, and the WSDL an endpoint serves compared with it.

Each copy (a WSDL shipped with the simulators, brygga_conformance.contracts) is the part of a vendor's contract that
Brygga uses. An endpoint may declare more (a real installation does); what the copy declares must be there under the
same names: each operation with its SOAP action and its request and reply elements, and each complex type (named
ones in the contract's own namespaces, and the messages' anonymous ones) with its elements, their types and
attributes. A renamed element is one missing, and the finding says what the endpoint declares there instead. The
endpoint may not require an element that the copy leaves optional or does not have: Brygga would not send it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, TypeVar

import zeep.wsdl
from lxml import etree
from zeep.exceptions import Error as ZeepError
from zeep.transports import Transport

from brygga_adapters.soap import safe_settings
from brygga_adapters.soap.wsdl_schema import compile_wsdl_schema
from brygga_conformance.contracts import read_contract
from brygga_conformance.wording import error_text

_MAX_DEPTH = 8  # anonymous types nested deeper than any contract's are not followed (a recursive one stops here)
WSDL_UNLOADABLE = "the endpoint's WSDL could not be loaded"
# Why the checks that need the WSDL were skipped; reply-shape says what went wrong (wsdl_unloadable).
WITHOUT_WSDL = f"{WSDL_UNLOADABLE} (see reply-shape)"


def wsdl_unloadable(exc: BaseException) -> str:
    """The finding for a WSDL the endpoint did not serve (an error page, a refused login, a timeout), every SOAP
    profile's the same: reply-shape fails with it."""
    return f"{WSDL_UNLOADABLE}: {error_text(exc)}"


@dataclass(frozen=True)
class SoapContract:
    file: str  # the copy's file name
    name: str  # how findings name it: "contract v8", "Brygga's contract", "IntegrationCallbackService.wsdl"
    wsdl: bytes
    document: Any  # zeep.wsdl.Document: the operations and types, to compare an endpoint's WSDL with
    schema: etree.XMLSchema  # the WSDL's embedded XSD, to validate replies with
    namespaces: tuple[str, ...]  # the contract's own: its named types in these are compared

    @property
    def operations(self) -> dict[str, Any]:
        return binding_operations(self.document)


C = TypeVar("C", bound=SoapContract)


def load_contract(path: tuple[str, ...], name: str, namespaces: tuple[str, ...], kind: type[C] = SoapContract,
                  **extra: Any) -> C:
    """The copy at ``path`` in brygga_simulators (``kind`` and ``extra``: a profile's own subclass and its fields)."""
    wsdl = read_contract(*path)
    return kind(path[-1], name, wsdl, wsdl_document(wsdl), compile_wsdl_schema(wsdl), namespaces, **extra)


def wsdl_document(wsdl: bytes) -> Any:
    return zeep.wsdl.Document(io.BytesIO(wsdl), Transport(), settings=safe_settings())


def binding_operations(document: Any) -> dict[str, Any]:
    """Operation name -> zeep binding operation, over every binding of the WSDL (an installation may list an http
    and an https one)."""
    found: dict[str, Any] = {}
    for binding in document.bindings.values():
        for name, operation in getattr(binding, "_operations", {}).items():
            found.setdefault(name, operation)
    return found


def compare_wsdl(ours: SoapContract, served: Any) -> list[str]:
    """Findings where the endpoint's WSDL (a zeep Document) lacks or contradicts what Brygga's copy declares."""
    theirs = binding_operations(served)
    findings: list[str] = []
    for name, operation in ours.operations.items():
        found = theirs.get(name)
        if found is None:
            findings.append(f"the endpoint's WSDL has no operation {name}; {ours.name} has it")
            continue
        if (found.soapaction or "") != (operation.soapaction or ""):
            findings.append(f"the endpoint's WSDL gives {name} the SOAP action {found.soapaction or ''!r}; "
                            f"{ours.name} has {operation.soapaction or ''!r}")
        for direction, message in (("input", "request"), ("output", "reply")):
            expected, got = _body(operation, direction), _body(found, direction)
            if _qname(expected) != _qname(got):
                findings.append(f"the endpoint's WSDL gives {name} the {message} element {_local(got)}; "
                                f"{ours.name} has {_local(expected)}")
            elif expected is not None:
                findings += _compare_type(ours.name, f"element {_local(expected)}", expected.type, got.type, 0)
    for xsd_type in ours.document.types.types:
        qname = getattr(xsd_type, "qname", None)
        if qname is None or qname.namespace not in ours.namespaces or not _members(xsd_type):
            continue
        found = _lookup(served.types.get_type, qname)
        if found is None:
            findings.append(f"the endpoint's WSDL has no type {qname.localname}; {ours.name} has it")
        else:
            findings += _compare_type(ours.name, f"type {qname.localname}", xsd_type, found, 0)
    return list(dict.fromkeys(findings))  # a named type a message's element has is compared once


def _compare_type(contract: str, what: str, expected: Any, found: Any, depth: int) -> list[str]:
    ours, theirs = _elements(expected), _elements(found)
    findings = []
    missing = [name for name in ours if name not in theirs]
    extra = [name for name in theirs if name not in ours]
    if missing:
        instead = f" (it declares {', '.join(extra)} there instead)" if extra else ""
        findings.append(f"the endpoint's WSDL: {what} has no element {', '.join(missing)}; {contract} has "
                        f"{'it' if len(missing) == 1 else 'them'}{instead}")
    for name, element in ours.items():
        other = theirs.get(name)
        if other is None:
            continue
        mine_type, their_type = _type_name(element.type), _type_name(other.type)
        if mine_type != their_type:
            findings.append(f"the endpoint's WSDL: {what} types element {name} as {their_type}; {contract} has "
                            f"{mine_type}")
        elif int(other.min_occurs or 0) > int(element.min_occurs or 0):
            findings.append(f"the endpoint's WSDL: {what} requires element {name} (minOccurs {other.min_occurs}); "
                            f"{contract} has it optional")
        elif mine_type == "anonymous" and depth < _MAX_DEPTH:
            findings += _compare_type(contract, f"{what}/{name}", element.type, other.type, depth + 1)
    if not missing:  # else the extra ones are named above, as what the endpoint declares instead
        findings += [f"the endpoint's WSDL: {what} requires element {name}, which {contract} does not have"
                     for name in extra if int(theirs[name].min_occurs or 0) > 0]
    absent = [name for name in _attributes(expected) if name not in _attributes(found)]
    if absent:
        findings.append(f"the endpoint's WSDL: {what} has no attribute {', '.join(absent)}; {contract} has "
                        f"{'it' if len(absent) == 1 else 'them'}")
    return findings


def _members(xsd_type: Any) -> bool:
    return bool(_elements(xsd_type) or _attributes(xsd_type))


def _elements(xsd_type: Any) -> dict[str, Any]:
    """Local name -> zeep element, for the elements a complex type declares (its base type's included, a choice's
    members flattened); xs:any wildcards (zeep's ``_value_N``) are left out."""
    return {name: element for name, element in getattr(xsd_type, "elements", None) or []
            if not name.startswith("_value")}


def _attributes(xsd_type: Any) -> list[str]:
    return [name for name, _ in getattr(xsd_type, "attributes", None) or [] if not name.startswith("_")]


def _type_name(xsd_type: Any) -> str:
    qname = getattr(xsd_type, "qname", None)
    return etree.QName(qname).localname if qname is not None else "anonymous"


def _lookup(getter: Any, qname: Any) -> Any:
    try:
        return getter(qname)
    except (LookupError, ValueError, ZeepError):
        return None


def _body(operation: Any, direction: str) -> Any:
    return getattr(getattr(operation, direction, None), "body", None)


def _qname(element: Any) -> str | None:
    qname = getattr(element, "qname", None)
    return etree.QName(qname).text if qname is not None else None


def _local(element: Any) -> str:
    qname = _qname(element)
    return etree.QName(qname).localname if qname else "(none)"
