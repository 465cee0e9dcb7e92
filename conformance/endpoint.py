"""The vendor's endpoint as given on the command line: its URL, the profile's options, and a Connection for
Brygga's adapters. The password never passes through argv: it comes from BRYGGA_CONFORMANCE_PASSWORD."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from brygga.connections import Connection, InvalidConnection

LOGIN_ENV = "BRYGGA_CONFORMANCE_LOGIN"
PASSWORD_ENV = "BRYGGA_CONFORMANCE_PASSWORD"
# --option keys that are the connection's extras (docs/connections.md), for every profile.
CONNECTION_OPTIONS: Mapping[str, str] = {
    "auth": "basic (default), bearer, api_key or oauth2 (client credentials); the secret: " + PASSWORD_ENV,
    "token_url": "with auth=oauth2: the token endpoint, absolute or a path on the endpoint's host",
    "scope": "with auth=oauth2: the scope to ask for",
    "api_key_header": "with auth=api_key: the header that carries the key (default X-API-Key)",
    "read_timeout": "seconds to wait for each answer once connected (default 30); an endpoint that accepts the "
                    "connection but does not answer fails its checks after this (exit 1, not 3)",
    "connect_timeout": "seconds to connect (default 5); nothing connecting in time is exit 3, nothing checked",
}
TIMEOUT_OPTIONS = ("read_timeout", "connect_timeout")


class EndpointError(ValueError):
    """The --endpoint URL cannot be used: names the rule, never the URL's credentials."""


@dataclass(frozen=True)
class Endpoint:
    url: str  # as given by --endpoint (http or https); never holds a password
    options: Mapping[str, str] = field(default_factory=dict)  # --option key=value, profile-specific
    run_id: str = ""  # set by the runner: every connection id of a run carries it (see connection)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EndpointError("--endpoint must be an http or https URL with a host, e.g. https://byggr-test.example/"
                                "ArendeExportWS")
        if parts.username or parts.password:
            raise EndpointError(f"--endpoint must not carry credentials; set {LOGIN_ENV} and {PASSWORD_ENV} instead")
        if parts.fragment:
            raise EndpointError("--endpoint must not carry a fragment (#...)")

    @property
    def is_http(self) -> bool:
        return urlsplit(self.url).scheme == "http"

    def option(self, name: str, default: str) -> str:
        return self.options.get(name, default)

    def connection(self, conn_id: str = "conformance", **extra: str) -> Connection:
        """The endpoint as a Brygga connection: the URL (a query string becomes extras, as in BRYGGA_CONN_*), the
        credentials from the environment, the connection options given, then ``extra``. A plain http URL gets
        ``allow_http=true``: a vendor's test endpoint often is http (the runner notes it in the report).

        Its id is ``conn_id`` and the run id: the adapters cache a client (a SOAP client with its WSDL, a session,
        a token) per connection in the process, and a run in the same process must never meet another run's."""
        if self.run_id:
            conn_id = f"{conn_id}-{self.run_id}"
        try:
            connection = Connection.from_uri(conn_id, self.url)
        except InvalidConnection as exc:
            raise EndpointError(f"--endpoint: {exc}") from None
        extras = dict(connection.extra)
        extras.update({key: value for key, value in self.options.items() if key in CONNECTION_OPTIONS})
        extras.update(extra)
        if self.is_http:
            extras["allow_http"] = "true"
        return replace(connection, login=os.environ.get(LOGIN_ENV) or None,
                       password=os.environ.get(PASSWORD_ENV) or None, extra=extras)
