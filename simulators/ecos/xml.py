"""Names and small readers/writers for the MinutMiljoService XML: four namespaces, WCF's nil convention."""

from __future__ import annotations

from lxml import etree

from brygga_simulators.soap_server import XSI

SERVICE_NS = "urn:Ecos.API.MinutMiljo.Service.V1"
CONTRACTS_NS = "urn:Ecos.API.MinutMiljo.DataContracts.V1"
ARRAYS_NS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
TEKIS_NS = "http://www.tekis.se/ecos"
# Reply roots declare every namespace with a prefix (as WCF does), never as the default namespace.
REPLY_NSMAP = {"s1": SERVICE_NS, "a": CONTRACTS_NS, "b": ARRAYS_NS, "t": TEKIS_NS, "i": XSI}


def svc(name: str) -> str:
    return f"{{{SERVICE_NS}}}{name}"


def dc(name: str) -> str:
    return f"{{{CONTRACTS_NS}}}{name}"


def is_nil(element: etree._Element | None) -> bool:
    return element is None or element.get(f"{{{XSI}}}nil") in ("true", "1")


def child(parent: etree._Element | None, tag: str) -> etree._Element | None:
    """The child ``tag``, or None when it is absent or nil."""
    if parent is None:
        return None
    element = parent.find(tag)
    return None if is_nil(element) else element


def text(parent: etree._Element | None, tag: str) -> str | None:
    """The stripped text of child ``tag``; None when absent, nil or blank."""
    element = child(parent, tag)
    value = (element.text or "").strip() if element is not None else ""
    return value or None


def guid(parent: etree._Element | None, tag: str) -> str | None:
    """A GUID child, lower case (the schema has checked its form)."""
    value = text(parent, tag)
    return value.lower() if value else None


def xsi_type(element: etree._Element) -> tuple[str | None, str]:
    """The (namespace, local name) an element's ``xsi:type`` names; ``(None, "")`` when it has none."""
    value = element.get(f"{{{XSI}}}type")
    if not value:
        return None, ""
    prefix, _, local = value.rpartition(":")
    return element.nsmap.get(prefix or None), local


def add(parent: etree._Element, tag: str, value: object | None = None) -> etree._Element:
    """Append child ``tag``; its text is ``value`` (booleans as XML booleans) unless None."""
    element = etree.SubElement(parent, tag)
    if isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element
