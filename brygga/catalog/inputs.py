"""Reading what a vendor validates: canonical JSON, or an e-service's XML translated through the mapping that accepts
it (the same dispatch by e-service as a route run and `brygga translate`).

Nothing here quotes the document: errors name the file and why (a position in the JSON, the XML parser's reason),
and mapping problems name the output field, the source path in the mapping and the rule.
"""

from __future__ import annotations

import codecs
import threading
from functools import partial
from pathlib import Path
from typing import Any

from brygga.errors import BryggaError, ConfigError
from brygga.http_body import JsonProblem, read_json
from brygga.mapping import CompiledMapping, MappingConfigError, compile_mapping, deep_merge
from brygga.mapping.dispatch import EService, choose_mapping
from brygga.routes import Route, load_routes, routes_accepting
from brygga.settings import Settings

__all__ = ["InputError", "UnknownRoute", "check_route", "inbound_mapping", "looks_like_xml", "parse_json", "translate"]

# The byte order marks a text file may start with; UTF-32's before UTF-16's, whose little-endian mark starts it.
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


class InputError(BryggaError, ValueError):
    """The input cannot be read as a document at all. The message names the input and why, never its content."""


class UnknownRoute(ConfigError, LookupError):
    """No route of that id in the routes file; the message lists the known ones."""


def _encoding(head: bytes) -> tuple[str, int]:
    """The encoding a byte order mark at the start says, and the mark's length; UTF-8 without one."""
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, len(bom)
    return "utf-8", 0


def looks_like_xml(head: bytes) -> bool:
    """Whether a document's first bytes start an XML document: ``<`` after a byte order mark (UTF-8, UTF-16 or
    UTF-32) and white space."""
    encoding, skip = _encoding(head)
    text = head[skip:].decode(encoding, errors="ignore")  # the head may end inside a character
    return text.lstrip(" \t\r\n")[:1] == "<"


def parse_json(data: bytes, source_name: str) -> Any:
    """Strict JSON text (`brygga.http_body.read_json`, any value) in UTF-8; a UTF-8 byte order mark is allowed, as
    editors write one."""
    encoding, skip = _encoding(data[:4])
    if encoding != "utf-8":
        raise InputError(f"{source_name}: {encoding.upper()} text (by its byte order mark): JSON is read as UTF-8")
    try:
        return read_json(data[skip:], any_value=True)
    except JsonProblem as exc:
        raise InputError(f"{source_name}: {exc.reason}") from None


# The routes and their compiled mappings, for as long as none of their files changes: loading the routes checks
# every adapter's entry point, which costs about a second, and a CLI run or the validation API validates many inputs.
_LOADED: dict[tuple[Any, ...], tuple[list[Route], dict[Path, CompiledMapping | None]]] = {}
_LOCK = threading.Lock()


def _fingerprint(settings: Settings) -> tuple[Any, ...]:
    """The routes file and every mapping file: their paths, modification times and sizes."""
    files = [settings.routes_file, *sorted(settings.mappings_dir.rglob("*.y*ml"))]
    stats = [(str(path), path.stat()) for path in files if path.is_file()]
    return (str(settings.mappings_dir), *((path, stat.st_mtime_ns, stat.st_size) for path, stat in stats))


def _loaded(settings: Settings) -> tuple[list[Route], dict[Path, CompiledMapping | None]]:
    key = _fingerprint(settings)
    with _LOCK:
        if key not in _LOADED:
            routes = load_routes(settings.routes_file, settings.mappings_dir)  # ConfigError: not kept
            _LOADED.clear()
            _LOADED[key] = (routes, {})
        return _LOADED[key]


def _route(routes: list[Route], route: str, settings: Settings) -> Route:
    for candidate in routes:
        if candidate.id == route:
            return candidate
    raise UnknownRoute(f"{settings.routes_file}: no route {route}; known: {', '.join(r.id for r in routes)}")


def check_route(route: str) -> None:
    """Raise `UnknownRoute` when the routes file has no route ``route`` (and `ConfigError` when it cannot be read)."""
    settings = Settings.from_env()
    _route(_loaded(settings)[0], route, settings)


def inbound_mapping(source: Path | bytes, *, route: str | None = None, context: dict[str, Any] | None = None,
                    source_name: str = "<input>") -> tuple[CompiledMapping, dict[str, Any]]:
    """The inbound mapping that accepts ``source`` among ``route``'s mappings (or every route's), chosen as a route
    run chooses it (brygga.mapping.dispatch), and the context to run it with: the route's, under ``context``.

    Raises `UnknownRoute` for an unknown route, `ConfigError` for a broken routes file or a broken mapping among
    the candidates, and ``InvalidSource`` (``NotAccepted``) when no mapping, or more than one, accepts the
    document."""
    settings = Settings.from_env()
    routes, compiled = _loaded(settings)
    context = dict(context or {})
    if route is not None:
        context = deep_merge(_route(routes, route, settings).mapping_context, context)

    def mapping_at(path: Path, *, strict: bool) -> CompiledMapping | None:
        if compiled.get(path) is None:
            try:
                compiled[path] = compile_mapping(path, file=settings.shown(path))
            except MappingConfigError:
                if strict:  # one of the mappings this input is chosen among: its error is the answer
                    raise
                compiled[path] = None  # another route's broken mapping only narrows the hint
        return compiled[path]

    def elsewhere(eservice: EService) -> list[str]:
        return routes_accepting(routes, eservice, partial(mapping_at, strict=False), besides=route)

    candidates = dict.fromkeys(p for r in routes if route in (None, r.id) for p in r.mappings)
    chosen_from = [mapping_at(p, strict=True) for p in candidates]
    mapping, _ = choose_mapping([m for m in chosen_from if m is not None], source, route=route,
                                elsewhere=elsewhere if route else None, source_name=source_name)
    return mapping, context


def translate(source: Path | bytes, *, route: str | None = None, source_name: str = "<input>") -> dict[str, Any]:
    """The canonical case the accepting mapping makes of an e-service's XML, *without* the mapping's own check of
    its output (``output_schema``): the caller validates it against the schema it was asked for, rule by rule.

    Attachments are hashed as they stream by and dropped (no content store): the case holds their sha256 and size.
    Raises what `inbound_mapping` raises, ``InvalidSource`` for unreadable XML, ``MappingFailed`` with every
    mapping problem, and ``OSError`` for a file that cannot be read."""
    mapping, context = inbound_mapping(source, route=route, source_name=source_name)
    return mapping.run(source, context=context or None, source_name=source_name, check_output=False)
