"""The routes file's ``status:`` section: one status feed per case-system connection (docs/status.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from brygga.errors import ConfigError
from brygga.plugins import adapter_class
from brygga.retry import parse_duration
from brygga.routes import Route, TargetSpec, parse_routes, read_routes_document

DEFAULTS: dict[str, Any] = {"schedule": "*/5 * * * *", "overlap": "10m", "first_poll": "1d",
                            "decision_documents": True, "max_document_bytes": 20 * 1024 * 1024}


@dataclass(frozen=True)
class StatusFeedSpec:
    connection: str
    vocabulary: Path
    schedule: str | None
    overlap: timedelta
    first_poll: timedelta
    decision_documents: bool
    max_document_bytes: int
    # Every route target that registers cases over this connection: a change is matched to the submission that
    # one of them created.
    targets: tuple[tuple[Route, TargetSpec], ...]

    @property
    def feed(self) -> TargetSpec:
        """The target whose adapter and config read the feed: they all use one adapter (checked at load)."""
        return self.targets[0][1]

    @property
    def watermark(self) -> str:
        return f"status:{self.connection}"


def _feed(file: Path, mappings_dir: Path, connection: str, raw: dict[str, Any],
          routes: list[Route]) -> StatusFeedSpec:
    where = f"{file}: /status/{connection}"
    targets = tuple((route, target) for route in routes for target in route.targets if target.connection == connection)
    if not targets:
        raise ConfigError(f"{where}: no route target uses connection {connection!r}; a status feed reads the cases "
                          "a target registered")
    adapters = sorted({target.adapter for _, target in targets})
    if len(adapters) > 1:
        raise ConfigError(f"{where}: the targets on this connection use different adapters ({', '.join(adapters)}); "
                          "one connection is one case system")
    if not callable(getattr(adapter_class(adapters[0]), "changes", None)):
        raise ConfigError(f"{where}: adapter {adapters[0]!r} cannot report changes (it has no StatusFeed)")
    vocabulary = (mappings_dir / raw["vocabulary"]).resolve()
    if not vocabulary.is_relative_to(mappings_dir.resolve()) or not vocabulary.is_file():
        raise ConfigError(f"{where}/vocabulary: {raw['vocabulary']!r} is not a file under {mappings_dir}")
    from brygga.status.vocabulary import load_vocabulary

    load_vocabulary(vocabulary)  # checked before anything runs
    given = {**DEFAULTS, **raw}
    return StatusFeedSpec(connection=connection, vocabulary=vocabulary, schedule=given["schedule"],
                          overlap=parse_duration(given["overlap"]), first_poll=parse_duration(given["first_poll"]),
                          decision_documents=given["decision_documents"],
                          max_document_bytes=given["max_document_bytes"], targets=targets)


def parse_status_feeds(document: Any, *, file: Path, mappings_dir: Path,
                       routes: list[Route] | None = None) -> list[StatusFeedSpec]:
    routes = routes if routes is not None else parse_routes(document, file=file, mappings_dir=mappings_dir)
    section = document.get("status") or {}
    return [_feed(file, mappings_dir, connection, raw, routes) for connection, raw in section.items()]


def load_status_feeds(routes_file: Path, mappings_dir: Path) -> list[StatusFeedSpec]:
    return parse_status_feeds(read_routes_document(routes_file), file=routes_file, mappings_dir=mappings_dir)
