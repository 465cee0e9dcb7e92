"""A JSON Schema as a table of fields for the reference pages: every property a document may hold, by its JSON
pointer, with its type, whether it is required, its constraints, description and examples.

The walk follows ``properties``, ``items``, ``additionalProperties`` (when it is a schema) and ``$ref``s, local
(``#/$defs/...``, resolved in the schema resource that holds the reference) and by an embedded resource's ``$id``
(the composed case schema refers to each case type so). An embedded resource documented on a page of its own
(``documented_elsewhere``) becomes one row pointing there instead of being expanded again. Conditions the table
cannot show per field (``allOf``, ``if``/``then``, ``not``, ``anyOf``, ``oneOf``) are listed as rules.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ANY", "Constraint", "Field", "Rule", "SchemaTable", "schema_table"]

ANY = "*"  # stands for any array index, or any key of an object, in a field's path
_CONSTRAINTS = ("const", "enum", "pattern", "format", "minLength", "maxLength", "minimum", "exclusiveMinimum",
                "maximum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "minProperties",
                "maxProperties", "propertyNames")
_RULES = ("allOf", "anyOf", "oneOf", "not", "if")
_DATA = frozenset({"const", "enum", "examples", "default"})  # values, not schemas: never searched for $id


@dataclass(frozen=True)
class Constraint:
    keyword: str  # the JSON Schema keyword, as a validation error names its rule
    value: str  # compact JSON, or the text of a pattern or format


@dataclass(frozen=True)
class Field:
    path: str  # a JSON pointer into the document; ANY for an index or key
    type: str
    required: bool | None  # None for an array's items and an object's other keys
    constraints: tuple[Constraint, ...]
    description: str
    examples: tuple[str, ...]  # compact JSON, one per example
    see: str | None = None  # the $id of an embedded schema documented on its own page


@dataclass(frozen=True)
class Rule:
    path: str  # the object it applies to
    text: str  # its description, or else the rule as compact JSON


@dataclass(frozen=True)
class SchemaTable:
    fields: list[Field]
    rules: list[Rule]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _resources(node: Any, found: dict[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Every subschema with an ``$id``, by it (values of data keywords are not schemas)."""
    if isinstance(node, Mapping):
        if isinstance(node.get("$id"), str):
            found.setdefault(node["$id"].split("#")[0], node)
        for key, value in node.items():
            if key not in _DATA:
                _resources(value, found)
    elif isinstance(node, list):
        for item in node:
            _resources(item, found)
    return found


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


class _Walk:
    def __init__(self, root: Mapping[str, Any], documented_elsewhere: Collection[str]) -> None:
        self.root = root
        self.resources = _resources(root, {})
        self.elsewhere = set(documented_elsewhere)
        self.fields: list[Field] = []
        self.rules: list[Rule] = []

    def _resolve(self, ref: str, base: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]] | None:
        """(target, its resource) of a reference, or None when it does not resolve in this schema."""
        uri, _, fragment = ref.partition("#")
        resource = base if not uri else self.resources.get(uri)
        target: Any = resource
        for token in fragment.lstrip("/").split("/") if fragment.strip("/") else ():
            key = _unescape(token)
            if isinstance(target, list) and key.isdigit() and int(key) < len(target):
                target = target[int(key)]
            elif isinstance(target, Mapping) and key in target:
                target = target[key]
            else:
                return None
        if not isinstance(target, Mapping) or resource is None:
            return None
        return target, resource

    def _merged(self, node: Mapping[str, Any], base: Mapping[str, Any], expanding: tuple[str, ...]
                ) -> tuple[Mapping[str, Any], Mapping[str, Any], tuple[str, ...], bool]:
        """A node with its ``$ref`` followed (the node's own keywords, a description say, win), and whether to walk
        into it: not into a reference already being expanded on the way here (a recursive schema), nor into one
        that does not resolve (shown as it is, with its ``$ref``)."""
        while isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            resolved = self._resolve(ref, base)
            if resolved is None:
                return node, base, expanding, False
            target, resource = resolved
            if "$id" in target and target is not self.root:
                resource = target
            key = f"{base.get('$id', '')}|{ref}"
            recursive = key in expanding
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            base, expanding = resource, (*expanding, key)
            if recursive:
                return node, base, expanding, False
        return node, base, expanding, True

    def walk(self, node: Mapping[str, Any], path: str, base: Mapping[str, Any], expanding: tuple[str, ...]) -> None:
        self._rules(node, path)
        for name, child in (node.get("properties") or {}).items():
            self.field(child, f"{path}/{name.replace('~', '~0').replace('/', '~1')}", name in node.get("required", ()),
                       base, expanding)
        additional = node.get("additionalProperties")
        if isinstance(additional, Mapping):
            self.field(additional, f"{path}/{ANY}", None, base, expanding)
        items = node.get("items")
        if isinstance(items, Mapping):
            self.field(items, f"{path}/{ANY}", None, base, expanding)

    def field(self, node: Any, path: str, required: bool | None, base: Mapping[str, Any],
              expanding: tuple[str, ...]) -> None:
        if not isinstance(node, Mapping):  # true / false
            self.fields.append(Field(path, "any" if node else "never", required, (), "", ()))
            return
        node, base, expanding, expand = self._merged(node, base, expanding)
        schema_id = node.get("$id") if node is not self.root else None
        see = schema_id if isinstance(schema_id, str) and schema_id in self.elsewhere else None
        self.fields.append(Field(path, _type(node), required, tuple(_constraints(node)),
                                 str(node.get("description", "")), tuple(_json(e) for e in node.get("examples", ())),
                                 see))
        if expand and see is None:
            self.walk(node, path, base, expanding)

    def _rules(self, node: Mapping[str, Any], path: str) -> None:
        for keyword in _RULES:
            if keyword not in node:
                continue
            if keyword == "if":
                self.rules.append(Rule(path or "/", _rule_text({k: node[k] for k in ("if", "then", "else")
                                                                 if k in node})))
            elif keyword == "allOf":
                self.rules.extend(Rule(path or "/", _rule_text(member)) for member in node["allOf"])
            else:
                self.rules.append(Rule(path or "/", _rule_text({keyword: node[keyword]})))


def _rule_text(rule: Any) -> str:
    if isinstance(rule, Mapping) and isinstance(rule.get("description"), str):
        return rule["description"]
    return _json(rule)


def _type(node: Mapping[str, Any]) -> str:
    kind = node.get("type")
    if isinstance(kind, list):
        return " or ".join(map(str, kind))
    if isinstance(kind, str):
        if kind == "array" and isinstance(node.get("items"), Mapping) and isinstance(node["items"].get("type"), str):
            return f"array of {node['items']['type']}"
        return kind
    if "const" in node:
        return "const"
    if "enum" in node:
        return "enum"
    return "any"


def _constraints(node: Mapping[str, Any]) -> Iterator[Constraint]:
    for keyword in _CONSTRAINTS:
        if keyword not in node:
            continue
        value = node[keyword]
        if keyword == "enum":
            yield Constraint(keyword, ", ".join(_json(v) for v in value))
        elif keyword in ("pattern", "format"):
            yield Constraint(keyword, str(value))
        else:
            yield Constraint(keyword, _json(value))
    if node.get("additionalProperties") is False:
        yield Constraint("additionalProperties", "false")
    if isinstance(node.get("$ref"), str):
        yield Constraint("$ref", node["$ref"])


def schema_table(schema: Mapping[str, Any], *, prefix: str = "",
                 documented_elsewhere: Collection[str] = ()) -> SchemaTable:
    """The fields and rules of a schema. ``prefix``: where the schema's root sits in the document (a case type's
    own file describes ``/details/<name>``). ``documented_elsewhere``: ``$id``s of embedded schemas not to expand."""
    walk = _Walk(schema, documented_elsewhere)
    walk.walk(schema, prefix, schema, ())
    return SchemaTable(walk.fields, walk.rules)
