"""The ByggR payload: the outbound mapping's ``arende`` dict, made ready for zeep.

The payload is shaped like the WSDL's ``arende`` type (``www.tekis.se/arende``): XML attributes and child
elements are both plain keys, repeated elements are lists. An abstract element gets its concrete type with
a ``"_type"`` key, which becomes ``xsi:type``, e.g. ``{"_type": "arendeFastighet", ...}`` inside
``objektLista.abstractArendeObjekt``. See README.md for the full shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from brygga.errors import TargetRejected

ARENDE_NS = "www.tekis.se/arende"
TYPE_KEY = "_type"


@dataclass(frozen=True)
class FastighetKey:
    """What GetRelateradeArendenByFastighet searches by: the FNR when known, else trakt and fbetNr."""

    fnr: int | None
    trakt: str | None
    fbet_nr: str | None


def fastighet_keys(payload: dict[str, Any]) -> list[FastighetKey]:
    """The properties in ``objektLista``; the case is searched for under each of them."""
    keys = [key for key in _keys(payload) if key.fnr is not None or (key.trakt and key.fbet_nr)]
    if not keys:
        raise TargetRejected(
            "byggr payload has no objektLista.abstractArendeObjekt with a fastighet "
            "(fnr, or trakt and fbetNr); check-before-create needs one"
        )
    return keys


def has_searchable_fastighet(payload: dict[str, Any]) -> bool:
    return any(key.fnr is not None or (key.trakt and key.fbet_nr) for key in _keys(payload))


def _keys(payload: dict[str, Any]) -> list[FastighetKey]:
    objekt_lista = payload.get("objektLista") or {}
    items = (objekt_lista.get("abstractArendeObjekt") or []) if isinstance(objekt_lista, dict) else []
    keys = []
    for position, item in enumerate(items if isinstance(items, list) else [items]):
        fastighet = item.get("fastighet") if isinstance(item, dict) else None
        if not isinstance(fastighet, dict):
            continue
        fnr = _fnr(fastighet.get("fnr"), position)
        keys.append(
            # Only one key is sent: the FNR is exact, a designation can be written in more than one way.
            FastighetKey(fnr=fnr, trakt=None, fbet_nr=None)
            if fnr is not None
            else FastighetKey(fnr=None, trakt=fastighet.get("trakt"), fbet_nr=fastighet.get("fbetNr"))
        )
    return keys


def _fnr(value: Any, position: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise TargetRejected(
            f"byggr payload: objektLista.abstractArendeObjekt[{position}].fastighet.fnr is not an integer"
        ) from None


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
