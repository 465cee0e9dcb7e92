"""ERMS (E-ARK CITS ERMS v3, FGS Ärendehantering 2.0) for one canonical case: one caseFile with its records.

Mapping, in schema order (ERMS_v3.xsd ``aggregationType``):
- objectId: the diarienummer when the case system gave one, else ``<source system>:<reference>``;
- extraId: the e-service reference; identification: the diarienummer;
- keywords: the case type; title: the case title; status: ``received``;
- relation (a komplettering only): ``supplements`` the package it amends, by that package's OBJID;
- additionalInformation/ownElement ``fastighetsbeteckning``: one per property (objektidentitet as attribute);
- restriction ``gdpr`` when a party is a person, naming those persons (never the organisations);
- agents: the archival creator, then every party as ``counterpart`` with name and role. Persons carry only the
  name the schema requires; the full party data stays in ``case.json``. Organisations carry their
  organisationsnummer, which is not personal data;
- description: the case details' description; dates: ``received`` and ``archiving``;
- record per file in ``representations/rep1/data``: title = the submitted name, a ``gdpr`` restriction on the
  record that holds personal data (case.json), direction incoming, appendix = the generated path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from brygga.archive.common import ERMS_NS, XSI_NS, Agent, xml_bytes

_NSMAP = {None: ERMS_NS, "xsi": XSI_NS}
GDPR_REGULATION = "Europaparlamentets och rådets förordning (EU) 2016/679 (dataskyddsförordningen)"


@dataclass(frozen=True)
class ErmsRecord:
    system_identifier: str
    title: str
    record_type: str
    media_type: str
    rel_path: str  # path inside the package, as written in the METS
    file_name: str
    personal_data: str | None = None  # what personal data the record holds, for its GDPR restriction


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    child = etree.SubElement(parent, f"{{{ERMS_NS}}}{tag}", attrs)
    if text is not None:
        child.text = text
    return child


def _datetime(value: Any) -> str | None:
    """An xs:dateTime, or None: ERMS dates must carry a time, and a malformed one must not break the package."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        return None


def source_key(case: dict[str, Any]) -> str:
    source = case.get("source") or {}
    return f"{source.get('system')}:{source.get('reference')}"


def is_person(party: dict[str, Any]) -> bool:
    """Anything but an organisation is treated as a natural person: the safe side for personal data."""
    return party.get("kind") != "organisation"


def persons(case: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in case.get("parties") or [] if isinstance(p, dict) and is_person(p)]


def _party_name(party: dict[str, Any]) -> str:
    if not is_person(party):
        name = party.get("name")
    else:
        name = " ".join(p for p in (party.get("givenName"), party.get("familyName")) if p)
    # ERMS requires a name; an empty one would be schema-valid but useless to an archivist.
    return name or "(namn saknas)"


def _agent(parent: etree._Element, agent_type: str, name: str, *, id_number: tuple[str, str] | None = None,
           role: str | None = None, protected: bool = False) -> None:
    node = _el(parent, "agent", agentType=agent_type)
    _el(node, "name", name)
    if id_number:
        _el(node, "idNumber", id_number[1], idNumberType=id_number[0])
    if role:
        _el(node, "role", role)
    if protected:
        _el(node, "protectedIdentity", "true")


def _control(root: etree._Element, objid: str, creator: Agent, software: tuple[str, str], created: str) -> None:
    control = _el(root, "control")
    _el(control, "identification", objid, identificationType="OBJID")
    maintenance = _el(control, "maintenanceInformation")
    _el(maintenance, "maintenanceStatus", value="new")
    agency = _el(maintenance, "maintenanceAgency")
    _el(agency, "agencyCode", creator.identification_code, type="identification code")
    _el(agency, "agencyName", creator.name)
    event = _el(_el(maintenance, "maintenanceHistory"), "maintenanceEvent")
    _el(event, "eventType", value="created")
    _el(event, "eventDateTime", created)
    _agent(event, "creator", f"{software[0]} {software[1]}")


def _properties(aggregation: etree._Element, case: dict[str, Any]) -> None:
    properties = [p for p in case.get("properties") or [] if p.get("fastighetsbeteckning")]
    if not properties:
        return
    own = _el(_el(aggregation, "additionalInformation"), "ownElement")
    _el(own, "ownElementDescription", "Fastigheter som ärendet gäller")
    for prop in properties:
        node = _el(own, "ownElement", name="fastighetsbeteckning", dataType="string")
        _el(node, "value", str(prop["fastighetsbeteckning"]))
        extra = [(k, prop.get(k)) for k in ("objectIdentity", "address") if prop.get(k)]
        if extra:
            holder = _el(node, "property")
            for key, value in extra:
                _el(_el(holder, "attribute", name=key), "value", str(value))


def _party(parent: etree._Element, party: dict[str, Any]) -> None:
    org_number = None if is_person(party) else party.get("organisationsnummer")
    _agent(parent, "counterpart", _party_name(party),
           id_number=("organisationsnummer", str(org_number)) if org_number else None,
           role=", ".join(party.get("roles") or []) or None,
           protected=party.get("protectedIdentity") is True)


def _gdpr_restriction(parent: etree._Element, explanation: str, parties: Sequence[dict[str, Any]] = ()) -> None:
    # ERMS restriction "gdpr": the regulation is required; the agents are the data subjects it protects.
    node = _el(parent, "restriction", restrictionType="gdpr")
    _el(node, "explanatoryText", explanation)
    _el(node, "regulation", GDPR_REGULATION)
    for party in parties:
        _party(node, party)


def _agents(aggregation: etree._Element, case: dict[str, Any], creator: Agent) -> None:
    agents = _el(aggregation, "agents")
    _agent(agents, "creator", creator.name, id_number=("identification code", creator.identification_code))
    for party in case.get("parties") or []:
        _party(agents, party)


def _description(case: dict[str, Any]) -> str | None:
    details = (case.get("details") or {}).get(case.get("caseType") or "", {})
    text = details.get("description") if isinstance(details, dict) else None
    return text if isinstance(text, str) and text else None


def _record(parent: etree._Element, index: int, objid: str, record: ErmsRecord, received: str | None) -> None:
    # objectId ties the record to its file; runningNumber keeps the order the e-service gave.
    node = _el(parent, "record", systemIdentifier=record.system_identifier, recordType=record.record_type,
               recordPhysicalOrDigital="digital")
    _el(node, "objectId", f"{objid}/{record.file_name}")
    _el(node, "title", record.title)
    _el(node, "runningNumber", str(index))
    if record.personal_data:
        _gdpr_restriction(node, record.personal_data)
    _el(node, "direction", directionDefinition="incoming")
    if received:
        _el(_el(node, "dates"), "date", received, dateType="received")
    info = _el(node, "additionalInformation")
    _el(info, "appendix", name=record.file_name, path=record.rel_path, fileFormat=record.media_type)


def build_erms(case: dict[str, Any], records: Sequence[ErmsRecord], *, objid: str, diarienummer: str | None,
               archival_creator: Agent, software: tuple[str, str], created: str,
               previous_package: str | None = None) -> bytes:
    root = etree.Element(f"{{{ERMS_NS}}}erms", nsmap=_NSMAP)
    _control(root, objid, archival_creator, software, created)
    aggregation = _el(_el(root, "aggregations"), "aggregation", systemIdentifier=source_key(case),
                      aggregationType="caseFile")
    _el(aggregation, "objectId", diarienummer or source_key(case))
    _el(aggregation, "extraId", source_key(case), extraIdType="e-service reference")
    if diarienummer:
        _el(aggregation, "identification", diarienummer, identificationType="diarienummer")
    if case.get("caseType"):
        _el(_el(aggregation, "keywords"), "keyword", str(case["caseType"]))
    _el(aggregation, "title", str(case.get("title") or case.get("caseType") or "Ärende"))
    _el(aggregation, "status", value="received")
    if previous_package:
        # No ERMS relation type says "komplettering"; an own definition names it, as METS RECORDSTATUS does.
        _el(aggregation, "relation", previous_package, relationType="own_relation_definition",
            otherRelationType="supplements")
    _properties(aggregation, case)
    subjects = persons(case)
    if subjects:
        _gdpr_restriction(aggregation, "Ärendet innehåller personuppgifter om de fysiska personer som är parter.",
                          subjects)
    _agents(aggregation, case, archival_creator)
    description = _description(case)
    if description:
        _el(aggregation, "description", description)
    received = _datetime(case.get("receivedAt"))
    dates = _el(aggregation, "dates")
    if received:
        _el(dates, "date", received, dateType="received")
    _el(dates, "date", created, dateType="archiving")
    for index, record in enumerate(records, start=1):
        _record(aggregation, index, objid, record, received)
    return xml_bytes(root)
