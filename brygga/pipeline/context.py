"""Everything a pipeline step needs, built once per task: settings, ledger, route, stores, adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from brygga.canonical.serialize import loads_case
from brygga.connections import ConnectionResolver, EnvConnectionResolver
from brygga.errors import ConfigError
from brygga.ledger import Ledger
from brygga.mapping import CompiledMapping, compile_mapping
from brygga.plugins import adapter_class
from brygga.routes import AdapterRef, Route, load_routes
from brygga.settings import Settings
from brygga.storage import ContentStore


@dataclass
class PipelineContext:
    settings: Settings
    ledger: Ledger
    route: Route
    connections: ConnectionResolver = field(default_factory=EnvConnectionResolver)
    _mappings: dict[Path, CompiledMapping] = field(default_factory=dict, repr=False)
    _adapters: dict[int, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def for_route(cls, route_id: str, *, settings: Settings | None = None,
                  connections: ConnectionResolver | None = None) -> PipelineContext:
        settings = settings or Settings.from_env()
        settings.ensure_dirs()
        routes = {r.id: r for r in load_routes(settings.routes_file, settings.mappings_dir)}
        if route_id not in routes:
            raise ConfigError(f"{settings.routes_file}: no route with id {route_id!r}; "
                              f"known: {', '.join(sorted(routes))}")
        return cls(settings=settings, ledger=Ledger(settings.database_url), route=routes[route_id],
                   connections=connections or EnvConnectionResolver())

    @cached_property
    def landing(self) -> ContentStore:
        return ContentStore(self.settings.landing)

    @cached_property
    def content(self) -> ContentStore:
        return ContentStore(self.settings.content)

    def case(self, submission_id: str) -> dict[str, Any]:
        """The canonical case translate stored for a submission."""
        stored = self.ledger.get(submission_id).canonical_json
        if stored is None:
            raise LookupError(f"submission {submission_id} has no canonical case yet")
        return loads_case(stored)

    def mapping(self, path: Path) -> CompiledMapping:
        """Mappings are compiled once per context and run many times."""
        if path not in self._mappings:
            # Problems name the mapping as an integrator sees it: relative to the mappings folder's parent.
            root = self.settings.mappings_dir.resolve().parent
            shown = path.relative_to(root) if path.resolve().is_relative_to(root) else path
            self._mappings[path] = compile_mapping(path, file=str(shown))
        return self._mappings[path]

    def adapter(self, ref: AdapterRef) -> Any:
        key = id(ref)
        if key not in self._adapters:
            connection = self.connections.get(ref.connection) if ref.connection else None
            self._adapters[key] = adapter_class(ref.adapter)(dict(ref.config), connection)
        return self._adapters[key]
