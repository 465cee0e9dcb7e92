"""Finding things in a SOAP reply by local name, case-insensitively: .NET services differ in namespaces and in the
case of element names between versions, so the reply readers (ByggR, Ecos) match on the local name only.

The reply checks (``check_root``, ``operation_result``, ``result_or_self``) raise the caller's own ``unreadable``
error class, so each adapter keeps its error type; bind it once with ``functools.partial``."""

from __future__ import annotations

from lxml import etree


def local_name(element: etree._Element) -> str:
    """The element's local name, casefolded; "" for comments and processing instructions."""
    return etree.QName(element).localname.casefold() if isinstance(element.tag, str) else ""


def children(parent: etree._Element, name: str) -> list[etree._Element]:
    wanted = name.casefold()
    return [child for child in parent if local_name(child) == wanted]


def child(parent: etree._Element, name: str) -> etree._Element | None:
    found = children(parent, name)
    return found[0] if found else None


def child_text(parent: etree._Element, name: str) -> str | None:
    """The stripped text of the first child called ``name``; None when it is missing or empty."""
    element = child(parent, name)
    text = (element.text or "").strip() if element is not None else ""
    return text or None


def check_root(payload: etree._Element, operation: str, *, unreadable: type[Exception]) -> None:
    if local_name(payload) != f"{operation}Response".casefold():
        raise unreadable(f"{operation} reply is not a {operation}Response")


def operation_result(
    payload: etree._Element, operation: str, *, unreadable: type[Exception]
) -> etree._Element | None:
    """The ``<operation>Result`` child of an ``<operation>Response`` payload; None when it is absent."""
    check_root(payload, operation, unreadable=unreadable)
    return child(payload, f"{operation}Result")


def result_or_self(payload: etree._Element, operation: str, *, unreadable: type[Exception]) -> etree._Element:
    # Some servers put the answer's fields straight in the Response element, without the Result wrapper.
    result = operation_result(payload, operation, unreadable=unreadable)
    return payload if result is None else result
