"""Reading what a vendor validates: canonical JSON, or an e-service's XML translated through the mapping that accepts
it (the same dispatch by e-service as a route run and `brygga translate`).

Nothing here quotes the document: errors name the file and why (a position in the JSON, the XML parser's reason),
and mapping problems name the output field, the source path in the mapping and the rule.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from functools import partial
from pathlib import Path
from typing import Any

from brygga.errors import BryggaError, ConfigError
from brygga.mapping import CompiledMapping, MappingConfigError, compile_mapping
from brygga.mapping.dispatch import EService, choose_mapping
from brygga.routes import Route, load_routes, routes_accepting
from brygga.settings import Settings

__all__ = ["InputError", "deep_merge", "inbound_mapping", "looks_like_xml", "parse_json", "translate"]

_BOM = b"\xef\xbb\xbf"


class InputError(BryggaError, ValueError):
    """The input cannot be read as a document at all. The message names the input and why, never its content."""


def looks_like_xml(head: bytes) -> bool:
    """Whether a document's first bytes start an XML document (``<`` after a BOM and white space)."""
    return head.removeprefix(_BOM).lstrip(b" \t\r\n")[:1] == b"<"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(data: bytes, source_name: str) -> Any:
    """JSON text (UTF-8, a BOM allowed) as Python data. ``NaN`` and ``Infinity`` are refused: they are not JSON."""
    try:
        return json.loads(data.removeprefix(_BOM).decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise InputError(f"{source_name}: not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise InputError(f"{source_name}: not readable JSON: nested too deeply") from None
    except ValueError as exc:
        # json's message holds a position, never the document's content; ours names the constant.
        raise InputError(f"{source_name}: not valid JSON: {exc}") from None


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``over`` on top, objects merged key by key (a route's mapping context under --context)."""
    merged = dict(base)
    for key, value in over.items():
        merged[key] = deep_merge(merged[key], value) if isinstance(value, dict) and isinstance(
            merged.get(key), dict) else value
    return merged


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


def inbound_mapping(source: Path | bytes, *, route: str | None = None, context: dict[str, Any] | None = None,
                    source_name: str = "<input>") -> tuple[CompiledMapping, dict[str, Any]]:
    """The inbound mapping that accepts ``source`` among ``route``'s mappings (or every route's), chosen as a route
    run chooses it (brygga.mapping.dispatch), and the context to run it with: the route's, under ``context``.

    Raises `ConfigError` for an unknown route or a broken mapping among the candidates, and ``InvalidSource``
    (``NotAccepted``) when no mapping, or more than one, accepts the document."""
    settings = Settings.from_env()
    routes, compiled = _loaded(settings)
    context = dict(context or {})
    if route is not None:
        chosen = [r for r in routes if r.id == route]
        if not chosen:
            raise ConfigError(f"{settings.routes_file}: no route {route}; known: {', '.join(r.id for r in routes)}")
        context = deep_merge(chosen[0].mapping_context, context)

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
    unchecked = dataclasses.replace(mapping, _validate=None, _tracer=None)
    return unchecked.run(source, context=context or None, source_name=source_name)
