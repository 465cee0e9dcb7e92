"""What ByggR would refuse in a payload, found before anything is sent (no I/O).

Messages name fields and rules, never values: the payload holds personal data.
"""

from __future__ import annotations

from typing import Any

from brygga.errors import TargetRejected
from brygga_adapters.byggr.contracts import DEFAULT_CONTRACT, contract_named, unsupported_fields
from brygga_adapters.byggr.payload import has_searchable_fastighet

APPLICANT_ROLE = "SOK"
REQUIRED_ATTRIBUTES = ("arendegrupp", "arendetyp")


def problems(config: dict[str, Any], payload: Any) -> list[str]:
    if not isinstance(payload, dict):
        return ["byggr payload must be an object shaped like the WSDL's arende type"]
    found: list[str] = []
    try:
        if not has_searchable_fastighet(payload):
            found.append(
                "objektLista.abstractArendeObjekt: no fastighet with fnr, or with trakt and fbetNr; "
                "check-before-create needs one to search by"
            )
    except TargetRejected as exc:
        found.append(str(exc))
    if APPLICANT_ROLE not in _roles(payload):
        found.append(f"intressentLista.intressent: no intressent with roll {APPLICANT_ROLE} (applicant)")
    found += [f"{name}: required by ByggR" for name in REQUIRED_ATTRIBUTES if not payload.get(name)]
    if not payload.get("ankomstDatum"):
        found.append("ankomstDatum: required by ByggR")
    if "handelseLista" in payload:
        found.append("handelseLista: not sent in the payload; the adapter adds the documents' handelse")
    contract = contract_named(config.get("contract") or DEFAULT_CONTRACT)
    found += [
        f"{path}: byggr contract {contract.name} has no place for it (config 'contract')"
        for path in unsupported_fields(payload, contract)
    ]
    return found


def _roles(payload: dict[str, Any]) -> set[str]:
    lista = payload.get("intressentLista")
    intressenter = lista.get("intressent") if isinstance(lista, dict) else None
    roles: set[str] = set()
    for intressent in _as_list(intressenter):
        roll_lista = intressent.get("rollLista") if isinstance(intressent, dict) else None
        roll = roll_lista.get("roll") if isinstance(roll_lista, dict) else None
        roles.update(str(value).strip() for value in _as_list(roll))
    return roles


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
