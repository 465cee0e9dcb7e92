"""Reference mapping canonical case -> ByggR payload, in plain Python, for tests and as a model for the YAML.

Not part of the adapter: the real mapping is declarative (mappings/). This shows one faithful way to fill
the payload shape documented in adapters/byggr/README.md.
"""

from __future__ import annotations

import re
from typing import Any

# Canonical party roles -> ByggR intressent roles (rollLista/roll).
ROLE_CODES = {
    "applicant": "SOK",
    "property_owner": "FAG",
    "contact": "KPER",
    "representative": "OMB",
    "invoice_recipient": "FAKT",
}
_FASTIGHET = re.compile(r"^(?P<trakt>.+?)\s+(?P<nr>\d+:\d+)$")


def _pers_org_nr(party: dict[str, Any]) -> str | None:
    """ByggR writes 12 digits with a dash; organisations get the century prefix 16."""
    if party.get("personnummer"):
        number = party["personnummer"]
    elif party.get("samordningsnummer"):
        number = party["samordningsnummer"]
    elif party.get("organisationsnummer"):
        number = "16" + party["organisationsnummer"]
    else:
        return None
    return f"{number[:8]}-{number[8:]}"


def _postnummer(code: str | None) -> str | None:
    return f"{code[:3]} {code[3:]}" if code and len(code) == 5 else code


def _intressent(party: dict[str, Any]) -> dict[str, Any]:
    address = party.get("address") or {}
    person = party["kind"] == "person"
    intressent: dict[str, Any] = {
        "persOrgNr": _pers_org_nr(party),
        "arForetag": not person,
        "namn": f"{party.get('givenName', '')} {party.get('familyName', '')}".strip()
        if person
        else party["name"],
        "adress": address.get("street"),
        "postNr": _postnummer(address.get("postalCode")),
        "ort": address.get("city"),
    }
    if person:
        intressent["fornamn"] = party.get("givenName")
        intressent["efternamn"] = party.get("familyName")
    kommunikation = []
    if party.get("email"):
        kommunikation.append({"arAktiv": True, "beskrivning": party["email"], "komtyp": "EPOST"})
    if party.get("phone"):
        kommunikation.append({"arAktiv": True, "beskrivning": party["phone"], "komtyp": "MOB"})
    if kommunikation:
        intressent["intressentKommunikationLista"] = {"intressentKommunikation": kommunikation}
    intressent["rollLista"] = {"roll": [ROLE_CODES[role] for role in party["roles"] if role in ROLE_CODES]}
    return {key: value for key, value in intressent.items() if value is not None}


def _objekt(index: int, prop: dict[str, Any]) -> dict[str, Any]:
    match = _FASTIGHET.match(prop["fastighetsbeteckning"].strip())
    fastighet: dict[str, Any] = (
        {"trakt": match["trakt"], "fbetNr": match["nr"]} if match else {"trakt": prop["fastighetsbeteckning"]}
    )
    if prop.get("fastighetsnyckel") is not None:
        fastighet["fnr"] = prop["fastighetsnyckel"]  # the FNR from a property lookup: fastighet/@fnr
    return {"_type": "arendeFastighet", "arHuvudObjekt": index == 0, "fastighet": fastighet}


def example_payload_from_case(case: dict[str, Any]) -> dict[str, Any]:
    bygglov = (case.get("details") or {}).get("bygglov") or {}
    return {
        "diarieprefix": "BN",
        "komkod": case["tenant"]["kommunkod"],
        "arendegrupp": "LOV",
        "arendetyp": "BL",
        "arendeslag": "A",
        "beskrivning": bygglov.get("description") or case.get("title"),
        "ankomstDatum": case["receivedAt"][:10],
        "intressentLista": {"intressent": [_intressent(party) for party in case["parties"]]},
        "objektLista": {
            "abstractArendeObjekt": [_objekt(i, prop) for i, prop in enumerate(case.get("properties") or [])]
        },
    }
