"""The ``webhook`` source: submissions an e-service platform pushes to Brygga's webhook intake.

The intake app (``brygga_adapters.webhook.app``) lands each pushed submission itself, before it answers, so a
run's intake has nothing to poll: the run's batch is the route's unfinished backlog in the ledger
(``ledger.unfinished``), pushed submissions among them. The route's connection holds the shared HMAC secret as
its password.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from brygga.connections import Connection
from brygga.errors import ConfigError
from brygga.plugins import IncomingItem, configure

MiB = 1024 * 1024
# Shorter secrets are guessable offline from one signed request; `openssl rand -hex 32` gives 64 characters.
MIN_SECRET_CHARS = 32


class WebhookSource:
    connection_fields: ClassVar[dict[str, str]] = {
        "password": "the shared HMAC secret the platform signs with, at least 32 characters",
        "host": "the platform's host name, for the record (nothing is sent there)",
    }
    config_spec: ClassVar[dict[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "max_body_bytes": {
                "type": "integer", "minimum": 1, "maximum": 500 * MiB, "default": 10 * MiB,
                "description": "The largest body taken in (413 over it); the route's limits.max_file_bytes caps "
                               "it too. Read as a stream, whatever Content-Length says.",
            },
            "window_seconds": {
                "type": "integer", "minimum": 1, "maximum": 3600, "default": 300,
                "description": "How far X-Brygga-Timestamp may be from the server's clock, either way (replay "
                               "window).",
            },
        },
    }

    def __init__(self, config: dict[str, Any], connection: Connection | None = None) -> None:
        config = configure("webhook", self.config_spec, config)
        self.max_body_bytes: int = config["max_body_bytes"]
        self.window_seconds: int = config["window_seconds"]
        if connection is None:
            raise ConfigError("the webhook source needs a connection: its password is the HMAC secret the "
                              "platform signs with")
        if not connection.password or len(connection.password) < MIN_SECRET_CHARS:
            raise ConfigError(f"connection {connection.conn_id!r}: the password (the webhook's HMAC secret) must be "
                              f"at least {MIN_SECRET_CHARS} characters (e.g. `openssl rand -hex 32`)")
        self._secret = connection.password

    @property
    def secret(self) -> str:
        return self._secret

    def poll(self) -> Iterator[IncomingItem]:
        """Nothing to fetch: the intake app has already landed what was pushed."""
        return iter(())

    def acknowledge(self, item: IncomingItem) -> None:
        """Nothing to remove: a pushed submission exists only in the landing store."""
