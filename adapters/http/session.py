"""One requests session per connection: auth, TLS trust, client certificates, timeouts, and the URL guard.

``GuardedSession`` is the one place the guard and the credentials are applied, for REST and for zeep's transport
alike: every URL is checked before it is sent, and the connection's credentials are added only to requests for
the connection's own origin (scheme, host, port). A request to another allowed host or port carries none.

Connection extras read here: ``auth`` (below), ``ca_bundle`` (CA file to trust instead of the system store),
``cert_file`` and ``key_file`` (client certificate for mTLS), ``trust_env`` (honour proxy/CA environment variables;
default false), ``connect_timeout`` and ``read_timeout`` (seconds; ``timeout`` is accepted for the read timeout).

``auth`` is one of
- ``basic`` (the default): login and password as HTTP Basic;
- ``bearer``: the password as a bearer token;
- ``api_key``: the password in the header named by the extra ``api_key_header`` (default ``X-API-Key``);
- ``oauth2``: OAuth2 client credentials (login = client id, password = client secret) at the extra ``token_url``
  (absolute, or a path on the connection's origin; it must pass the URL guard), optional ``scope``, and
  ``token_auth`` ``basic`` (default: the client authenticates with HTTP Basic) or ``body`` (client id and secret
  in the form). The token is cached per connection, process-wide, until shortly before it expires; a session
  whose request got a 401 asks ``renew_credentials`` to drop it, and the next request fetches a new one.

TLS certificate verification is always on: no extra switches it off (``verify: false``, ``insecure: true`` and
the like are refused), and a request that would go out unverified is refused before it is sent.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2 import BackendApplicationClient, OAuth2Error
from requests.auth import AuthBase, HTTPBasicAuth

from brygga import __version__
from brygga.connections import Connection
from brygga.errors import ConfigError, CredentialsRefused, TargetUnavailable
from brygga.faults import Fault, http_status_fault
from brygga_adapters.http.errors import UnsafeUrl
from brygga_adapters.http.extras import TLS_ALWAYS_ON, choice, flag, refuse_tls_off, seconds, text
from brygga_adapters.http.urls import check_resolved, check_url, effective_port, own_origin

# urllib3 logs every request line at DEBUG, query string included: a property designation, a search term.
# Logging is processing of personal data, so those records are dropped whatever level an operator configures.
logging.getLogger("urllib3.connectionpool").addFilter(lambda record: record.levelno > logging.DEBUG)

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
USER_AGENT = f"Brygga/{__version__}"


AUTH_MODES = ("basic", "bearer", "api_key", "oauth2")
DEFAULT_API_KEY_HEADER = "X-API-Key"
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")


class BearerAuth(AuthBase):
    """``Authorization: Bearer <token>``, applied by ``GuardedSession`` like Basic auth."""

    header = "Authorization"

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


class ApiKeyAuth(AuthBase):
    """The key in its own header (``X-API-Key: <key>``); stripped, like Authorization, from other origins."""

    def __init__(self, header: str, key: str) -> None:
        self.header = header
        self.key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self.header] = self.key
        return request


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
    return _configured(GuardedSession(connection, _credentials(connection) if http_auth else None))


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
    return session


def _credentials(connection: Connection) -> AuthBase | None:
    where = f"connection {connection.conn_id!r}"
    scheme = (text(connection, "auth") or "basic").lower()
    if scheme not in AUTH_MODES:
        raise ConfigError(f"{where}: extra 'auth' must be one of {', '.join(AUTH_MODES)}")
    if scheme == "bearer":
        if not connection.password:
            raise ConfigError(f"{where}: extra auth=bearer needs the token as the password")
        return BearerAuth(connection.password)
    if scheme == "api_key":
        if not connection.password:
            raise ConfigError(f"{where}: extra auth=api_key needs the key as the password")
        header = text(connection, "api_key_header") or DEFAULT_API_KEY_HEADER
        if not _HEADER_NAME.fullmatch(header) or header.lower() in ("host", "content-length", "content-type"):
            raise ConfigError(f"{where}: extra 'api_key_header' must be an HTTP header name such as X-API-Key")
        return ApiKeyAuth(header, connection.password)
    if scheme == "oauth2":
        return OAuth2ClientCredentials(connection)
    return HTTPBasicAuth(connection.login, connection.password or "") if connection.login else None


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


# --- OAuth2 client credentials ---------------------------------------------------------------------------------

# Token errors that mean "this client id or secret is not accepted", as opposed to a wrong token_url or scope.
_REFUSED_CLIENT = frozenset({"invalid_client", "unauthorized_client", "access_denied", "invalid_grant"})
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")
# A token is renewed this long before it expires, at most: a request sent with it must still arrive in time.
_RENEW_MARGIN = 60.0
_RENEW_SHARE = 0.1
_clock = time.monotonic  # module-level so tests can move time

log = logging.getLogger("brygga.adapters.http")


@dataclass(frozen=True)
class _Token:
    access_token: str = ""
    renew_at: float | None = None  # time.monotonic(); None when the endpoint gave no lifetime: used until refused

    def fresh(self, now: float) -> bool:
        return self.renew_at is None or now < self.renew_at


# Process-wide: adapters (and their sessions) may be built per batch, a token should outlive them. Keyed by
# ``Connection.cache_key()``, which holds the secret, token_url and scope: a rotated secret gets its own token.
_tokens: dict[tuple[object, ...], _Token] = {}
_token_locks: dict[tuple[object, ...], threading.Lock] = {}
_tokens_guard = threading.Lock()


def clear_tokens() -> None:
    """Forget every cached OAuth2 token (tests, or after a client was revoked)."""
    with _tokens_guard:
        _tokens.clear()


def _token_lock(key: tuple[object, ...]) -> threading.Lock:
    with _tokens_guard:
        return _token_locks.setdefault(key, threading.Lock())


class OAuth2ClientCredentials(AuthBase):
    """``Authorization: Bearer <token>``, the token got by the OAuth2 client-credentials grant (RFC 6749 4.4).

    The request body and the answer are oauthlib's (``BackendApplicationClient``); the token request goes out on a
    ``GuardedSession`` of the same connection, so ``token_url`` passes the same URL guard as every other request.
    One fetch at a time per connection: concurrent deliveries wait for the one token rather than each fetch one.
    """

    header = "Authorization"

    def __init__(self, connection: Connection) -> None:
        where = f"connection {connection.conn_id!r}"
        if not connection.login or not connection.password:
            raise ConfigError(f"{where}: extra auth=oauth2 needs the client id as login and the secret as password")
        self.connection = connection
        self.token_url = _token_url(connection)
        self.scope = text(connection, "scope")
        self.client_auth = choice(connection, "token_auth", ("basic", "body")) or "basic"
        self._key = connection.cache_key()
        self._session: GuardedSession | None = None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.access_token()}"
        return request

    def access_token(self) -> str:
        with _token_lock(self._key):
            cached = _tokens.get(self._key)
            if cached is not None and cached.fresh(_clock()):
                return cached.access_token
            token = _tokens[self._key] = self._fetch()
            return token.access_token

    def forget(self, authorization: str | None) -> None:
        """Drop the cached token if it is the one ``authorization`` carried (another thread may have renewed it)."""
        with _token_lock(self._key):
            cached = _tokens.get(self._key)
            if cached is not None and authorization in (None, f"Bearer {cached.access_token}"):
                del _tokens[self._key]

    def _fetch(self) -> _Token:
        where = f"connection {self.connection.conn_id!r}: OAuth2 token endpoint"
        client = BackendApplicationClient(client_id=self.connection.login)
        in_body = self.client_auth == "body"
        body = client.prepare_request_body(
            scope=self.scope, include_client_id=in_body, client_secret=self.connection.password if in_body else None
        )
        try:
            response = self._token_session().post(
                self.token_url,
                data=body,
                headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
                timeout=timeouts(self.connection),
                allow_redirects=False,
            )
        except requests.TooManyRedirects:  # any 3xx: the session follows none
            raise ConfigError(f"{where}: answered with a redirect, not followed (check the extra 'token_url')") \
                from None
        except requests.Timeout:
            raise TargetUnavailable(f"{where}: timed out (rule: transient, retry later)") from None
        except requests.RequestException as exc:
            raise TargetUnavailable(f"{where}: could not be reached ({type(exc).__name__})") from None
        status = response.status_code
        if http_status_fault(status) is Fault.TRANSIENT:
            raise TargetUnavailable(f"{where}: HTTP {status} (rule: 5xx, 408, 425 and 429 are temporary)")
        if 300 <= status < 400:
            raise ConfigError(f"{where}: answered with a redirect, not followed (check the extra 'token_url')")
        if "html" in response.headers.get("Content-Type", "").lower():
            raise TargetUnavailable(f"{where}: answered HTML, not JSON (rule: likely a maintenance page, retry later)")
        try:
            token = client.parse_request_body_response(response.text, scope=self.scope)
        except OAuth2Error as exc:
            raise _token_refusal(where, exc, status) from None
        except Warning as changed:  # the endpoint granted another scope than asked: what it granted is the truth
            token = getattr(changed, "token", None)
            if token is None:
                raise ConfigError(f"{where}: the token answer could not be read (rule: oauth2 token)") from None
        if status >= 300 or str(token.get("token_type", "bearer")).lower() != "bearer":
            raise ConfigError(f"{where}: HTTP {status}, no bearer token in the answer (rule: oauth2 token)")
        lifetime = token.get("expires_in")
        renew_at = None
        if isinstance(lifetime, int | float) and lifetime > 0:
            renew_at = _clock() + lifetime - min(_RENEW_MARGIN, lifetime * _RENEW_SHARE)
        log.info("oauth2 token: connection=%s fetched expires_in=%s", self.connection.conn_id, lifetime)
        return _Token(access_token=token["access_token"], renew_at=renew_at)

    def _token_session(self) -> GuardedSession:
        if self._session is None:
            basic = HTTPBasicAuth(self.connection.login or "", self.connection.password or "")
            session = _TokenEndpointSession(self.connection, None if self.client_auth == "body" else basic)
            session.token_url = self.token_url
            self._session = _configured(session)
        return self._session


class _TokenEndpointSession(GuardedSession):
    """The token request's session: the URL guard of the connection, the client's credentials to ``token_url``'s
    origin only (an identity provider on an ``allowed_hosts`` entry is the one place the secret may go)."""

    token_url = ""

    def carries_credentials(self, url: str) -> bool:
        return _origin(url) == _origin(self.token_url)


def _origin(url: str) -> tuple[str, str, int | None] | None:
    parts = urlsplit(url)
    try:
        return parts.scheme.lower(), (parts.hostname or "").lower(), effective_port(parts.scheme, parts.port)
    except ValueError:
        return None


def _token_url(connection: Connection) -> str:
    where = f"connection {connection.conn_id!r}"
    raw = text(connection, "token_url")
    if raw is None:
        raise ConfigError(f"{where}: extra auth=oauth2 needs the extra 'token_url'")
    if raw.startswith("/") and not raw.startswith("//"):
        base = urlsplit(connection.base_url)
        url = f"{base.scheme}://{base.netloc}{raw}"
    elif raw.lower().startswith(("https://", "http://")):
        url = raw
    else:
        raise ConfigError(f"{where}: extra 'token_url' must be an absolute http(s) URL or a path starting with /")
    if "#" in url:
        raise ConfigError(f"{where}: extra 'token_url' must not carry a fragment")
    try:
        check_url(connection, url)
    except UnsafeUrl as exc:
        raise ConfigError(f"{exc} (extra 'token_url')") from None
    return url


def _token_refusal(where: str, exc: OAuth2Error, status: int) -> ConfigError:
    # The error code is a protocol token; error_description is the server's free text and stays out.
    error = exc.error if isinstance(exc.error, str) and _ERROR_CODE.fullmatch(exc.error) else "unreadable"
    if error in _REFUSED_CLIENT or status in (401, 403):
        return CredentialsRefused(
            f"{where} refused the client credentials (OAuth2 error {error}, HTTP {status}); fix the connection's "
            "login (client id) and password (client secret); nothing is quarantined, the run fails until then"
        )
    return ConfigError(f"{where} refused the token request (OAuth2 error {error}, HTTP {status}); "
                       "check the extras 'token_url' and 'scope'")
