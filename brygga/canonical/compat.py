"""Is a new version of a JSON Schema compatible with the old one? `breaking_changes` lists what is not.

A minor version of the canonical case (core or a case type) may only add and loosen: every document valid under
the old schema must stay valid under the new one. `breaking_changes(old, new)` walks both schemas side by side,
from the root down through ``properties``, ``additionalProperties``, ``items`` and matching conditionals,
following local ``$ref``s (``#/...``, and refs to resources embedded by ``$id`` such as the case types in the
composed schema). It reports, each with the JSON path of the place in the schema, e.g.
``/properties/details/properties/bygglov/properties/measure: enum value 'rivning' removed``:

- a property removed;
- a type narrowed (``integer`` is inside ``number``), or a type added where any was allowed;
- an enum value removed, an enum or const added, a const changed;
- ``minLength``, ``minItems``, ``minProperties`` raised or added; ``maxLength``, ``maxItems``,
  ``maxProperties`` lowered or added;
- a numeric bound made tighter: ``minimum`` and ``exclusiveMinimum`` are read together (and the maxima), and a
  bound is tighter only if it refuses a number the old bounds allowed (``exclusiveMinimum: 0`` → ``minimum: 0``
  is a loosening);
- ``multipleOf`` added or changed (unless every old value is a multiple: ``integer`` → ``number`` with
  ``multipleOf: 1`` is no change), ``uniqueItems`` turned on;
- a ``pattern`` or ``format`` added or changed;
- ``additionalProperties`` made stricter (true or absent → false, or a schema made stricter), and a new property
  where the old schema let any property in, made stricter than that;
- ``propertyNames`` made stricter (compared like a schema; where only listed properties were allowed, each of
  their names is checked against the new rule);
- a new ``required`` field or ``dependentRequired`` dependency;
- a schema replaced by ``false``;
- a ``$ref`` that no longer resolves (a ``$defs`` entry removed that is still referenced);
- without comparing them (review these by hand): an ``allOf`` member added or changed, a ``not`` added or
  changed, and a conditional (``if``/``then``) with a new ``if``, except one that can only apply to documents
  the old schema refused: its ``if`` requires a property and limits it (``const``/``enum``) to values the old
  schema refused there, as the composed schema's conditional for a new case type (``caseType`` const a name
  that was not registered).

Where the old schema allowed a fixed set of values (``enum`` or ``const``), the new one is checked against
exactly those values instead: turning ``const: "1.0"`` into ``enum: ["1.0", "1.1"]``, or an enum into a
``pattern`` every old value matches, is not breaking, and an old value the new schema refuses is reported.

Conditionals with the same ``if`` in both are compared (``then``/``else``); ``allOf`` members that are not
conditionals are matched by equality. Still not compared, on purpose (it is a recursive walk, not a prover):
``anyOf``, ``oneOf``, ``prefixItems``, ``contains``, ``patternProperties``, ``dependentSchemas`` and
``unevaluated*`` (added or changed, they are not reported); bounds are not read with the type (``integer``
with ``exclusiveMinimum: 0`` → ``minimum: 1`` is reported though it is no change); ``$anchor``,
``$dynamicRef`` and remote refs are not followed; a ``$ref`` with sibling keywords is read as the target with
the siblings laid over it; no reasoning across keywords (a ``propertyNames`` const implied by ``maxProperties``
and ``required`` is reported). Review changes of those by hand.

`check_against_release` leaves out the findings listed in `ACCEPTED` for that baseline: reviewed and accepted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urldefrag, urljoin

from brygga.canonical.formats import FORMAT_CHECKERS
from brygga.resources import resource

__all__ = ["ACCEPTED", "RELEASED_DIR", "breaking_changes", "check_against_release", "released_schema"]

RELEASED_DIR = resource("schemas", "canonical", "released")
# The status event schema of the last release, beside the composed case schema (named in RELEASE too).
STATUS_EVENT_RELEASED = "status-event.v1.json"
_LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
_UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
_ANNOTATIONS = ("description", "title", "$comment", "examples")
_CONDITIONAL_KEYS = frozenset({"if", "then", "else", *_ANNOTATIONS})
_TYPES = ("null", "boolean", "object", "array", "number", "integer", "string")
# The keywords a single value is checked against when the old schema allowed a fixed set of values.
_VALUE_KEYWORDS = ("type", "enum", "const", "pattern", "format", "multipleOf", *_LOWER_BOUNDS, *_UPPER_BOUNDS)


if TYPE_CHECKING:
    import jsonschema


@cache
def _format_checker() -> jsonschema.FormatChecker:
    import jsonschema

    checker = jsonschema.FormatChecker()
    for name, check in FORMAT_CHECKERS.items():
        checker.checks(name)(lambda value, check=check: not isinstance(value, str) or check(value))
    return checker


def _value_fits(value: Any, schema: dict[str, Any]) -> bool:
    """Whether one value passes the value keywords of a schema (type, enum/const, pattern, format, bounds)."""
    import jsonschema

    subset = {k: schema[k] for k in _VALUE_KEYWORDS if k in schema}
    return jsonschema.Draft202012Validator(subset, format_checker=_format_checker()).is_valid(value)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@dataclass
class _Side:
    """One schema document: its resources by `$id`, to follow `$ref`s."""

    root: Any
    resources: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._index(self.root, "")

    def _index(self, node: Any, base: str) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$id"), str):
                base = urldefrag(urljoin(base, node["$id"]))[0]
                self.resources[base] = node
            for key, value in node.items():
                if key not in ("enum", "const", "examples", "default"):
                    self._index(value, base)
        elif isinstance(node, list):
            for item in node:
                self._index(item, base)

    def base(self, resource: Any) -> str:
        if isinstance(resource, dict) and isinstance(resource.get("$id"), str):
            for uri, node in self.resources.items():
                if node is resource:
                    return uri
        return ""

    def lookup(self, ref: str, resource: Any) -> tuple[Any, Any] | None:
        """The (node, resource) a `$ref` points at, or None when it does not resolve here."""
        uri, fragment = urldefrag(urljoin(self.base(resource), ref))
        if uri:
            target = self.resources.get(uri)
            if target is None:
                return None
        else:
            target = resource
        node, current = target, target
        if fragment:
            if not fragment.startswith("/"):
                return None  # $anchor: not followed
            for raw in fragment[1:].split("/"):
                part = unquote(raw).replace("~1", "/").replace("~0", "~")
                if isinstance(node, dict) and part in node:
                    node = node[part]
                elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                    node = node[int(part)]
                else:
                    return None
                if isinstance(node, dict) and isinstance(node.get("$id"), str):
                    current = node
        return node, current

    def deref(self, node: Any, resource: Any) -> tuple[Any, Any, str | None]:
        """Follow `$ref` chains: (target with sibling keywords laid over it, its resource, a dangling ref)."""
        seen: set[int] = set()
        while isinstance(node, dict):
            if isinstance(node.get("$id"), str):
                resource = node
            ref = node.get("$ref")
            if not isinstance(ref, str) or id(node) in seen:
                break
            seen.add(id(node))
            found = self.lookup(ref, resource)
            if found is None:
                return {k: v for k, v in node.items() if k != "$ref"}, resource, ref
            target, resource = found
            siblings = {k: v for k, v in node.items() if k not in ("$ref", "$id", "$schema", "$defs")}
            node = {**target, **siblings} if siblings and isinstance(target, dict) else target
        return node, resource, None


class _Walk:
    def __init__(self, old: Any, new: Any) -> None:
        self.old = _Side(old)
        self.new = _Side(new)
        self.findings: list[str] = []
        # The (old, new) schema pairs on the way down from the root: a pair met again is a recursive schema.
        self.stack: set[tuple[int, int]] = set()

    def flag(self, path: str, what: str) -> None:
        self.findings.append(f"{path or '/'}: {what}")

    def compare(self, old: Any, old_res: Any, new: Any, new_res: Any, path: str) -> None:
        key = (id(old), id(new))
        if key in self.stack:
            return
        self.stack.add(key)
        try:
            self._compare(old, old_res, new, new_res, path)
        finally:
            self.stack.discard(key)

    def _compare(self, old: Any, old_res: Any, new: Any, new_res: Any, path: str) -> None:
        old, old_res, _ = self.old.deref(old, old_res)
        new, new_res, dangling = self.new.deref(new, new_res)
        if dangling is not None:
            self.flag(path, f"$ref {dangling!r} does not resolve (a $defs entry removed that is still referenced)")
            return
        if old is False:
            return  # nothing was valid here: anything is looser
        if new is False:
            self.flag(path, "now refused (false schema)")
            return
        old = {} if old is True else old
        new = {} if new is True else new
        if not isinstance(old, dict) or not isinstance(new, dict):
            return
        old_allowed = self._allowed(old)
        if old_allowed is None:
            self._types(old, new, path)
            self._values(old, new, path)
            self._bounds(old, new, path)
            self._strings(old, new, path)
        else:
            # The old schema allowed a fixed set of values: the new one breaks exactly those it refuses.
            for value in old_allowed:
                if not _value_fits(value, new):
                    removed = self._allowed(new) is not None and not _value_fits(value, {"enum": self._allowed(new)})
                    if removed and "const" in old and "const" in new and "enum" not in old:
                        self.flag(path, f"const changed from {_text(old['const'])} to {_text(new['const'])}")
                    elif removed:
                        self.flag(path, f"enum value {_text(value)} removed")
                    else:
                        self.flag(path, f"value {_text(value)} no longer allowed (type, pattern, format or bounds)")
        self._objects(old, old_res, new, new_res, path)
        if "items" in new and new["items"] is not True:
            self.compare(old.get("items", True), old_res, new["items"], new_res, f"{path}/items")
        if "propertyNames" in new:
            self._property_names(old, old_res, new, new_res, path)
        if "not" in new and _canonical(new["not"]) != _canonical(old.get("not")):
            self.flag(f"{path}/not", "not added or changed (not compared: review by hand)")
        self._conditionals(old, old_res, new, new_res, path)

    def _types(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        if "type" not in new:
            return
        new_types = {new["type"]} if isinstance(new["type"], str) else set(new["type"])
        if "type" not in old:
            if new_types != set(_TYPES) and new_types != set(_TYPES) - {"integer"}:
                self.flag(path, f"type {'/'.join(sorted(new_types))} added where any type was allowed")
            return
        old_types = {old["type"]} if isinstance(old["type"], str) else set(old["type"])
        for lost in sorted(old_types - new_types):
            if lost == "integer" and "number" in new_types:
                continue
            self.flag(path, f"type narrowed: {lost} no longer allowed")

    @staticmethod
    def _allowed(schema: dict[str, Any]) -> list[Any] | None:
        values: list[Any] | None = None
        if "enum" in schema:
            values = list(schema["enum"])
        if "const" in schema:
            values = [v for v in (values or [schema["const"]]) if _canonical(v) == _canonical(schema["const"])]
        return values

    def _values(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        new_allowed = self._allowed(new)
        if new_allowed is None:
            return
        # Only called when the old schema had no enum or const.
        self.flag(path, f"values restricted to {', '.join(_text(v) for v in new_allowed)} (enum or const added)")

    def _bounds(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        for keyword in ("minLength", "minItems", "minProperties"):
            if keyword in new and (keyword not in old or new[keyword] > old[keyword]):
                before = f"from {old[keyword]}" if keyword in old else "(none before)"
                self.flag(path, f"{keyword} raised {before} to {new[keyword]}")
        for keyword in ("maxLength", "maxItems", "maxProperties"):
            if keyword in new and (keyword not in old or new[keyword] < old[keyword]):
                before = f"from {old[keyword]}" if keyword in old else "(none before)"
                self.flag(path, f"{keyword} lowered {before} to {new[keyword]}")
        # minimum and exclusiveMinimum together (and the maxima): a bound is tighter only if it refuses a number
        # the old bounds allowed, so exclusiveMinimum 0 -> minimum 0 is a loosening.
        for lower, verb in ((True, "raised"), (False, "lowered")):
            before, after = _bound(old, lower), _bound(new, lower)
            if after is not None and _tighter(after, before, lower):
                since = "(none before)" if before is None else (
                    f"from {before[0]}" if before[2] == after[2] else f"from {before[2]} {before[0]}")
                self.flag(path, f"{after[2]} {verb} {since} to {after[0]}")
        if "multipleOf" in new and old.get("multipleOf") != new["multipleOf"]:
            old_step = old.get("multipleOf")
            steps = [old_step] if isinstance(old_step, int | float) else []
            old_numeric = _type_set(old) & {"number", "integer"}
            if "number" not in old_numeric:
                steps.append(1)  # only integers (or no numbers at all) were allowed: a step dividing 1 is no change
            if not any(step % new["multipleOf"] == 0 for step in steps):
                self.flag(path, f"multipleOf {'added' if old_step is None else 'changed'}: {new['multipleOf']}")
        if new.get("uniqueItems") is True and old.get("uniqueItems") is not True:
            self.flag(path, "uniqueItems turned on")

    def _strings(self, old: dict[str, Any], new: dict[str, Any], path: str) -> None:
        if "pattern" in new and new["pattern"] != old.get("pattern"):
            self.flag(path, f"pattern {'changed' if 'pattern' in old else 'added'}: {new['pattern']}")
        if "format" in new and new["format"] != old.get("format"):
            self.flag(path, f"format {'changed' if 'format' in old else 'added'}: {new['format']}")

    def _objects(self, old: dict[str, Any], old_res: Any, new: dict[str, Any], new_res: Any, path: str) -> None:
        old_props = old.get("properties", {})
        new_props = new.get("properties", {})
        old_extra = old.get("additionalProperties", True)
        new_extra = new.get("additionalProperties", True)
        for name, old_sub in old_props.items():
            where = f"{path}/properties/{_escape(name)}"
            if name not in new_props:
                self.flag(where, "property removed")
            else:
                self.compare(old_sub, old_res, new_props[name], new_res, where)
        for name, new_sub in new_props.items():
            if name not in old_props and old_extra is not False:
                # A property any value was allowed for (through additionalProperties) is now described.
                self.compare(old_extra, old_res, new_sub, new_res, f"{path}/properties/{_escape(name)}")
        if new_extra is False and old_extra is not False:
            self.flag(path, "additionalProperties made false: properties not listed are now refused")
        elif isinstance(new_extra, dict) and old_extra is not False:
            self.compare(old_extra, old_res, new_extra, new_res, f"{path}/additionalProperties")
        for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
            self.flag(path, f"new required field {_text(name)}")
        old_deps = old.get("dependentRequired", {})
        for name, needs in new.get("dependentRequired", {}).items():
            for need in sorted(set(needs) - set(old_deps.get(name, []))):
                self.flag(path, f"new dependentRequired: {_text(name)} needs {_text(need)}")

    def _conditionals(self, old: dict[str, Any], old_res: Any, new: dict[str, Any], new_res: Any, path: str) -> None:
        def conditionals(schema: dict[str, Any], prefix: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
            if "if" in schema:
                yield _canonical(schema["if"]), prefix, schema
            for index, member in enumerate(schema.get("allOf", [])):
                if _is_conditional(member):
                    yield _canonical(member["if"]), f"{prefix}/allOf/{index}", member

        old_by_if = {key: member for key, _, member in conditionals(old, path)}
        for key, where, member in conditionals(new, path):
            before = old_by_if.get(key)
            if before is None:
                if ("then" in member or "else" in member) and not self._matches_only_refused(old, old_res, member):
                    self.flag(where, f"new conditional if {_canonical(member['if'])} (not compared: review by hand)")
                continue
            for branch in ("then", "else"):
                if branch in member:
                    self.compare(before.get(branch, True), old_res, member[branch], new_res, f"{where}/{branch}")
        old_members = {_canonical(member) for member in old.get("allOf", [])}
        for index, member in enumerate(new.get("allOf", [])):
            if not _is_conditional(member) and _canonical(member) not in old_members:
                self.flag(f"{path}/allOf/{index}", "allOf member added or changed (not compared: review by hand)")

    def _property_names(self, old: dict[str, Any], old_res: Any, new: dict[str, Any], new_res: Any, path: str) -> None:
        names = new["propertyNames"]
        if (old.get("additionalProperties", True) is False and "patternProperties" not in old
                and isinstance(names, dict) and set(names) <= {*_VALUE_KEYWORDS, *_ANNOTATIONS}):
            # Only the listed properties were allowed: the new rule breaks exactly the names it refuses.
            for name in old.get("properties", {}):
                if not _value_fits(name, names):
                    self.flag(f"{path}/propertyNames", f"property name {_text(name)} no longer allowed")
            return
        self.compare(old.get("propertyNames", True), old_res, names, new_res, f"{path}/propertyNames")

    def _matches_only_refused(self, old: dict[str, Any], old_res: Any, member: dict[str, Any]) -> bool:
        """Whether a new conditional can only apply to documents the old schema refused (and so breaks none).

        That is when its ``if`` has no ``else`` and requires a property whose values it limits (const or enum) to
        ones the old schema refused there: the composed schema's conditional for a new case type,
        ``if caseType const <new name>``.
        """
        condition = member.get("if")
        if "else" in member or not isinstance(condition, dict):
            return False
        for name in condition.get("required", []):
            sub = condition.get("properties", {}).get(name)
            values = self._allowed(sub) if isinstance(sub, dict) else None
            if values is None or name not in old.get("properties", {}):
                continue
            before, _, _ = self.old.deref(old["properties"][name], old_res)
            if before is False or (isinstance(before, dict) and not any(_value_fits(v, before) for v in values)):
                return True
        return False

    def dangling_refs(self) -> None:
        """Every `$ref` of the new schema resolves (also in places the walk does not reach, e.g. unused $defs)."""
        reported = {finding.split(": $ref ", 1)[1].split(" ", 1)[0] for finding in self.findings
                    if ": $ref " in finding}

        def walk(node: Any, resource: Any, path: str) -> None:
            if isinstance(node, dict):
                if isinstance(node.get("$id"), str):
                    resource = node
                ref = node.get("$ref")
                if isinstance(ref, str) and self.new.lookup(ref, resource) is None and repr(ref) not in reported:
                    self.flag(path, f"$ref {ref!r} does not resolve (a $defs entry removed that is still referenced)")
                for key, value in node.items():
                    if key not in ("enum", "const", "examples", "default"):
                        walk(value, resource, f"{path}/{_escape(key)}")
            elif isinstance(node, list):
                for index, item in enumerate(node):
                    walk(item, resource, f"{path}/{index}")

        walk(self.new.root, self.new.root, "")


def _is_conditional(member: Any) -> bool:
    """An ``allOf`` member that is only an if/then/else (with annotations): compared by its ``if``."""
    return isinstance(member, dict) and "if" in member and set(member) <= _CONDITIONAL_KEYS


def _type_set(schema: dict[str, Any]) -> set[str]:
    """The types a schema allows (all of them when it has no ``type``)."""
    if "type" not in schema:
        return set(_TYPES)
    return {schema["type"]} if isinstance(schema["type"], str) else set(schema["type"])


def _bound(schema: dict[str, Any], lower: bool) -> tuple[Any, bool, str] | None:
    """The tightest numeric bound on one side: (value, exclusive, keyword), or None."""
    names = ("minimum", "exclusiveMinimum") if lower else ("maximum", "exclusiveMaximum")
    bounds = [(schema[name], name.startswith("exclusive"), name) for name in names
              if isinstance(schema.get(name), int | float) and not isinstance(schema.get(name), bool)]
    if not bounds:
        return None
    return max(bounds, key=lambda b: (b[0] if lower else -b[0], b[1]))


def _tighter(new: tuple[Any, bool, str], old: tuple[Any, bool, str] | None, lower: bool) -> bool:
    """Whether bound ``new`` refuses a number ``old`` allowed."""
    if old is None:
        return True
    if new[0] != old[0]:
        return bool(new[0] > old[0]) if lower else bool(new[0] < old[0])
    return new[1] and not old[1]


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What in ``new`` may refuse a document ``old`` accepted; an empty list means ``new`` is compatible.

    Each finding is ``<JSON path in the schema>: <what changed>``. See the module docstring for what is compared.
    """
    walk = _Walk(old, new)
    walk.compare(old, old, new, new, "")
    walk.dangling_refs()
    return list(dict.fromkeys(walk.findings))


# --- the released baseline ------------------------------------------------------------------------

_V1_0 = "https://schemas.brygga.se/canonical/case/1.0.0/case.schema.json"
# Findings against a baseline that were reviewed and accepted, by the baseline's $id (so they lapse when the
# baseline is replaced at the next release); `/allOf/<n>` is written `/allOf/*` (the index moves with the types).
ACCEPTED: dict[str, frozenset[str]] = {
    _V1_0: frozenset({
        # 1.0 said "only the case's own type may appear" in details but enforced it only for bygglov and
        # felanmalan (maxProperties 1 and the required type); 1.1 enforces it for fardtjanst too: a fardtjanst
        # case holding details.bygglov or details.felanmalan, never written by Brygga, is now refused.
        '/allOf/*: new conditional if {"properties": {"caseType": {"const": "fardtjanst"}}, "required": '
        '["caseType"]} (not compared: review by hand)',
        # Implied in 1.0 already by details' maxProperties 1 together with the required bygglov / felanmalan.
        "/allOf/*/then/properties/details/propertyNames: values restricted to 'bygglov' (enum or const added)",
        "/allOf/*/then/properties/details/propertyNames: values restricted to 'felanmalan' (enum or const added)",
    }),
}


def released_schema(released_dir: Path | None = None) -> tuple[Path, dict[str, Any]]:
    """The composed case schema of the last release: the file named by ``RELEASE`` (its ``file:`` line)."""
    folder = released_dir or RELEASED_DIR
    release = (folder / "RELEASE").read_text(encoding="utf-8")
    names = [line.split(":", 1)[1].strip() for line in release.splitlines() if line.startswith("file:")]
    if len(names) != 1 or "/" in names[0] or "\\" in names[0]:
        raise ValueError(f"{folder / 'RELEASE'}: expected one line 'file: <name>' naming the released schema")
    path = folder / names[0]
    return path, json.loads(path.read_text(encoding="utf-8"))


def check_against_release(case_types: Any = None) -> list[str]:
    """Breaking changes of the current composed case schema and status event schema against their released
    baselines; empty when compatible. A status event finding starts with ``status-event``.

    ``case_types``: a `CaseTypeRegistry`; by default the bundled case types only (what a release ships). For
    ``brygga schemas check``: print the findings and exit non-zero when there are any.
    """
    from brygga.canonical.types import CaseTypeRegistry, composed_schema

    registry = case_types if case_types is not None else CaseTypeRegistry.load()
    _, released = released_schema()
    accepted = ACCEPTED.get(released.get("$id"), frozenset())
    findings = [finding for finding in breaking_changes(released, composed_schema(registry))
                if re.sub(r"/allOf/[0-9]+", "/allOf/*", finding) not in accepted]
    status_released = RELEASED_DIR / STATUS_EVENT_RELEASED
    if status_released.is_file():
        current = json.loads(resource("schemas", "canonical", "status-event.v1.schema.json").read_text("utf-8"))
        findings += [f"status-event {finding}" for finding in
                     breaking_changes(json.loads(status_released.read_text(encoding="utf-8")), current)]
    return findings
