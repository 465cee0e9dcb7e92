"""Everything a pipeline step needs, built once per task: settings, ledger, route, stores, adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from brygga.adapter_cache import AdapterCache
from brygga.canonical.serialize import loads_case
from brygga.connections import ConnectionResolver, EnvConnectionResolver
from brygga.errors import ConfigError
from brygga.ledger import Ledger, Submission
from brygga.mapping import CompiledMapping, compile_mapping
from brygga.mapping.dispatch import EService, choose_mapping
from brygga.observability import configure_observability
from brygga.routes import AdapterRef, Route, load_routes, routes_accepting
from brygga.settings import Settings
from brygga.storage import ContentStore


@dataclass
class PipelineContext:
    settings: Settings
    ledger: Ledger
    route: Route
    connections: ConnectionResolver = field(default_factory=EnvConnectionResolver)
    _mappings: dict[Path, CompiledMapping] = field(default_factory=dict, repr=False)

    @classmethod
    def for_route(cls, route_id: str, *, settings: Settings | None = None,
                  connections: ConnectionResolver | None = None, route: Route | None = None) -> PipelineContext:
        """``route``: the route already parsed (an Airflow task's DAG file did), so the routes file is not read
        and checked a second time in the task's process."""
        configure_observability()  # every route task starts here; idempotent
        settings = settings or Settings.from_env()
        settings.ensure_dirs()
        if route is None:
            routes = {r.id: r for r in load_routes(settings.routes_file, settings.mappings_dir)}
            if route_id not in routes:
                raise ConfigError(f"{settings.routes_file}: no route with id {route_id!r}; "
                                  f"known: {', '.join(sorted(routes))}")
            route = routes[route_id]
        return cls(settings=settings, ledger=Ledger(settings.database_url), route=route,
                   connections=connections or EnvConnectionResolver())

    @cached_property
    def landing(self) -> ContentStore:
        return ContentStore(self.settings.landing)

    @cached_property
    def content(self) -> ContentStore:
        return ContentStore(self.settings.content)

    def case(self, submission_id: str) -> dict[str, Any]:
        """The canonical case translate stored for a submission (read from the ledger)."""
        return self.case_of(self.ledger.get(submission_id))

    @staticmethod
    def case_of(submission: Submission) -> dict[str, Any]:
        """The canonical case of a submission already read (``Ledger.load``): parsed, without a query."""
        if submission.canonical_json is None:
            raise LookupError(f"submission {submission.id} has no canonical case yet")
        return loads_case(submission.canonical_json)

    def mapping(self, path: Path) -> CompiledMapping:
        """Mappings are compiled once per context and run many times."""
        if path not in self._mappings:
            self._mappings[path] = compile_mapping(path, file=self.settings.shown(path))
        return self._mappings[path]

    def inbound_mappings(self) -> list[CompiledMapping]:
        return [self.mapping(path) for path in self.route.mappings]

    def choose_mapping(self, source: Path, source_name: str) -> CompiledMapping:
        """Dispatch by e-service: the one inbound mapping of this route that accepts the source, or NotAccepted
        (an InvalidSource) saying which e-service it is and which other routes would take it."""
        mapping, _ = choose_mapping(self.inbound_mappings(), source, route=self.route.id,
                                    elsewhere=self.routes_accepting, source_name=source_name)
        return mapping

    def routes_accepting(self, eservice: EService) -> list[str]:
        """The other routes with a mapping that accepts this e-service (only asked when this route has none)."""
        try:
            routes = load_routes(self.settings.routes_file, self.settings.mappings_dir)
        except ConfigError:
            return []
        return routes_accepting(routes, eservice, self._mapping_or_none, besides=self.route.id)

    def _mapping_or_none(self, path: Path) -> CompiledMapping | None:
        try:
            return self.mapping(path)
        except ConfigError:  # another route's broken mapping only narrows the hint
            return None

    @cached_property
    def _adapters(self) -> AdapterCache:
        return AdapterCache(self.connections)

    def adapter(self, ref: AdapterRef) -> Any:
        return self._adapters.get(ref)
