"""PREMIS 3 preservation metadata: what was packaged, its fixity and format, and which software and organisation
did what to it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from brygga.archive.common import PREMIS_NS, XSI_NS, Agent, PackageFile, xml_bytes
from brygga.archive.formats import FileFormat

_NSMAP = {"premis": PREMIS_NS, "xsi": XSI_NS}


@dataclass(frozen=True)
class PremisAgent:
    identifier: str
    identifier_type: str
    name: str
    agent_type: str  # "software" or "organization"
    version: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class PremisEvent:
    identifier: str
    event_type: str  # from the PREMIS eventType vocabulary, e.g. "creation", "format identification"
    date_time: str
    detail: str
    object_ids: Sequence[str]
    agents: Sequence[tuple[PremisAgent, str]]  # (agent, linkingAgentRole), e.g. "executing program"


def software_agent(name: str, version: str, note: str | None = None) -> PremisAgent:
    return PremisAgent(f"software:{name}-{version}", "local", name, "software", version, note)


def organisation_agent(organisation: Agent) -> PremisAgent:
    return PremisAgent(organisation.identification_code, "identification code", organisation.name, "organization")


def _el(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    child = etree.SubElement(parent, f"{{{PREMIS_NS}}}{tag}")
    if text is not None:
        child.text = text
    return child


def _identifier(parent: etree._Element, prefix: str, value: str, kind: str = "local") -> None:
    wrapper = _el(parent, f"{prefix}Identifier")
    _el(wrapper, f"{prefix}IdentifierType", kind)
    _el(wrapper, f"{prefix}IdentifierValue", value)


def _format(parent: etree._Element, media_type: str, file_format: FileFormat | None) -> None:
    node = _el(parent, "format")
    file_format = file_format or FileFormat(name=media_type)
    designation = _el(node, "formatDesignation")
    _el(designation, "formatName", file_format.name)
    if file_format.version:
        _el(designation, "formatVersion", file_format.version)
    if file_format.puid:
        registry = _el(node, "formatRegistry")
        _el(registry, "formatRegistryName", file_format.registry)
        _el(registry, "formatRegistryKey", file_format.puid)
        _el(registry, "formatRegistryRole", "specification")
    else:
        _el(node, "formatNote", f"Not identified from its content; the name is the media type given ({media_type}).")


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
    _format(characteristics, file.media_type, file.file_format)
    if file.original_name:
        # The submitted name is kept here as a fact about the record, never used as a path.
        _el(obj, "originalName", file.original_name)


def _representation_object(root: etree._Element, identifier: str) -> None:
    obj = _el(root, "object")
    obj.set(f"{{{XSI_NS}}}type", "premis:representation")
    _identifier(obj, "object", identifier)


def _event(root: etree._Element, event: PremisEvent) -> None:
    node = _el(root, "event")
    _identifier(node, "event", event.identifier)
    _el(node, "eventType", event.event_type)
    _el(node, "eventDateTime", event.date_time)
    _el(_el(node, "eventDetailInformation"), "eventDetail", event.detail)
    _el(_el(node, "eventOutcomeInformation"), "eventOutcome", "success")
    for agent, role in event.agents:
        link = _el(node, "linkingAgentIdentifier")
        _el(link, "linkingAgentIdentifierType", agent.identifier_type)
        _el(link, "linkingAgentIdentifierValue", agent.identifier)
        _el(link, "linkingAgentRole", role)
    for object_id in event.object_ids:
        link = _el(node, "linkingObjectIdentifier")
        _el(link, "linkingObjectIdentifierType", "local")
        _el(link, "linkingObjectIdentifierValue", object_id)


def _agent(root: etree._Element, agent: PremisAgent) -> None:
    node = _el(root, "agent")
    _identifier(node, "agent", agent.identifier, kind=agent.identifier_type)
    _el(node, "agentName", agent.name)
    _el(node, "agentType", agent.agent_type)
    if agent.version:
        _el(node, "agentVersion", agent.version)
    if agent.note:
        _el(node, "agentNote", agent.note)


def build_premis(
    *,
    files: Sequence[tuple[str, PackageFile]] = (),
    representations: Sequence[str] = (),
    events: Sequence[PremisEvent],
) -> bytes:
    """A PREMIS document: one object per file (identifier, file) or representation, then the events, then every
    agent the events link to (PREMIS orders its top level objects, events, agents)."""
    if not files and not representations:
        raise ValueError("PREMIS needs at least one object")
    root = etree.Element(f"{{{PREMIS_NS}}}premis", nsmap=_NSMAP, version="3.0")
    for identifier in representations:
        _representation_object(root, identifier)
    for identifier, file in files:
        _file_object(root, identifier, file)
    for event in events:
        _event(root, event)
    agents = {agent.identifier: agent for event in events for agent, _ in event.agents}
    for agent in agents.values():
        _agent(root, agent)
    return xml_bytes(root)
