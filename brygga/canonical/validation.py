"""Validate a canonical case against the core schema and the registered case types.

The schema a case is checked against is the composed one (`brygga.canonical.types.composed_schema`): the core
schemas/canonical/case.v1.schema.json with every case type file of a registry embedded. By default the registry
is the environment's: the bundled schemas/canonical/types/ plus the extra folders of `Settings.case_types_dirs`.

The fast path is jsonschema-rs, compiled once per registry: a valid case costs one `is_valid` call. Only
an invalid case pays for `iter_errors`, whose errors carry the instance path and the failing keyword, from
which we build our own messages. We never reuse the library's messages: they quote the instance value, and
case values are personal data (personnummer, names, addresses) that must not reach logs, the ledger or
quarantine reasons. (A case type name that is not registered is echoed when it has the caseType pattern: it is
a schema name, not personal data.)

`reference_validator()` gives the same composed schema and formats on the pure-Python `jsonschema` package. It
is the slow, independent second opinion the tests compare against, and what a vendor can use without a Rust
wheel.

The environment's registry is looked up again when BRYGGA_CASE_TYPES, BRYGGA_CONFIG or BRYGGA_HOME change, and
its folders are looked at again at most once a second: a type file added, removed or changed there is picked up
within that second. Pass a registry (`CaseTypeRegistry.load(...)`) to decide exactly which types apply.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from brygga.canonical.formats import FORMAT_CHECKERS
from brygga.canonical.types import CASE_TYPE_NAME, CaseTypeRegistry, composed_schema
from brygga.errors import ConfigError
from brygga.resources import resource

if TYPE_CHECKING:
    import jsonschema

__all__ = [
    "CASE_SCHEMA_ID",
    "CASE_SCHEMA_PATH",
    "SAFE_NAME",
    "CaseProblem",
    "compile_case_schema",
    "default_case_types",
    "load_case_schema",
    "reference_validator",
    "safe_pointer",
    "validate_against",
    "validate_case",
]

CASE_SCHEMA_ID = "https://schemas.brygga.se/canonical/case/1.1.0/case.schema.json"
CASE_SCHEMA_PATH = resource("schemas", "canonical", "case.v1.schema.json")


@dataclass(frozen=True, slots=True)
class CaseProblem:
    """One reason a case is invalid.

    path: JSON pointer to the offending value, or to the missing/unexpected property ("/parties/0/givenName").
    rule: the broken rule: a JSON Schema keyword ("required", "enum", "additionalProperties",
          "propertyNames"), "format:<name>", "notAllowed" (a field that does not belong to this kind of object),
          "caseType" (a case type that is not registered) or "json" (not JSON data at all).
    message: readable English that never contains the offending value.
    params: the rule's parameters from the schema, never from the case, so that others can word the problem in
          their own language (brygga.catalog.messages): "options" (enum), "expected" (const), "types",
          "pattern", "limit", "format", "allowed" (the one property name a propertyNames const allows),
          "withheld" (True: a property name not shown), "registered" (caseType). Not part of equality.
    """

    path: str
    rule: str
    message: str
    params: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@cache
def _schema_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load_case_schema(path: Path | None = None) -> dict[str, Any]:
    """Return the core case schema as a fresh dict (callers may change it without touching the cache).

    This is the core alone; `brygga.canonical.types.composed_schema(registry)` adds the case types.
    """
    schema: dict[str, Any] = json.loads(_schema_text(path or CASE_SCHEMA_PATH))
    if schema.get("$id") != CASE_SCHEMA_ID:
        # A mismatch means the file and the code disagree on which contract this is: fail loudly at load time.
        raise ValueError(f"{path or CASE_SCHEMA_PATH} does not declare $id {CASE_SCHEMA_ID}")
    return schema


# --- the environment's registry and the compiled validators -----------------------------------------

# What the environment's case type folders depend on: Settings.from_env() is asked again when one changes.
_ENV_KEYS = ("BRYGGA_CASE_TYPES", "BRYGGA_CONFIG", "BRYGGA_HOME")
_RECHECK_SECONDS = 1.0


def _env_reader() -> Callable[[], tuple[object, ...]]:
    # validate_case runs for every case and costs a few µs; os.environ.get costs about 0.6 µs a key, most of it
    # encoding the key. CPython's os.environ keeps its encoded items in `_data` (updated by every os.environ
    # write, monkeypatch.setenv included), which is read 20 times faster; anything else takes the plain way.
    data = getattr(os.environ, "_data", None)
    encode = getattr(os.environ, "encodekey", None)
    if isinstance(data, dict) and callable(encode):
        raw = tuple(encode(key) for key in _ENV_KEYS)
        return lambda: tuple(map(data.get, raw))
    return lambda: tuple(os.environ.get(key) for key in _ENV_KEYS)


_read_env = _env_reader()
_CACHE_SIZE = 8


@dataclass(frozen=True, slots=True)
class _Default:
    env: tuple[object, ...]
    dirs: tuple[Path, ...]
    checked: float
    registry: CaseTypeRegistry


_default: _Default | None = None
_lock = threading.RLock()


def _environment_dirs() -> tuple[Path, ...]:
    from brygga.settings import Settings

    settings = Settings.from_env()
    # Settings.case_types_dirs: the extra case type folders of BRYGGA_CASE_TYPES / BRYGGA_CONFIG.
    return tuple(Path(folder) for folder in getattr(settings, "case_types_dirs", ()) or ())


def default_case_types() -> CaseTypeRegistry:
    """The case types of the current environment: the bundled folder, then `Settings.case_types_dirs`.

    Raises `ConfigError` when a configured folder or a type file in it is invalid.
    """
    global _default
    env = _read_env()
    now = time.monotonic()
    state = _default
    if state is not None and state.env == env and now - state.checked < _RECHECK_SECONDS:
        return state.registry
    with _lock:
        state = _default
        dirs = _environment_dirs()
        if state is not None and state.dirs == dirs and CaseTypeRegistry.fingerprint(dirs) == state.registry.key:
            registry = state.registry
        else:
            registry = CaseTypeRegistry.load(dirs)
        _default = _Default(env, dirs, now, registry)
        return registry


@dataclass(frozen=True, slots=True)
class _Compiled:
    registry: CaseTypeRegistry
    schema: dict[str, Any]
    fast: jsonschema_rs.Validator


_compiled_cache: OrderedDict[tuple[Any, ...], _Compiled] = OrderedDict()


def _compiled(case_types: CaseTypeRegistry | None) -> _Compiled:
    """The composed schema and its jsonschema-rs validator for a registry, compiled once per registry key."""
    registry = default_case_types() if case_types is None else case_types
    compiled = _compiled_cache.get(registry.key)
    if compiled is not None:
        return compiled
    with _lock:
        compiled = _compiled_cache.get(registry.key)
        if compiled is None:
            schema = composed_schema(registry)
            try:
                fast = jsonschema_rs.Draft202012Validator(
                    schema,
                    formats=dict(FORMAT_CHECKERS),
                    validate_formats=True,
                    # The schema is self-contained: never fetch anything over the network while compiling it.
                    offline=True,
                )
            except (ValueError, jsonschema_rs.ReferencingError) as exc:
                raise ConfigError(
                    f"the case schema composed with the case types {', '.join(registry.names)} (folders "
                    f"{', '.join(str(folder) for folder in registry.dirs)}) does not compile: {exc}"
                ) from None
            compiled = _Compiled(registry, schema, fast)
            _compiled_cache[registry.key] = compiled
            while len(_compiled_cache) > _CACHE_SIZE:
                _compiled_cache.popitem(last=False)
        return compiled


def _fast_validator(case_types: CaseTypeRegistry | None = None) -> jsonschema_rs.Validator:
    return _compiled(case_types).fast


def validate_case(doc: Any, case_types: CaseTypeRegistry | None = None) -> list[CaseProblem]:
    """Return the problems of a canonical case; an empty list means it is valid.

    ``case_types``: the registry to validate against; None means the environment's (`default_case_types()`).
    """
    compiled = _compiled(case_types)
    problems = _problems(compiled.fast, doc)
    if not problems:  # a valid case: its caseType is one of the registered names, the schema's enum says so
        return problems
    case_type = doc.get("caseType") if isinstance(doc, dict) else None
    if isinstance(case_type, str) and case_type not in compiled.registry:
        problems = _unregistered(case_type, compiled.registry, problems)
    return problems


def _problems(validator: jsonschema_rs.Validator, doc: Any) -> list[CaseProblem]:
    try:
        if validator.is_valid(doc):
            return []
        # dict.fromkeys: problems whose paths were cut at a withheld name (safe_pointer) may coincide.
        found = (problem for error in validator.iter_errors(doc) for problem in _problems_from(error, doc))
        return list(dict.fromkeys(found))
    except ValueError as exc:
        # jsonschema-rs refuses data nested deeper than it recurses ("Recursion limit reached"), and non-JSON data
        # (a date object, an int dict key), whose message may quote it.
        if "recursion" in str(exc).lower():
            return [CaseProblem("", "json", "The document is nested too deeply to be checked.", {"cause": "depth"})]
        return [CaseProblem("", "json", "The document contains data that is not JSON (e.g. a non-text key).")]


def compile_case_schema(schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """A jsonschema-rs validator for another self-contained case schema (e.g. the composed schema of the last
    release, schemas/canonical/released/), with Brygga's formats, offline."""
    return jsonschema_rs.Draft202012Validator(schema, formats=dict(FORMAT_CHECKERS), validate_formats=True,
                                              offline=True)


def validate_against(doc: Any, validator: jsonschema_rs.Validator) -> list[CaseProblem]:
    """The problems of ``doc`` under a validator of `compile_case_schema`, built as `validate_case` builds them
    (a case type that is not registered there is an ``enum`` problem on /caseType, as the schema says)."""
    return _problems(validator, doc)


def _unregistered(case_type: str, registry: CaseTypeRegistry, problems: list[CaseProblem]) -> list[CaseProblem]:
    """One problem for a case type that is not registered, in place of the schema's enum and pattern problems."""
    registered = ", ".join(registry.names) or "(none)"
    if CASE_TYPE_NAME.fullmatch(case_type):
        # A name of the caseType pattern is a schema name, not personal data: it may be echoed.
        message = (f"Case type '{case_type}' is not registered; registered: {registered} "
                   f"(add schemas/canonical/types/{case_type}.v1.schema.json).")
        # details/<that name> is refused for the same reason; the one problem says it.
        same_cause: str | None = _child("/details", case_type)
    else:
        message = (f"The case type (withheld: it does not match the pattern ^{CASE_TYPE_NAME.pattern}$) is not "
                   f"registered; registered: {registered}.")
        same_cause = None
    rest = [p for p in problems
            if p.path != "/caseType" and not (p.path == same_cause and p.rule == "additionalProperties")]
    return [CaseProblem("/caseType", "caseType", message, {"registered": list(registry.names)}), *rest]


# --- messages -------------------------------------------------------------------------------------

_FORMAT_MESSAGES = {
    "personnummer": "Not a valid personnummer or samordningsnummer: expected 12 digits YYYYMMDDNNNC with "
    "a real date (day + 60 for samordningsnummer) and a correct Luhn check digit.",
    "organisationsnummer": "Not a valid organisationsnummer: expected 10 digits and a correct Luhn check "
    "digit.",
    "fastighetsbeteckning": "Not a valid fastighetsbeteckning: expected upper-case KOMMUN TRAKT BLOCK:ENHET, "
    "e.g. KUMLA STENEN 1:23.",
    "postnummer": "Not a valid Swedish postnummer: expected 5 digits without a space, the first not 0.",
    "kommunkod": "Not a valid kommunkod: expected 4 digits starting with a county (län) code.",
    "date-time": "Not an RFC 3339 date-time with a UTC offset, e.g. 2026-10-14T09:12:44+02:00.",
    "email": "Not a valid email address.",
    "uuid": "Not a UUID in the 8-4-4-4-12 hex form.",
}

# Property names come from the instance. They are echoed in paths only when they look like schema identifiers,
# so that a mapping bug that puts data into a key (e.g. a personnummer) cannot leak it through a problem.
SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}", re.ASCII)


def _pointer(parts: Sequence[str | int]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


_UNKNOWN = object()


def safe_pointer(parts: Sequence[str | int], document: Any = _UNKNOWN) -> tuple[str, bool]:
    """The JSON pointer of an instance path, cut before the first property name that does not match `SAFE_NAME` (a
    free-form map's key may be personal data); and whether it was cut.

    An int is an array index, except where ``document`` shows an object: jsonschema-rs gives a key of digits (a
    personnummer, say) as an int."""
    node = document
    for at, part in enumerate(parts):
        is_name = isinstance(part, str) or isinstance(node, dict)
        if is_name and not SAFE_NAME.fullmatch(str(part)):
            return _pointer(list(parts)[:at]), True
        if isinstance(node, dict):
            node = node.get(str(part), _UNKNOWN)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = _UNKNOWN
    return _pointer(parts), False


def _child(path: str, name: str) -> str:
    return path + "/" + name.replace("~", "~0").replace("/", "~1")


def _listing(values: list[Any]) -> str:
    return ", ".join(json.dumps(value, ensure_ascii=False) for value in values)


def _problems_from(error: jsonschema_rs.ValidationError, doc: Any) -> list[CaseProblem]:
    kind = error.kind
    rule = kind.name
    path, cut = safe_pointer(error.instance_path, doc)
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        # Under a withheld name, the missing property is named by the message's place only.
        return [CaseProblem(path if cut else _child(path, kind.property), rule, "Required property is missing.",
                            {"property": kind.property})]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        problems = []
        for name in kind.unexpected:
            if not cut and SAFE_NAME.fullmatch(name):
                problems.append(
                    CaseProblem(_child(path, name), rule, "Property is not allowed by the schema.")
                )
            else:
                problems.append(CaseProblem(path, rule, "An unexpected property is present (name withheld).",
                                            {"withheld": True}))
        return problems
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.PropertyNames):
        return [CaseProblem(path, rule, _property_name_message(kind.error.kind), _name_params(kind.error.kind))]
    rule, message = _rule_and_message(kind)
    return [CaseProblem(path, rule, message, _params(kind))]


def _name_params(inner: jsonschema_rs.ValidationErrorKind) -> dict[str, Any]:
    k = jsonschema_rs.ValidationErrorKind
    if isinstance(inner, k.Constant):
        return {"allowed": inner.expected_value}
    if isinstance(inner, k.Pattern):
        return {"pattern": inner.pattern}
    return {"inner": inner.name}


def _params(kind: jsonschema_rs.ValidationErrorKind) -> dict[str, Any]:
    """The schema's side of a broken rule (never the instance's: ``kind.value`` is not read)."""
    k = jsonschema_rs.ValidationErrorKind
    if isinstance(kind, k.Format):
        return {"format": kind.format}
    if isinstance(kind, k.Enum):
        return {"options": list(kind.options)}
    if isinstance(kind, k.Constant):
        return {"expected": kind.expected_value}
    if isinstance(kind, k.Type):
        return {"types": list(kind.types)}
    if isinstance(kind, k.Pattern):
        return {"pattern": kind.pattern}
    if isinstance(kind, k.MultipleOf):
        return {"limit": kind.multiple_of}
    limit = getattr(kind, "limit", None)
    return {} if limit is None else {"limit": limit}


def _property_name_message(inner: jsonschema_rs.ValidationErrorKind) -> str:
    # The offending name comes from the instance and is never quoted; the rule it broke comes from the schema.
    k = jsonschema_rs.ValidationErrorKind
    if isinstance(inner, k.Constant):
        return (f"Only the property {_listing([inner.expected_value])} is allowed here (details hold the case's "
                "own type only).")
    if isinstance(inner, k.Pattern):
        return f"A property name does not match the pattern {inner.pattern}."
    return f"A property name breaks the schema rule '{inner.name}'."


def _rule_and_message(kind: jsonschema_rs.ValidationErrorKind) -> tuple[str, str]:
    k = jsonschema_rs.ValidationErrorKind
    if isinstance(kind, k.Format):
        message = _FORMAT_MESSAGES.get(kind.format, f"Value is not in the '{kind.format}' format.")
        return f"format:{kind.format}", message
    if isinstance(kind, k.FalseSchema):
        return "notAllowed", "Property is not allowed here (e.g. a person field on an organisation party)."
    # Everything below quotes the schema (allowed values, limits), never the instance.
    if isinstance(kind, k.Enum):
        return kind.name, f"Value is not one of the allowed values: {_listing(kind.options)}."
    if isinstance(kind, k.Constant):
        return kind.name, f"Value must be {_listing([kind.expected_value])}."
    if isinstance(kind, k.Type):
        return kind.name, f"Value has the wrong type; expected {' or '.join(kind.types)}."
    if isinstance(kind, k.Pattern):
        return kind.name, f"Value does not match the pattern {kind.pattern}."
    if isinstance(kind, k.MinLength | k.MaxLength):
        bound = "at least" if isinstance(kind, k.MinLength) else "at most"
        return kind.name, f"Text must be {bound} {kind.limit} characters long."
    if isinstance(kind, k.MinItems | k.MaxItems):
        bound = "at least" if isinstance(kind, k.MinItems) else "at most"
        return kind.name, f"List must have {bound} {kind.limit} items."
    if isinstance(kind, k.MinProperties | k.MaxProperties):
        bound = "at least" if isinstance(kind, k.MinProperties) else "at most"
        return kind.name, f"Object must have {bound} {kind.limit} properties."
    if isinstance(kind, k.Minimum | k.ExclusiveMinimum):
        return kind.name, f"Number is below the minimum of {kind.limit}."
    if isinstance(kind, k.Maximum | k.ExclusiveMaximum):
        return kind.name, f"Number is above the maximum of {kind.limit}."
    if isinstance(kind, k.UniqueItems):
        return kind.name, "List items must be unique."
    return kind.name, f"Value breaks the schema rule '{kind.name}'."


# --- the pure-Python second opinion ---------------------------------------------------------------

_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)


def is_rfc3339(value: object) -> bool:
    # jsonschema only checks date-time when rfc3339-validator is installed, which Brygga does not depend on.
    if not isinstance(value, str):
        return True
    if _RFC3339.fullmatch(value) is None:
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def reference_validator(case_types: CaseTypeRegistry | None = None) -> jsonschema.Draft202012Validator:
    """The composed case schema on pure-Python `jsonschema` with Brygga's formats. Slow; for tests and vendors.

    ``case_types``: as for `validate_case`; None means the environment's registry.
    """
    import jsonschema

    checker = jsonschema.FormatChecker()
    for name, check in FORMAT_CHECKERS.items():
        # Formats only constrain strings; other types are the `type` keyword's business.
        checker.checks(name)(lambda value, check=check: not isinstance(value, str) or check(value))
    checker.checks("date-time")(is_rfc3339)
    return jsonschema.Draft202012Validator(_compiled(case_types).schema, format_checker=checker)
