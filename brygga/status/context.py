"""Everything one status feed's tasks need, built once per task: settings, ledger, the feed, its routes, adapters."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from brygga.adapter_cache import AdapterCache
from brygga.connections import ConnectionResolver, EnvConnectionResolver
from brygga.errors import ConfigError
from brygga.ledger import Ledger
from brygga.routes import AdapterRef, Route
from brygga.settings import Settings
from brygga.status.changes import StatusFeed
from brygga.status.config import StatusFeedSpec, load_status_feeds
from brygga.status.vocabulary import Vocabulary, load_vocabulary


@dataclass
class StatusContext:
    settings: Settings
    ledger: Ledger
    feed: StatusFeedSpec
    connections: ConnectionResolver = field(default_factory=EnvConnectionResolver)

    @classmethod
    def for_connection(cls, connection: str, *, settings: Settings | None = None,
                       connections: ConnectionResolver | None = None) -> StatusContext:
        settings = settings or Settings.from_env()
        settings.ensure_dirs()
        feeds = {f.connection: f for f in load_status_feeds(settings.routes_file, settings.mappings_dir)}
        if connection not in feeds:
            raise ConfigError(f"{settings.routes_file}: no status feed for connection {connection!r} under status:; "
                              f"known: {', '.join(sorted(feeds)) or 'none'}")
        return cls(settings=settings, ledger=Ledger(settings.database_url), feed=feeds[connection],
                   connections=connections or EnvConnectionResolver())

    @cached_property
    def vocabulary(self) -> Vocabulary:
        return load_vocabulary(self.feed.vocabulary, shown=self.settings.shown(self.feed.vocabulary))

    @cached_property
    def routes(self) -> dict[str, Route]:
        return {route.id: route for route, _ in self.feed.targets}

    @property
    def source(self) -> StatusFeed:
        return self.adapter(self.feed.feed)

    @cached_property
    def _adapters(self) -> AdapterCache:
        return AdapterCache(self.connections)

    def adapter(self, ref: AdapterRef) -> Any:
        return self._adapters.get(ref)
