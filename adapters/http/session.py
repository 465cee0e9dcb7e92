"""One requests session per connection: auth, TLS trust, client certificates, timeouts, and the URL guard.

``GuardedSession`` is the one place the guard and the credentials are applied, for REST and for zeep's transport
alike: every URL is checked before it is sent, and the connection's credentials are added only to requests for
the connection's own origin (scheme, host, port). A request to another allowed host or port carries none.

Connection extras read here: ``ca_bundle`` (CA file to trust instead of the system store),
``cert_file`` and ``key_file`` (client certificate for mTLS), ``trust_env`` (honour proxy/CA environment variables;
default false), ``connect_timeout`` and ``read_timeout`` (seconds; ``timeout`` is accepted for the read timeout).

The credentials (extra ``auth``: basic, bearer, api_key, oauth2) and the OAuth2 token cache are auth.py's.

TLS certificate verification is always on: no extra switches it off (``verify: false``, ``insecure: true`` and
the like are refused), and a request that would go out unverified is refused before it is sent.

While Brygga works on a submission, every request carries its correlation id (the submission id) in
``X-Correlation-ID`` (``brygga.provenance``), so a target's own logs can be matched with Brygga's.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase

from brygga import __version__
from brygga.connections import Connection
from brygga.errors import ConfigError
from brygga.provenance import CORRELATION_HEADER, correlation_id
from brygga_adapters.http.auth import OAuth2ClientCredentials, credentials_for
from brygga_adapters.http.errors import UnsafeUrl
from brygga_adapters.http.extras import TLS_ALWAYS_ON, flag, refuse_tls_off, seconds, text
from brygga_adapters.http.urls import check_resolved, check_url, own_origin

# urllib3 logs every request line at DEBUG, query string included: a property designation, a search term.
# Logging is processing of personal data, so those records are dropped whatever level an operator configures.
logging.getLogger("urllib3.connectionpool").addFilter(lambda record: record.levelno > logging.DEBUG)

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
USER_AGENT = f"Brygga/{__version__}"


# As many connections per host as the most deliveries a target may run at once (routes schema: concurrency).
POOL_MAXSIZE = 32


class GuardedSession(requests.Session):
    """A session that checks every URL it sends to, redirects included, against its connection, and sends the
    connection's credentials to the connection's own origin only."""

    # The error a refused URL raises; the SOAP transport sets its subclass, UnsafeTargetAddress.
    refusal: type[UnsafeUrl] = UnsafeUrl

    def __init__(self, connection: Connection, credentials: AuthBase | None = None) -> None:
        super().__init__()
        self.connection = connection
        # Not ``self.auth``: requests would add that to every request, whichever host it goes to.
        self.credentials = credentials

    def merge_environment_settings(
        self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        # With trust_env, requests lets REQUESTS_CA_BUNDLE replace the session's CA file; the connection's
        # ca_bundle names the one CA this target is trusted by, so it wins.
        if isinstance(self.verify, str) and verify in (None, True):
            settings["verify"] = self.verify
        return settings

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        # requests reads any false value (False, "", None set on purpose) as "do not verify". Code, not an
        # extra, would have to ask for that, so it is a bug: refused before anything is sent.
        if not kwargs.get("verify", True):
            raise ConfigError(f"connection {self.connection.conn_id!r}: {TLS_ALWAYS_ON}")
        url = request.url or ""
        try:
            check_url(self.connection, url)
            check_resolved(self.connection, url)  # at request time: a name's addresses can change
        except UnsafeUrl as exc:
            raise self.refusal(str(exc)) from None
        if self.carries_credentials(url):
            if self.credentials is not None:
                self.credentials(request)
        else:
            # Another allowed host (or port, or scheme) gets no credentials, whoever put them on the request.
            request.headers.pop("Authorization", None)
            header = getattr(self.credentials, "header", None)
            if header:
                request.headers.pop(header, None)
        correlation = correlation_id()
        if correlation:  # a submission id: no personal data, and no secret
            request.headers[CORRELATION_HEADER] = correlation
        return super().send(request, **kwargs)

    def carries_credentials(self, url: str) -> bool:
        """Whether a request to ``url`` may carry credentials: the connection's own origin only."""
        return own_origin(self.connection, url)

    def renew_credentials(self, refused: requests.Response) -> bool:
        """After a 401: drop the credentials that ``refused``'s request carried, if they can be renewed (an OAuth2
        token); True when a retry will carry new ones. Basic, bearer and API key cannot renew themselves."""
        if not isinstance(self.credentials, OAuth2ClientCredentials):
            return False
        self.credentials.forget(refused.request.headers.get("Authorization"))
        return True


def timeouts(connection: Connection) -> tuple[float, float]:
    """(connect, read) seconds."""
    read_default = seconds(connection, "timeout", DEFAULT_READ_TIMEOUT)
    return (
        seconds(connection, "connect_timeout", DEFAULT_CONNECT_TIMEOUT),
        seconds(connection, "read_timeout", read_default),
    )


def build_session(connection: Connection, *, http_auth: bool = True) -> GuardedSession:
    """The connection's session. ``http_auth=False`` sends no HTTP credentials at all: for a SOAP target whose
    login and password go in the envelope (WS-Security) instead."""
    refuse_tls_off(connection)
    credentials = credentials_for(connection, _token_session, timeouts(connection)) if http_auth else None
    return _configured(GuardedSession(connection, credentials))


def _configured(session: GuardedSession) -> GuardedSession:
    connection = session.connection
    # A redirect could lead anywhere; requests raises TooManyRedirects instead of following one.
    session.max_redirects = 0
    session.trust_env = flag(connection, "trust_env")
    ca_bundle = text(connection, "ca_bundle")
    if ca_bundle:
        session.verify = _existing_file(connection, "ca_bundle", ca_bundle)
    session.cert = _client_certificate(connection)
    session.headers["User-Agent"] = USER_AGENT
    # Deliveries to one target run on up to 32 threads (a target's ``concurrency``); requests' default pool keeps
    # 10 connections per host and would open and drop the rest on every call.
    pooled = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_MAXSIZE)
    session.mount("https://", pooled)
    session.mount("http://", pooled)
    return session


def _client_certificate(connection: Connection) -> str | tuple[str, str] | None:
    cert_file, key_file = text(connection, "cert_file"), text(connection, "key_file")
    if key_file and not cert_file:
        raise ConfigError(f"connection {connection.conn_id!r}: extra 'key_file' needs 'cert_file' too")
    if not cert_file:
        return None
    cert = _existing_file(connection, "cert_file", cert_file)
    return (cert, _existing_file(connection, "key_file", key_file)) if key_file else cert


def _existing_file(connection: Connection, key: str, value: str) -> str:
    path = Path(value).expanduser()
    if not path.is_file():
        raise ConfigError(f"connection {connection.conn_id!r}: extra {key!r} does not name a readable file")
    return str(path)


class _TokenEndpointSession(GuardedSession):
    """The token request's session: the URL guard of the connection, the client's credentials to ``token_url``'s
    origin only (an identity provider on an ``allowed_hosts`` entry is the one place the secret may go)."""

    def __init__(self, connection: Connection, credentials: AuthBase | None, token_url: str) -> None:
        super().__init__(connection, credentials)
        parts = urlsplit(token_url)
        # own_origin compares with a connection's scheme, host and port: those of the token endpoint here.
        self.token_endpoint = replace(connection, scheme=parts.scheme.lower(), host=parts.hostname or "",
                                      port=parts.port)

    def carries_credentials(self, url: str) -> bool:
        return own_origin(self.token_endpoint, url)


def _token_session(connection: Connection, token_url: str, credentials: AuthBase | None) -> GuardedSession:
    return _configured(_TokenEndpointSession(connection, credentials, token_url))
