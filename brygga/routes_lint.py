"""`brygga lint` for the routes file: what the schema cannot see, found before anything runs.

Every inbound mapping declares the canonical output and the e-services it accepts, no two of a route's mappings
accept the same e-service, every case type the route's mappings produce has a target (unless the route has none:
archive and notify only), every case type named anywhere is registered, and no two routes share an inbox folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from brygga.alerts import parse_alerts
from brygga.canonical import default_case_types
from brygga.canonical.types import CaseTypeRegistry
from brygga.canonical.validation import load_case_schema
from brygga.errors import ConfigError
from brygga.mapping import MappingConfigError, compile_mapping
from brygga.mapping.dispatch import overlapping
from brygga.mapping.spec import load_spec
from brygga.routes import INBOUND_OUTPUT_SCHEMA, Route, load_routes, read_routes_document
from brygga.settings import Settings


def produced_case_type(path: Path) -> str | None:
    """The caseType an inbound mapping writes, when it is a constant (it always is in practice)."""
    node: Any = load_spec(path).doc.get("output", {}).get("caseType")
    return node.get("const") if isinstance(node, dict) and isinstance(node.get("const"), str) else None


def _schema_has(schema: dict[str, Any], dotted: str) -> bool:
    """Whether a case validated by ``schema`` can have a value at the dotted path, through properties and local
    ``$ref``s. Not into lists: ``when`` reads objects only (TargetSpec.takes)."""

    def resolved(node: Any) -> Any:
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            target: Any = schema
            for part in node["$ref"][2:].split("/"):
                target = target.get(part) if isinstance(target, dict) else None
            node = target
        return node

    node: Any = resolved(schema)
    for key in dotted.split("."):
        node = resolved(node.get("properties", {}).get(key)) if isinstance(node, dict) else None
        if node is None:
            return False
    return True


def _case_has(case_type: str, dotted: str, registry: CaseTypeRegistry) -> bool:
    """Whether a case of ``case_type`` can have a value at the dotted path: the core, or details.<case_type>."""
    first, _, rest = dotted.partition(".")
    if first != "details":
        return _schema_has(load_case_schema(), dotted)
    own, _, inner = rest.partition(".")
    return own == case_type and (not inner or _schema_has(registry.schema(case_type), inner))


def _when_problems(route: Route) -> list[str]:
    """A ``when`` naming a path no case of the target's types can have would silently keep every case away."""
    registry = default_case_types()
    problems = []
    for target in route.targets:
        if target.when is None:
            continue
        for case_type in target.case_types:
            if case_type in registry.names and not _case_has(case_type, target.when, registry):
                problems.append(f"target {target.id}: when {target.when}: a {case_type} case has no such path "
                                f"(rule: when names a field of the case type's schema)")
    return problems


def _route_problems(settings: Settings, route: Route, registered: set[str]) -> list[str]:
    problems = []
    try:
        mappings = [compile_mapping(path, file=settings.shown(path)) for path in route.mappings]
    except MappingConfigError as exc:
        return [str(exc)]
    for mapping in mappings:
        if mapping.output_schema != INBOUND_OUTPUT_SCHEMA:
            problems.append(f"inbound mapping {mapping.file} must declare output_schema: {INBOUND_OUTPUT_SCHEMA}")
    if len(mappings) > 1:
        problems += [f"inbound mappings overlap: {overlap}" for overlap in overlapping(mappings)]
        problems += [f"inbound mapping {m.file} declares no accepts: with several mappings each must say which "
                     "e-services it is for" for m in mappings if m.accepts_any]
    produced = {settings.shown(path): produced_case_type(path) for path in route.mappings}
    targeted = {case_type for target in route.targets for case_type in target.case_types}
    for path, case_type in produced.items():
        if case_type is not None and case_type not in registered:
            problems.append(f"inbound mapping {path} writes caseType {case_type}, which is not registered "
                            f"(registered: {', '.join(sorted(registered))})")
        elif case_type is not None and route.has_case_system(case_type) and case_type not in targeted:
            problems.append(f"inbound mapping {path} writes caseType {case_type}, which no target takes "
                            f"(targets take: {', '.join(sorted(targeted))}); give it a target, or list it under "
                            "without_case_system")
    texts_for = set(route.notify.by_case_type) if route.notify else set()
    for case_type in sorted(texts_for - set(produced.values()) - set(route.without_case_system)):
        problems.append(f"notify/case_types/{case_type}: none of this route's mappings writes caseType {case_type}")
    for case_type in sorted((targeted | set(route.without_case_system)) - registered):
        problems.append(f"caseType {case_type} is routed but not registered")
    return problems + _when_problems(route)


# Sources two routes must not share, and what names the shared thing: each item goes to whichever route reads it first.
SHARED_SOURCES = {"file-inbox": ("inbox", "path"), "bus": ("bus queue", "queue")}


def _shared_inboxes(routes: list[Route]) -> list[str]:
    """Two routes on one inbox folder (or one bus queue) race for each item: whichever reads it first takes it."""
    owners: dict[tuple[str, str], str] = {}
    problems = []
    for route in routes:
        if route.source.adapter not in SHARED_SOURCES:
            continue
        what, key = SHARED_SOURCES[route.source.adapter]
        name = str(route.source.config.get(key, ""))
        place = (what, os.path.normpath(name) if what == "inbox" else name)
        if place in owners:
            problems.append(f"routes {owners[place]} and {route.id} take from the same {what} {place[1]}: each "
                            "item goes to whichever runs first; give one route both mappings instead")
        owners.setdefault(place, route.id)
    return problems


def lint_routes(settings: Settings) -> list[str]:
    try:
        routes = load_routes(settings.routes_file, settings.mappings_dir)
        registered = set(default_case_types().names)
        parse_alerts(read_routes_document(settings.routes_file), file=settings.routes_file)
    except ConfigError as exc:
        return [str(exc)]
    problems = [f"route {route.id}: {problem}"
                for route in routes for problem in _route_problems(settings, route, registered)]
    return [f"{settings.routes_file}: {problem}" for problem in problems + _shared_inboxes(routes)]
