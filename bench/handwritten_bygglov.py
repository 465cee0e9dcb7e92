"""A hand-written lxml + dict translation of the Open ePlatform bygglov FlowInstance: the speed yardstick.

It does what mappings/open-eplatform/bygglov.yaml does, the way a careful engineer would write it by hand:
one pass over each element's children into a dict keyed by the Clark tag (``{ns}Name``, compared against
constants, never sliced), each question indexed once (also to find the organisation question), fields added
only when present rather than built and pruned, ``iterdescendants`` for the files, ``binascii`` for the base64.
The mapping engine must stay within 1.5x of it; bench/core_path.py (`make bench`) measures both.
"""

from __future__ import annotations

import hashlib
from binascii import a2b_base64
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from brygga.canonical.formats import (
    normalise_fastighetsbeteckning,
    normalise_organisationsnummer,
    normalise_personnummer,
    normalise_postnummer,
)
from brygga.mapping.attachments import media_type
from brygga.xmlsafe import parse_xml

NS = "{http://www.oeplatform.org/version/2.0/schemas/flowinstance}"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
ADDRESS, ZIP_CODE, POSTAL_ADDRESS = NS + "Address", NS + "ZipCode", NS + "PostalAddress"
EMAIL, PHONE, MOBILE_PHONE, VALUE = NS + "Email", NS + "Phone", NS + "MobilePhone", NS + "Value"
MEASURE = {
    "Nybyggnad": "nybyggnad",
    "Tillbyggnad": "tillbyggnad",
    "Ombyggnad": "ombyggnad",
    "Ändrad användning": "andrad_anvandning",
    "Rivning": "rivning",
    "Fasadändring": "fasadandring",
    "Marklov": "marklov",
}
BUILDING = {
    "Enbostadshus": "enbostadshus",
    "Tvåbostadshus": "tvabostadshus",
    "Flerbostadshus": "flerbostadshus",
    "Fritidshus": "fritidshus",
    "Komplementbyggnad": "komplementbyggnad",
    "Garage": "komplementbyggnad",
    "Carport": "komplementbyggnad",
    "Industribyggnad": "industribyggnad",
    "Lokal": "lokal",
}


def _children(element: Any) -> dict[str, Any]:
    """Tag -> first child with that tag, in one pass (back to front, so the first one wins)."""
    if element is None:
        return {}
    return {child.tag: child for child in element[::-1]}


def _text(element: Any) -> str | None:
    if element is None:
        return None
    text = element.text
    return (text.strip() or None) if text is not None else None


def _number(text: str | None) -> int | float | None:
    if text is None:
        return None
    text = text.replace(",", ".")
    return int(text) if text.isdigit() else float(text)


def _address(q: dict[str, Any]) -> dict[str, Any] | None:
    address = {}
    if (street := _text(q.get(ADDRESS))) is not None:
        address["street"] = street
    if (zip_code := _text(q.get(ZIP_CODE))) is not None:
        address["postalCode"] = normalise_postnummer(zip_code)
    if (city := _text(q.get(POSTAL_ADDRESS))) is not None:
        address["city"] = city
    return address or None


def _party(kind: str, q: dict[str, Any], number: tuple[str, str, Any], name: dict[str, Any]) -> dict[str, Any]:
    key, tag, normalise = number
    party: dict[str, Any] = {"kind": kind, "roles": ["applicant"], key: normalise(_text(q.get(tag)))}
    party.update({key: value for key, value in name.items() if value is not None})
    if (address := _address(q)) is not None:
        party["address"] = address
    if (email := _text(q.get(EMAIL))) is not None:
        party["email"] = email
    if (phone := _text(q.get(PHONE)) or _text(q.get(MOBILE_PHONE))) is not None:
        party["phone"] = phone
    return party


# What the translation below reads, per question: every other answer goes to formAnswers, so nothing is lost.
READ = {
    "sokande": {"Firstname", "Lastname", "SocialSecurityNumber", "Address", "ZipCode", "PostalAddress", "Email"},
    "fastighet": {"Property/PropertyUnitDesignation", "Property/PropertyObjectIdentity", "Property/Address"},
    "atgard": {"Value"}, "byggnadstyp": {"Value"}, "beskrivning": {"Value"},
    "ytor": {"Byggnadsarea", "Bruttoarea"},
}
# The organisation question is whichever carries an OrganizationNumber.
ORGANISATION_READ = {"OrganizationName", "OrganizationNumber", "Address", "ZipCode", "PostalAddress", "Email"}
NOT_ANSWERS = {NS + "QueryID", NS + "Name"}


def _leaves(element: Any, prefix: str) -> Any:
    for child in element:
        name = child.tag[len(NS):]
        if child.tag == NS + "File":  # attachments are read whole
            continue
        if len(child):
            yield from _leaves(child, f"{prefix}{name}/")
        elif child.text and child.text.strip():
            yield f"{prefix}{name}", child.text.strip()


def _phone_read(children: dict[str, Any]) -> set[str]:
    """The one of Phone and MobilePhone a party's phone came from."""
    return next(({name} for name, tag in (("Phone", PHONE), ("MobilePhone", MOBILE_PHONE))
                 if _text(children.get(tag))), set())


def _form_answers(questions: list[tuple[Any, dict[str, Any]]]) -> list[dict[str, str]]:
    answers = []
    for question, children in questions:
        tag = question.tag[len(NS):]
        if NS + "OrganizationNumber" in children:
            read = ORGANISATION_READ | _phone_read(children)
        else:
            read = READ.get(tag, set()) | (_phone_read(children) if tag == "sokande" else set())
        label = _text(children.get(NS + "Name"))
        for path, value in _leaves([c for c in question if c.tag not in NOT_ANSWERS], ""):
            if path in read:
                continue
            answer = {"question": tag if path == "Value" else f"{tag}/{path.removesuffix('/Value')}"}
            if label is not None:
                answer["label"] = label
            answer["value"] = value
            answers.append(answer)
    return answers


def translate(data: bytes, tenant: dict[str, str], sink: Any = None) -> dict[str, Any]:
    root = parse_xml(data)
    top = _children(root)
    header = _children(top.get(NS + "Header"))
    flow = _children(header.get(NS + "Flow"))
    if _text(flow.get(NS + "FamilyID")) != "412":  # the e-service this translation is for
        raise ValueError("not the bygglov e-service")
    values_element = top.get(NS + "Values")
    # Each question once: tag -> its children. The organisation question is whichever has an OrganizationNumber.
    questions = [] if values_element is None else [(q, _children(q)) for q in values_element]
    values = {q.tag: children for q, children in reversed(questions)}
    flow_name = _text(flow.get(NS + "Name"))

    parties = []
    sokande = values.get(NS + "sokande")
    org = next((children for _q, children in questions if NS + "OrganizationNumber" in children), None)
    if org is None and sokande:
        name = {"givenName": _text(sokande.get(NS + "Firstname")), "familyName": _text(sokande.get(NS + "Lastname"))}
        number = ("personnummer", NS + "SocialSecurityNumber", normalise_personnummer)
        parties.append(_party("person", sokande, number, name))
    elif org is not None:
        name = {"name": _text(org.get(NS + "OrganizationName"))}
        number = ("organisationsnummer", NS + "OrganizationNumber", normalise_organisationsnummer)
        parties.append(_party("organisation", org, number, name))

    properties = None
    prop = _children(values.get(NS + "fastighet", {}).get(NS + "Property"))
    if prop:
        item = {"fastighetsbeteckning": normalise_fastighetsbeteckning(_text(prop.get(NS + "PropertyUnitDesignation")))}
        if (identity := _text(prop.get(NS + "PropertyObjectIdentity"))) is not None:
            item["objectIdentity"] = identity
        if (address := _text(prop.get(NS + "Address"))) is not None:
            item["address"] = address
        properties = [item]

    ytor = values.get(NS + "ytor", {})
    details: dict[str, Any] = {"measure": MEASURE[_text(values.get(NS + "atgard", {}).get(VALUE))]}
    building = _text(values.get(NS + "byggnadstyp", {}).get(VALUE))
    details["buildingType"] = BUILDING.get(building, "annan") if building is not None else None
    details["description"] = _text(values.get(NS + "beskrivning", {}).get(VALUE))
    details["buildingArea"] = _number(_text(ytor.get(NS + "Byggnadsarea")))
    details["grossFloorArea"] = _number(_text(ytor.get(NS + "Bruttoarea")))
    details = {key: value for key, value in details.items() if value is not None}

    attachments = []
    for file in [] if values_element is None else values_element.iterdescendants(NS + "File"):
        f = _children(file)
        raw = a2b_base64("".join(f[NS + "EncodedData"].text.split()), strict_mode=True)
        if int(f[NS + "Size"].text) != len(raw):
            raise ValueError("size mismatch")
        digest = hashlib.sha256(raw).hexdigest()
        if sink is not None:
            sink(digest, raw)
        name = _text(f.get(NS + "Name")) or ""
        attachments.append(
            {
                "sourceId": _text(f.get(NS + "ID")),
                "name": name,
                "mediaType": media_type(name),
                "size": len(raw),
                "sha256": digest,
            }
        )

    posted = datetime.fromisoformat(_text(header.get(NS + "Posted")) or "").replace(tzinfo=STOCKHOLM)
    source = {"system": "open-eplatform"}
    if (reference := _text(header.get(NS + "FlowInstanceID"))) is not None:
        source["reference"] = reference
    if (flow_id := _text(flow.get(NS + "FlowID"))) is not None:
        source["flowId"] = flow_id
    if flow_name is not None:
        source["flowName"] = flow_name
    if (family_id := _text(flow.get(NS + "FamilyID"))) is not None:
        source["familyId"] = family_id
    if (version := _text(flow.get(NS + "Version"))) is not None:
        source["flowVersion"] = version
    case: dict[str, Any] = {
        "schemaVersion": "1.1",
        "caseType": "bygglov",
        "tenant": dict(tenant),
        "source": source,
        "receivedAt": posted.isoformat(),
        "title": flow_name or "Ansökan om bygglov",
    }
    if parties:
        case["parties"] = parties
    if properties:
        case["properties"] = properties
    case["details"] = {"bygglov": details}
    if attachments:
        case["attachments"] = attachments
    if answers := _form_answers(questions):
        case["formAnswers"] = answers
    return case
