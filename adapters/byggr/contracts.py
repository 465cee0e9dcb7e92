"""ByggR contract versions and what each can carry.

ArendeExportWS keeps its namespaces (``www.tekis.se/ServiceContract``, ``www.tekis.se/arende``) across
versions; the version shows in the SOAP actions, ``www.tekis.se/ServiceContract/V8/IExportArenden/...``.

- **v8**, the current contract: the arende has ``externRef`` (Brygga's check-before-create key) and the
  municipality attributes ``komkod``/``enhetkod``.
- **v4**, still installed in places: no ``externRef``, ``arSammanhBebygg``, ``makulerDatum``, ``prioritet``,
  ``komplexitet`` or ``fastighet``'s ``lagenhetList``; the municipality is ``kommun``/``enhet`` (a name, e.g.
  "Sundsvall", not the kommunkod). One ByggR installation serves one municipality, so ``komkod`` is dropped
  rather than renamed.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from brygga.errors import TargetRejected


@dataclass(frozen=True)
class Contract:
    name: str
    carries_extern_ref: bool
    unsupported_arende_fields: frozenset[str]  # payload keys the contract has no place for
    unsupported_objekt_fields: frozenset[str]  # the same, in objektLista.abstractArendeObjekt items
    dropped_arende_fields: frozenset[str]  # payload keys the adapter leaves out on purpose


V8 = Contract(
    name="v8",
    carries_extern_ref=True,
    unsupported_arende_fields=frozenset({"kommun", "enhet"}),
    unsupported_objekt_fields=frozenset(),
    dropped_arende_fields=frozenset(),
)
V4 = Contract(
    name="v4",
    carries_extern_ref=False,
    unsupported_arende_fields=frozenset(
        {"externRef", "arSammanhBebygg", "makulerDatum", "prioritet", "komplexitet"}
    ),
    unsupported_objekt_fields=frozenset({"lagenhetList"}),
    dropped_arende_fields=frozenset({"komkod"}),
)
CONTRACTS = {contract.name: contract for contract in (V8, V4)}
DEFAULT_CONTRACT = V8.name

_ACTION_VERSION = re.compile(r"/V(\d+)/IExportArenden/", re.IGNORECASE)


def contract_named(name: str) -> Contract:
    return CONTRACTS[name]


def unsupported_fields(payload: dict[str, Any], contract: Contract) -> list[str]:
    """Payload paths the contract cannot carry (names only)."""
    found = [key for key in payload if key in contract.unsupported_arende_fields]
    objekt_lista = payload.get("objektLista")
    items = objekt_lista.get("abstractArendeObjekt") if isinstance(objekt_lista, dict) else None
    for index, item in enumerate(items if isinstance(items, list) else [items] if items else []):
        if isinstance(item, dict):
            found += [
                f"objektLista.abstractArendeObjekt[{index}].{key}"
                for key in item
                if key in contract.unsupported_objekt_fields
            ]
    return found


def arende_for(payload: dict[str, Any], contract: Contract, extern_ref: str) -> dict[str, Any]:
    """A copy of the payload as the contract's SaveNewArende carries it; refuses what it cannot carry."""
    if not isinstance(payload, dict):
        raise TargetRejected("byggr payload must be an object shaped like the WSDL's arende type")
    unsupported = unsupported_fields(payload, contract)
    if unsupported:
        raise TargetRejected(
            f"byggr contract {contract.name} has no place for: {', '.join(unsupported)} (config 'contract')"
        )
    arende = {key: value for key, value in copy.deepcopy(payload).items() if key not in contract.dropped_arende_fields}
    if contract.carries_extern_ref:
        arende["externRef"] = extern_ref
    return arende


def version_in_actions(actions: list[str]) -> str | None:
    """``v8`` from SOAP actions such as ``www.tekis.se/ServiceContract/V8/IExportArenden/GetArende``."""
    versions = {f"v{match.group(1)}" for action in actions if (match := _ACTION_VERSION.search(action or ""))}
    return versions.pop() if len(versions) == 1 else None
