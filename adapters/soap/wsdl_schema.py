"""The XML Schema a WSDL embeds, compiled into one lxml ``XMLSchema`` in memory, and its error messages made safe.

A WSDL's ``wsdl:types`` holds one or more ``xs:schema`` elements that import each other by namespace only (no
``schemaLocation``). libxml2 cannot follow such imports, so each schema is lifted into a document of its own (with
the namespaces in scope on ``wsdl:definitions`` declared on it), its imports are pointed at in-memory locations, and a
small driver schema imports them all. Nothing is fetched from the network or the file system: an import of a location
that was not given fails instead.

Used by Brygga's SOAP simulators (to validate requests) and by the conformance kit (to validate replies).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping

from lxml import etree

from brygga.xmlsafe import parse_xml

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
_MEMORY_SCHEME = "mem://"

# libxml2's schema messages quote the value that broke a rule; a document's values may be personal data, the rule
# (allowed values, limits, the pattern) is the schema's and stays.
_VALUES = (
    (re.compile(r"'[^']*' is not a valid value"), "the value is not a valid value"),
    (re.compile(r"[Tt]he value '[^']*'"), "The value"),
    (re.compile(r"'[^']*' is not accepted by the pattern"), "the value is not accepted by the pattern"),
    (re.compile(r"key-sequence \[[^\]]*\]"), "key-sequence"),  # xs:unique / xs:key: the duplicated values
)


class _MemoryResolver(etree.Resolver):
    """Serves schema documents from a dict; refuses every other location."""

    def __init__(self, documents: Mapping[str, bytes]) -> None:
        super().__init__()
        self._documents = documents

    def resolve(self, system_url, public_id, context):  # type: ignore[no-untyped-def]
        name = system_url.removeprefix(_MEMORY_SCHEME)
        if name in self._documents:
            return self.resolve_string(self._documents[name], context)
        raise OSError(f"schema import {system_url!r} is not in the WSDL (nor among the documents given with it)")


def _standalone_schema(schema: etree._Element) -> etree._Element:
    """One embedded ``xs:schema`` with every namespace in scope declared on its own root: QName values such as
    ``type="tns:arende"`` may use prefixes declared on ``wsdl:definitions``, which a plain copy would lose."""
    root = etree.Element(schema.tag, attrib=dict(schema.attrib), nsmap=dict(schema.nsmap))
    root.extend(copy.deepcopy(child) for child in schema)
    return root


def compile_wsdl_schema(wsdl: bytes, extra_documents: Mapping[str, bytes] | None = None) -> etree.XMLSchema:
    """An ``XMLSchema`` of the ``xs:schema`` elements inside ``wsdl``.

    ``extra_documents`` maps a ``schemaLocation`` (as written in the WSDL) to its bytes, for a WSDL that imports
    separate ``.xsd`` files.
    """
    definitions = parse_xml(wsdl, source="WSDL")
    schemas = [_standalone_schema(s) for s in definitions.iterfind(f"{{{WSDL}}}types/{{{XS}}}schema")]
    if not schemas:
        raise ValueError("the WSDL embeds no xs:schema")

    documents: dict[str, bytes] = {}
    by_namespace: dict[str, str] = {}
    for index, schema in enumerate(schemas):
        target = schema.get("targetNamespace")
        if target is not None:
            by_namespace.setdefault(target, f"embedded-{index}.xsd")
    for location, data in (extra_documents or {}).items():
        documents[location] = data
        target = parse_xml(data, source=location).get("targetNamespace")
        if target is not None:
            by_namespace.setdefault(target, location)

    for index, schema in enumerate(schemas):
        for imported in schema.iterfind(f"{{{XS}}}import"):
            location = imported.get("schemaLocation") or by_namespace.get(imported.get("namespace") or "")
            if location is not None:
                imported.set("schemaLocation", _MEMORY_SCHEME + location.removeprefix(_MEMORY_SCHEME))
        documents[f"embedded-{index}.xsd"] = etree.tostring(schema)

    driver = etree.Element(f"{{{XS}}}schema", nsmap={"xs": XS})
    for namespace, location in by_namespace.items():
        etree.SubElement(driver, f"{{{XS}}}import", namespace=namespace, schemaLocation=_MEMORY_SCHEME + location)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    parser.resolvers.add(_MemoryResolver(documents))
    return etree.XMLSchema(etree.fromstring(etree.tostring(driver), parser=parser))


def redact_schema_error(message: str) -> str:
    """An lxml schema error message without the document's values: what broke which rule, never what was there."""
    for pattern, replacement in _VALUES:
        message = pattern.sub(replacement, message)
    return message
