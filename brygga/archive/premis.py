"""PREMIS 3 preservation metadata: what was packaged, its fixity, and which software and organisation did it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from brygga.archive.common import PREMIS_NS, XSI_NS, Agent, PackageFile, xml_bytes

_NSMAP = {"premis": PREMIS_NS, "xsi": XSI_NS}


@dataclass(frozen=True)
class PremisEvent:
    identifier: str
    event_type: str  # from the PREMIS eventType vocabulary, e.g. "creation", "message digest calculation"
    date_time: str
    detail: str
    object_ids: Sequence[str]


def _el(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{PREMIS_NS}}}{tag}")
    if text is not None:
        child.text = text
    return child


def _identifier(parent: etree._Element, prefix: str, value: str, kind: str = "local") -> None:
    wrapper = _el(parent, f"{prefix}Identifier")
    _el(wrapper, f"{prefix}IdentifierType", kind)
    _el(wrapper, f"{prefix}IdentifierValue", value)


def _file_object(root: etree._Element, identifier: str, file: PackageFile) -> None:
    obj = _el(root, "object")
    obj.set(f"{{{XSI_NS}}}type", "premis:file")
    _identifier(obj, "object", identifier)
    characteristics = _el(obj, "objectCharacteristics")
    _el(characteristics, "compositionLevel", "0")
    fixity = _el(characteristics, "fixity")
    _el(fixity, "messageDigestAlgorithm", "SHA-256")
    _el(fixity, "messageDigest", file.sha256)
    _el(characteristics, "size", str(file.size))
    designation = _el(_el(characteristics, "format"), "formatDesignation")
    _el(designation, "formatName", file.media_type)
    if file.original_name:
        # The submitted name is kept here as a fact about the record, never used as a path.
        _el(obj, "originalName", file.original_name)


def _representation_object(root: etree._Element, identifier: str) -> None:
    obj = _el(root, "object")
    obj.set(f"{{{XSI_NS}}}type", "premis:representation")
    _identifier(obj, "object", identifier)


def _event(root: etree._Element, event: PremisEvent, agent_roles: Sequence[tuple[str, str]]) -> None:
    node = _el(root, "event")
    _identifier(node, "event", event.identifier)
    _el(node, "eventType", event.event_type)
    _el(node, "eventDateTime", event.date_time)
    _el(_el(node, "eventDetailInformation"), "eventDetail", event.detail)
    _el(_el(node, "eventOutcomeInformation"), "eventOutcome", "success")
    for agent_id, role in agent_roles:
        link = _el(node, "linkingAgentIdentifier")
        _el(link, "linkingAgentIdentifierType", "local")
        _el(link, "linkingAgentIdentifierValue", agent_id)
        _el(link, "linkingAgentRole", role)
    for object_id in event.object_ids:
        link = _el(node, "linkingObjectIdentifier")
        _el(link, "linkingObjectIdentifierType", "local")
        _el(link, "linkingObjectIdentifierValue", object_id)


def _agents(root: etree._Element, software: tuple[str, str], organisation: Agent) -> list[tuple[str, str]]:
    software_id = f"software:{software[0]}-{software[1]}"
    node = _el(root, "agent")
    _identifier(node, "agent", software_id)
    _el(node, "agentName", software[0])
    _el(node, "agentType", "software")
    _el(node, "agentVersion", software[1])
    org_id = organisation.identification_code
    node = _el(root, "agent")
    _identifier(node, "agent", org_id, kind="identification code")
    _el(node, "agentName", organisation.name)
    _el(node, "agentType", "organization")
    return [(software_id, "executing program"), (org_id, "authorizer")]


def build_premis(
    *,
    files: Sequence[tuple[str, PackageFile]] = (),
    representations: Sequence[str] = (),
    event: PremisEvent,
    software: tuple[str, str],
    organisation: Agent,
) -> bytes:
    """A PREMIS document with one object per file (identifier, file) or representation, one event, two agents.

    PREMIS orders its top level as objects, then events, then agents; the agents are built first only so the
    event can link to their identifiers.
    """
    if not files and not representations:
        raise ValueError("PREMIS needs at least one object")
    root = etree.Element(f"{{{PREMIS_NS}}}premis", nsmap=_NSMAP, version="3.0")
    for identifier in representations:
        _representation_object(root, identifier)
    for identifier, file in files:
        _file_object(root, identifier, file)
    agents_root = etree.Element(f"{{{PREMIS_NS}}}premis")
    roles = _agents(agents_root, software, organisation)
    _event(root, event, roles)
    root.extend(list(agents_root))
    return xml_bytes(root)
