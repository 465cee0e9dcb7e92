"""Problems worded for a vendor, in Swedish or English: the message of a broken rule, and a hint saying what the
field is and what a valid value looks like.

Both are built from the rule, its parameters (`brygga.canonical.CaseProblem.params`: allowed values, limits,
patterns) and the schema (the field's description and ``examples``), never from the document: a document holds
personal data, and a message may end up in a terminal, a CI log or an HTTP answer.

The field is found in the schema by the problem's JSON pointer (`SchemaIndex.at`): through ``properties``,
``items``, ``prefixItems`` and ``additionalProperties``, the branches of ``allOf``/``anyOf``/``oneOf`` and
``then``/``else``, and ``$ref`` (local, and to the case type schemas embedded in the composed case schema by
their ``$id``). Descriptions are written ``"Svenska / English: ..."`` (docs/schemas.md), so the words before the
first colon name the field in both languages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

__all__ = ["LANGS", "Lang", "SchemaIndex", "hint", "message"]

Lang = Literal["en", "sv"]
LANGS: tuple[Lang, ...] = ("en", "sv")

_EXAMPLE_CHARS = 80  # a longer example (a whole party, a list of attachments) makes no readable hint
_LABEL_CHARS = 80
_MAX_DEPTH = 32  # $ref chains and nested combinators; the bundled schemas need fewer than 10


# --- where a field is in the schema -------------------------------------------------------------------------

class SchemaIndex:
    """The subschemas that apply at a place in a document, for one self-contained schema."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        root = DRAFT202012.create_resource(schema)
        registry: Registry[Any] = Registry()
        if root.id() is not None:
            registry = (root @ registry).crawl()  # the $ids inside too: the case types' own files
        self._schema = schema
        self._resolver = registry.resolver(base_uri=root.id() or "")
        self._indexes_matter = _indexes_matter(schema)

    def general(self, pointer: str) -> str:
        """``pointer`` with its array indexes as ``*`` when the schema is the same at every index (no
        ``prefixItems``, no property named by digits): places with the same general pointer get the same hint."""
        return pointer if self._indexes_matter else _INDEX.sub("/*", pointer)

    def at(self, pointer: str) -> list[Mapping[str, Any]]:
        """Every object schema that applies at ``pointer`` (a JSON pointer into a document), outermost first; empty
        when the schema says nothing about that place."""
        level = list(_expand(self._schema, self._resolver, 0))
        for step in _steps(pointer):
            level = [found for node, resolver in level for child in _children(node, step)
                     for found in _expand(child, resolver, 0)]
            if not level:
                return []
        return [node for node, _ in level]


_INDEX = re.compile(r"/[0-9]+(?=/|$)")
_DATA = frozenset({"enum", "const", "examples", "default"})  # values, not schemas


def _indexes_matter(node: Any) -> bool:
    """Whether a schema tells places apart by an index: ``prefixItems``, or a property whose name is digits."""
    if isinstance(node, Mapping):
        properties = node.get("properties")
        if "prefixItems" in node or (isinstance(properties, Mapping) and any(map(str.isdigit, properties))):
            return True
        return any(_indexes_matter(value) for key, value in node.items() if key not in _DATA)
    if isinstance(node, list):
        return any(_indexes_matter(item) for item in node)
    return False


def _steps(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]


def _expand(node: Any, resolver: Any, depth: int) -> Iterator[tuple[Mapping[str, Any], Any]]:
    if not isinstance(node, Mapping) or depth > _MAX_DEPTH:
        return
    if isinstance(node.get("$id"), str):
        resolver = resolver.in_subresource(DRAFT202012.create_resource(node))
    yield node, resolver
    ref = node.get("$ref")
    if isinstance(ref, str):
        try:
            resolved = resolver.lookup(ref)
        except Unresolvable:
            pass
        else:
            yield from _expand(resolved.contents, resolved.resolver, depth + 1)
    for key in ("allOf", "anyOf", "oneOf"):
        for member in node.get(key, []) if isinstance(node.get(key), list) else []:
            yield from _expand(member, resolver, depth + 1)
    for key in ("then", "else"):
        yield from _expand(node.get(key), resolver, depth + 1)


def _children(node: Mapping[str, Any], step: str) -> list[Any]:
    found = []
    properties = node.get("properties")
    if isinstance(properties, Mapping) and step in properties:
        found.append(properties[step])
    elif isinstance(node.get("additionalProperties"), Mapping):
        found.append(node["additionalProperties"])
    if step.isdigit():
        prefix = node.get("prefixItems")
        if isinstance(prefix, list) and int(step) < len(prefix):
            found.append(prefix[int(step)])
        elif isinstance(node.get("items"), Mapping):
            found.append(node["items"])
    return found


# --- messages ----------------------------------------------------------------------------------------------

_FORMATS: dict[str, tuple[str, str]] = {
    "personnummer": (
        "Not a valid personnummer or samordningsnummer: expected 12 digits YYYYMMDDNNNC with a real date (day + 60 "
        "for samordningsnummer) and a correct Luhn check digit.",
        "Inte ett giltigt personnummer eller samordningsnummer: 12 siffror ÅÅÅÅMMDDNNNK med ett riktigt datum "
        "(dagen + 60 för samordningsnummer) och rätt kontrollsiffra (Luhn)."),
    "organisationsnummer": (
        "Not a valid organisationsnummer: expected 10 digits and a correct Luhn check digit.",
        "Inte ett giltigt organisationsnummer: 10 siffror utan bindestreck och rätt kontrollsiffra (Luhn)."),
    "fastighetsbeteckning": (
        "Not a valid fastighetsbeteckning: expected upper-case KOMMUN TRAKT BLOCK:ENHET, e.g. KUMLA STENEN 1:23.",
        "Inte en giltig fastighetsbeteckning: KOMMUN TRAKT BLOCK:ENHET med versaler, t.ex. KUMLA STENEN 1:23."),
    "postnummer": (
        "Not a valid Swedish postnummer: expected 5 digits without a space, the first not 0.",
        "Inte ett giltigt postnummer: 5 siffror utan mellanslag, den första inte 0."),
    "kommunkod": (
        "Not a valid kommunkod: expected 4 digits starting with a county (län) code.",
        "Inte en giltig kommunkod: 4 siffror som börjar med en länskod."),
    "date-time": (
        "Not an RFC 3339 date-time with a UTC offset, e.g. 2026-10-14T09:12:44+02:00.",
        "Inte en tidpunkt enligt RFC 3339 med tidszon, t.ex. 2026-10-14T09:12:44+02:00."),
    "date": ("Not a date in the form YYYY-MM-DD.", "Inte ett datum på formen ÅÅÅÅ-MM-DD."),
    "email": ("Not a valid email address.", "Inte en giltig e-postadress."),
    "uuid": ("Not a UUID in the 8-4-4-4-12 hex form.", "Inte ett UUID på formen 8-4-4-4-12 hexadecimala tecken."),
}

_TYPES_SV = {"string": "text", "number": "tal", "integer": "heltal", "object": "objekt", "array": "lista",
             "boolean": "sant/falskt", "null": "null"}

# rule -> (English, Swedish); {limit} from the schema.
_LIMITS: dict[str, tuple[str, str]] = {
    "minLength": ("Text must be at least {limit} characters long.", "Texten måste vara minst {limit} tecken lång."),
    "maxLength": ("Text must be at most {limit} characters long.", "Texten får vara högst {limit} tecken lång."),
    "minItems": ("List must have at least {limit} items.", "Listan måste ha minst {limit} poster."),
    "maxItems": ("List must have at most {limit} items.", "Listan får ha högst {limit} poster."),
    "minProperties": ("Object must have at least {limit} properties.", "Objektet måste ha minst {limit} fält."),
    "maxProperties": ("Object must have at most {limit} properties.", "Objektet får ha högst {limit} fält."),
    "minimum": ("Number must be at least {limit}.", "Talet måste vara minst {limit}."),
    "exclusiveMinimum": ("Number must be greater than {limit}.", "Talet måste vara större än {limit}."),
    "maximum": ("Number must be at most {limit}.", "Talet får vara högst {limit}."),
    "exclusiveMaximum": ("Number must be less than {limit}.", "Talet måste vara mindre än {limit}."),
    "multipleOf": ("Number must be a multiple of {limit}.", "Talet måste vara en multipel av {limit}."),
}

_FIXED: dict[str, tuple[str, str]] = {
    "required": ("Required property is missing.", "Obligatoriskt fält saknas."),
    "notAllowed": ("Property is not allowed here (e.g. a person field on an organisation party).",
                   "Fältet är inte tillåtet här (t.ex. ett personfält på en organisation)."),
    "uniqueItems": ("List items must be unique.", "Listans poster måste vara unika."),
    "json": ("The document contains data that is not JSON (e.g. a non-text key).",
             "Dokumentet innehåller data som inte är JSON (t.ex. en nyckel som inte är text)."),
}


def _listing(values: Any) -> str:
    items = values if isinstance(values, list) else [values]
    return ", ".join(json.dumps(value, ensure_ascii=False) for value in items)


def message(rule: str, params: Mapping[str, Any], lang: Lang, fallback: str = "") -> str:
    """The problem in ``lang``, from the rule and its parameters (values of the schema, never of the document).
    ``fallback``: the validator's own English message, used in English for a rule not worded here."""
    sv = lang == "sv"
    if rule == "json" and params.get("cause") == "depth":
        return "Dokumentet är för djupt nästlat för att kunna kontrolleras." if sv else \
            "The document is nested too deeply to be checked."
    if rule in _FIXED:
        return _FIXED[rule][sv]
    if rule.startswith("format:"):
        name = rule.partition(":")[2]
        if name in _FORMATS:
            return _FORMATS[name][sv]
        return f"Värdet har inte formatet {name}." if sv else f"Value is not in the '{name}' format."
    if rule in _LIMITS and "limit" in params:
        return _LIMITS[rule][sv].format(limit=params["limit"])
    if rule == "enum" and "options" in params:
        allowed = _listing(params["options"])
        return f"Värdet är inte ett av de tillåtna: {allowed}." if sv else \
            f"Value is not one of the allowed values: {allowed}."
    if rule == "const" and "expected" in params:
        expected = _listing([params["expected"]])
        return f"Värdet måste vara {expected}." if sv else f"Value must be {expected}."
    if rule == "type" and "types" in params:
        types = list(params["types"])
        if sv:
            return f"Värdet har fel typ; det ska vara {' eller '.join(_TYPES_SV.get(t, t) for t in types)}."
        return f"Value has the wrong type; expected {' or '.join(types)}."
    if rule == "pattern" and "pattern" in params:
        return f"Värdet följer inte mönstret {params['pattern']}." if sv else \
            f"Value does not match the pattern {params['pattern']}."
    if rule == "additionalProperties":
        if params.get("withheld"):
            return "Ett fält som schemat inte känner till finns med (namnet visas inte)." if sv else \
                "An unexpected property is present (name withheld)."
        return "Fältet är inte tillåtet enligt schemat." if sv else "Property is not allowed by the schema."
    if rule == "propertyNames":
        return _property_names(params, sv)
    if rule == "caseType":
        registered = ", ".join(params.get("registered", ())) or ("(inga)" if sv else "(none)")
        return f"Ärendetypen är inte registrerad; registrerade: {registered}." if sv else \
            f"The case type is not registered; registered: {registered}."
    if rule == "mapping":
        detail = params.get("detail", "")
        return f"E-tjänstens XML kunde inte översättas till fältet (mappningens besked, på engelska): {detail}" \
            if sv else f"The e-service's XML could not be mapped to this field: {detail}"
    if sv:
        return f"Värdet bryter mot schemats regel '{rule}'."
    return fallback or f"Value breaks the schema rule '{rule}'."


def _property_names(params: Mapping[str, Any], sv: bool) -> str:
    if "allowed" in params:
        allowed = _listing([params["allowed"]])
        return (f"Bara fältet {allowed} är tillåtet här (details innehåller bara ärendets egen typ)." if sv else
                f"Only the property {allowed} is allowed here (details hold the case's own type only).")
    if "pattern" in params:
        return f"Ett fältnamn följer inte mönstret {params['pattern']}." if sv else \
            f"A property name does not match the pattern {params['pattern']}."
    return "Ett fältnamn bryter mot schemats regel för namn." if sv else "A property name breaks the schema's rule."


# --- hints -------------------------------------------------------------------------------------------------

def _label(description: str, lang: Lang) -> str | None:
    """``"Åtgärd / Measure: vilken åtgärd ..."`` -> ``Åtgärd`` (sv) or ``Measure`` (en)."""
    swedish, slash, rest = description.partition(" / ")
    if not slash:
        return None
    # The English name ends at the first colon ("Tenant, i.e. the municipality: ..."), else at the sentence's end.
    english = re.split(r":\s|:$", rest, maxsplit=1)[0] if re.search(r":\s|:$", rest) else \
        re.split(r"\.\s|\.$", rest, maxsplit=1)[0]
    label = (swedish if lang == "sv" else english).strip()
    return label if 0 < len(label) <= _LABEL_CHARS else None


def _field_label(nodes: list[Mapping[str, Any]], lang: Lang) -> str | None:
    for node in nodes:
        for key in ("description", "title"):
            text = node.get(key)
            if isinstance(text, str) and (label := _label(text, lang)):
                return label
    return None


def _example(nodes: list[Mapping[str, Any]]) -> str | None:
    for node in nodes:
        examples = node.get("examples")
        for example in examples if isinstance(examples, list) else []:
            shown = json.dumps(example, ensure_ascii=False)
            if len(shown) <= _EXAMPLE_CHARS:
                return shown
    return None


def _allowed_names(nodes: list[Mapping[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for node in nodes:
        properties = node.get("properties")
        if isinstance(properties, Mapping):
            names.update((name, None) for name, sub in properties.items() if sub is not False)
    return list(names)


def _parent(pointer: str) -> str:
    return pointer.rpartition("/")[0]


def _described(index: SchemaIndex, path: str, lang: Lang) -> tuple[str | None, str | None]:
    """The label and an example of the field at ``path``; for a field the schema does not describe itself (a value
    of a free-form map), those of the nearest described field it is in."""
    while True:
        nodes = index.at(path)
        label = _field_label(nodes, lang)
        if label is not None or not path:
            return label, _example(nodes)
        path = _parent(path)


def hint(index: SchemaIndex, path: str, rule: str, params: Mapping[str, Any], lang: Lang) -> str | None:
    """What the field at ``path`` is and what a valid value looks like, from the schema: ``Åtgärd: t.ex.
    "nybyggnad"``. For a property the schema does not allow: the fields allowed there. None when the schema says
    nothing useful about the place."""
    sv = lang == "sv"
    parts: list[str] = []
    if rule in ("additionalProperties", "propertyNames"):
        # The property is not in the schema: say what its object is, and which names it takes.
        owner = path if params.get("withheld") or rule == "propertyNames" else _parent(path)
        nodes = index.at(owner)
        label = _field_label(nodes, lang)
        names = _allowed_names(nodes)
        if names:
            listed = ", ".join(names)
            parts.append(f"{label}: tillåtna fält: {listed}" if sv and label else
                         f"{label}: allowed properties: {listed}" if label else
                         f"Tillåtna fält här: {listed}" if sv else f"Allowed properties here: {listed}")
        elif label:
            parts.append(label)
    else:
        label, example = _described(index, path, lang)
        if label and example:
            parts.append(f"{label}: t.ex. {example}" if sv else f"{label}: e.g. {example}")
        elif label or example:
            parts.append(label or (f"t.ex. {example}" if sv else f"e.g. {example}"))
    source = params.get("source")
    if rule == "mapping" and source:
        parts.append(f"källa i e-tjänstens XML: {source}" if sv else f"source in the e-service's XML: {source}")
    return "; ".join(parts) or None
