"""Compile the XML Schemas embedded in a WSDL into one lxml ``XMLSchema``, entirely in memory.

A WSDL's ``wsdl:types`` holds several ``xs:schema`` elements that import each other by namespace only
(no ``schemaLocation``). libxml2 cannot follow such imports by itself, so each schema is lifted into a
document of its own, its imports are pointed at in-memory locations, and a small driver schema imports
them all. Nothing is fetched from the network or the file system: an import that names a location we were
not given fails instead.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

from lxml import etree

from brygga.xmlsafe import parse_xml

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
_MEMORY_SCHEME = "mem://"


class _MemoryResolver(etree.Resolver):
    """Serves schema documents from a dict; refuses every other location."""

    def __init__(self, documents: Mapping[str, bytes]) -> None:
        super().__init__()
        self._documents = documents

    def resolve(self, system_url, public_id, context):  # type: ignore[no-untyped-def]
        name = system_url.removeprefix(_MEMORY_SCHEME)
        if name in self._documents:
            return self.resolve_string(self._documents[name], context)
        raise OSError(f"schema import {system_url!r} is not available in memory")


def _standalone_schema(schema: etree._Element) -> etree._Element:
    """Copy one embedded ``xs:schema`` with every namespace in scope declared on its own root.

    QName values such as ``type="tns:arende"`` may use prefixes declared on ``wsdl:definitions``; a plain
    copy would lose them.
    """
    root = etree.Element(schema.tag, attrib=dict(schema.attrib), nsmap=dict(schema.nsmap))
    for child in schema:
        root.append(copy.deepcopy(child))
    return root


def compile_wsdl_schema(wsdl: bytes, extra_documents: Mapping[str, bytes] | None = None) -> etree.XMLSchema:
    """Build an ``XMLSchema`` from the ``xs:schema`` elements inside ``wsdl``.

    ``extra_documents`` maps a ``schemaLocation`` (as written in the WSDL) to its bytes, for WSDLs that
    import separate ``.xsd`` files.
    """
    definitions = parse_xml(wsdl, source="WSDL")
    schemas = definitions.findall(f"{{{WSDL}}}types/{{{XS}}}schema")
    if not schemas:
        raise ValueError("the WSDL embeds no xs:schema")

    documents: dict[str, bytes] = {}
    by_namespace: dict[str, str] = {}
    standalone = [_standalone_schema(s) for s in schemas]
    for index, schema in enumerate(standalone):
        name = f"embedded-{index}.xsd"
        target = schema.get("targetNamespace")
        if target is not None and target not in by_namespace:
            by_namespace[target] = name
    for location, data in (extra_documents or {}).items():
        documents[location] = data
        target = parse_xml(data, source=location).get("targetNamespace")
        if target is not None:
            by_namespace.setdefault(target, location)

    for index, schema in enumerate(standalone):
        for imp in schema.findall(f"{{{XS}}}import"):
            location = imp.get("schemaLocation")
            if location is None and imp.get("namespace") in by_namespace:
                location = by_namespace[imp.get("namespace")]
            if location is not None:
                imp.set("schemaLocation", _MEMORY_SCHEME + location.removeprefix(_MEMORY_SCHEME))
        documents[f"embedded-{index}.xsd"] = etree.tostring(schema)

    driver = etree.Element(f"{{{XS}}}schema", nsmap={"xs": XS})
    for namespace, location in by_namespace.items():
        etree.SubElement(
            driver, f"{{{XS}}}import", namespace=namespace, schemaLocation=_MEMORY_SCHEME + location
        )
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    parser.resolvers.add(_MemoryResolver(documents))
    driver_doc = etree.fromstring(etree.tostring(driver), parser=parser)
    return etree.XMLSchema(driver_doc)
