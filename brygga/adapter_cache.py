"""Adapters built once per task from their route config and connection, and reused for every item."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from brygga.connections import ConnectionResolver
from brygga.plugins import adapter_class
from brygga.routes import AdapterRef


@dataclass
class AdapterCache:
    connections: ConnectionResolver
    _built: dict[int, Any] = field(default_factory=dict, repr=False)

    def get(self, ref: AdapterRef) -> Any:
        key = id(ref)
        if key not in self._built:
            connection = self.connections.get(ref.connection) if ref.connection else None
            self._built[key] = adapter_class(ref.adapter)(dict(ref.config), connection)
        return self._built[key]
