"""The ByggR payload: the outbound mapping's ``arende`` dict, made ready for zeep.

The payload is shaped like the WSDL's ``arende`` type (``www.tekis.se/arende``): XML attributes and child
elements are both plain keys, repeated elements are lists. An abstract element gets its concrete type with
a ``"_type"`` key, which becomes ``xsi:type``, e.g. ``{"_type": "arendeFastighet", ...}`` inside
``objektLista.abstractArendeObjekt``. See README.md for the full shape.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from brygga.errors import TargetRejected

ARENDE_NS = "www.tekis.se/arende"
TYPE_KEY = "_type"


@dataclass(frozen=True)
class FastighetKey:
    """What GetRelateradeArendenByFastighet searches by."""

    fnr: int | None
    trakt: str | None
    fbet_nr: str | None


def arende_with_extern_ref(payload: dict[str, Any], extern_ref: str) -> dict[str, Any]:
    """A copy of the payload with ``externRef`` set: the key check-before-create finds the case by."""
    if not isinstance(payload, dict):
        raise TargetRejected("byggr payload must be an object shaped like the WSDL's arende type")
    arende = copy.deepcopy(payload)
    arende["externRef"] = extern_ref
    return arende


def fastighet_keys(payload: dict[str, Any]) -> list[FastighetKey]:
    """The properties in ``objektLista``; the case is searched for under each of them."""
    objekt_lista = payload.get("objektLista") or {}
    items = (objekt_lista.get("abstractArendeObjekt") or []) if isinstance(objekt_lista, dict) else []
    keys = []
    for item in items if isinstance(items, list) else [items]:
        fastighet = item.get("fastighet") if isinstance(item, dict) else None
        if not isinstance(fastighet, dict):
            continue
        fnr = fastighet.get("fnr")
        key = FastighetKey(
            fnr=int(fnr) if fnr not in (None, "") else None,
            trakt=fastighet.get("trakt"),
            fbet_nr=fastighet.get("fbetNr"),
        )
        if key.fnr is not None or (key.trakt and key.fbet_nr):
            keys.append(key)
    if not keys:
        raise TargetRejected(
            "byggr payload has no objektLista.abstractArendeObjekt with a fastighet "
            "(fnr, or trakt and fbetNr); check-before-create needs one"
        )
    return keys


def to_zeep(value: Any, get_type: Any) -> Any:
    """Replace ``{"_type": name, ...}`` dicts with instances of that arende type, so zeep writes xsi:type."""
    if isinstance(value, dict):
        converted = {key: to_zeep(item, get_type) for key, item in value.items() if key != TYPE_KEY}
        type_name = value.get(TYPE_KEY)
        if type_name is None:
            return converted
        try:
            return get_type(f"{{{ARENDE_NS}}}{type_name}")(**converted)
        except LookupError:
            raise TargetRejected(f"byggr payload: unknown _type {type_name!r}") from None
        except TypeError as exc:
            raise TargetRejected(f"byggr payload: {type_name} does not fit the WSDL: {exc}"[:300]) from None
    if isinstance(value, list):
        return [to_zeep(item, get_type) for item in value]
    return value
