"""A connection's HTTP credentials: Basic, bearer, API key, and OAuth2 client credentials with a process-wide token
cache. ``GuardedSession`` (session.py) decides where they may go; this module only makes them.

``auth`` (a connection extra) is one of
- ``basic`` (the default): login and password as HTTP Basic;
- ``bearer``: the password as a bearer token;
- ``api_key``: the password in the header named by the extra ``api_key_header`` (default ``X-API-Key``);
- ``oauth2``: OAuth2 client credentials (login = client id, password = client secret) at the extra ``token_url``
  (absolute, or a path on the connection's origin; it must pass the URL guard), optional ``scope``, and
  ``token_auth`` ``basic`` (default: the client authenticates with HTTP Basic) or ``body`` (client id and secret
  in the form). The token is cached per connection, process-wide, until shortly before it expires; a session
  whose request got a 401 asks ``renew_credentials`` to drop it, and the next request fetches a new one.

Caches are keyed by ``cache_slot(connection)``: the connection id and a sha256 of ``Connection.cache_key()``, so
the secret is never a dict key, and a rotated secret gets its own entry while the previous one is dropped.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2 import BackendApplicationClient, OAuth2Error
from requests.auth import AuthBase, HTTPBasicAuth

from brygga.connections import Connection
from brygga.errors import ConfigError, CredentialsRefused, TargetUnavailable
from brygga.faults import Fault, http_status_fault
from brygga_adapters.http.answers import read_capped
from brygga_adapters.http.errors import UnsafeUrl
from brygga_adapters.http.extras import choice, text
from brygga_adapters.http.urls import check_url

AUTH_MODES = ("basic", "bearer", "api_key", "oauth2")
DEFAULT_API_KEY_HEADER = "X-API-Key"
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")
# A token answer is a few hundred bytes; anything near this is not one (a misdirected token_url, a hostile host).
MAX_TOKEN_ANSWER_BYTES = 64 * 1024

# (connection id, sha256 of the connection's cache key): what per-connection caches are keyed by.
CacheSlot = tuple[str, str]
# Makes the session a token request goes out on: (connection, token_url, client credentials or None).
TokenSessionFactory = Callable[[Connection, str, AuthBase | None], requests.Session]

log = logging.getLogger("brygga.adapters.http")


def cache_slot(connection: Connection) -> CacheSlot:
    """The connection id and a sha256 of ``cache_key()`` (which holds the secret): a rotated secret gets another
    slot, and no cache holds the secret as a key."""
    return connection.conn_id, hashlib.sha256(repr(connection.cache_key()).encode()).hexdigest()


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


def credentials_for(connection: Connection, token_session: TokenSessionFactory,
                    timeout: tuple[float, float]) -> AuthBase | None:
    """The credentials the connection's ``auth`` extra asks for; for OAuth2, ``token_session`` makes the session
    the token request goes out on, and ``timeout`` is its (connect, read) seconds."""
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
        return OAuth2ClientCredentials(connection, token_session, timeout)
    return HTTPBasicAuth(connection.login, connection.password or "") if connection.login else None


# --- OAuth2 client credentials ---------------------------------------------------------------------------------

# Token errors that mean "this client id or secret is not accepted", as opposed to a wrong token_url or scope.
_REFUSED_CLIENT = frozenset({"invalid_client", "unauthorized_client", "access_denied", "invalid_grant"})
_ERROR_CODE = re.compile(r"[a-z_]{1,40}")
# A token is renewed this long before it expires, at most: a request sent with it must still arrive in time.
_RENEW_MARGIN = 60.0
_RENEW_SHARE = 0.1
_clock = time.monotonic  # module-level so tests can move time


@dataclass(frozen=True)
class _Token:
    access_token: str = ""
    renew_at: float | None = None  # time.monotonic(); None when the endpoint gave no lifetime: used until refused

    def fresh(self, now: float) -> bool:
        return self.renew_at is None or now < self.renew_at


@dataclass
class _TokenSlot:
    """One connection's token and the lock that lets one fetch run at a time. Credentials hold their slot, so one
    dropped from the registry (a rotated secret) still serves a delivery under way with the old secret."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    token: _Token | None = None


# Process-wide: adapters (and their sessions) may be built per batch, a token should outlive them.
_slots: dict[CacheSlot, _TokenSlot] = {}
_slots_guard = threading.Lock()


def _slot_for(key: CacheSlot) -> _TokenSlot:
    """The slot for ``key``; creating one drops the connection's others (an older secret's token is no use)."""
    with _slots_guard:
        slot = _slots.get(key)
        if slot is None:
            for stale in [other for other in _slots if other[0] == key[0]]:
                del _slots[stale]
            slot = _slots[key] = _TokenSlot()
        return slot


def cached_token_slots(conn_id: str) -> int:
    """How many token slots the process keeps for ``conn_id`` (one, after any number of rotations)."""
    with _slots_guard:
        return sum(1 for key in _slots if key[0] == conn_id)


def clear_tokens() -> None:
    """Forget every cached OAuth2 token (tests, or after a client was revoked)."""
    with _slots_guard:
        slots = list(_slots.values())
        _slots.clear()
    for slot in slots:
        with slot.lock:
            slot.token = None


class OAuth2ClientCredentials(AuthBase):
    """``Authorization: Bearer <token>``, the token got by the OAuth2 client-credentials grant (RFC 6749 4.4).

    The request body and the answer are oauthlib's (``BackendApplicationClient``); the token request goes out on a
    session ``token_session`` makes (a ``GuardedSession`` of the same connection), so ``token_url`` passes the same
    URL guard as every other request. One fetch at a time per connection: concurrent deliveries wait for the one
    token rather than each fetch one.
    """

    header = "Authorization"

    def __init__(self, connection: Connection, token_session: TokenSessionFactory,
                 timeout: tuple[float, float]) -> None:
        where = f"connection {connection.conn_id!r}"
        if not connection.login or not connection.password:
            raise ConfigError(f"{where}: extra auth=oauth2 needs the client id as login and the secret as password")
        self.connection = connection
        self.token_url = _token_url(connection)
        self.scope = text(connection, "scope")
        self.client_auth = choice(connection, "token_auth", ("basic", "body")) or "basic"
        self._make_session = token_session
        self._timeout = timeout
        self._session: requests.Session | None = None
        self._slot = _slot_for(cache_slot(connection))

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.access_token()}"
        return request

    def access_token(self) -> str:
        with self._slot.lock:
            cached = self._slot.token
            if cached is not None and cached.fresh(_clock()):
                return cached.access_token
            token = self._slot.token = self._fetch()
            return token.access_token

    def forget(self, authorization: str | None) -> None:
        """Drop the cached token if it is the one ``authorization`` carried (another thread may have renewed it)."""
        with self._slot.lock:
            cached = self._slot.token
            if cached is not None and authorization in (None, f"Bearer {cached.access_token}"):
                self._slot.token = None

    def _fetch(self) -> _Token:
        where = f"connection {self.connection.conn_id!r}: OAuth2 token endpoint"
        client = BackendApplicationClient(client_id=self.connection.login)
        in_body = self.client_auth == "body"
        body = client.prepare_request_body(
            scope=self.scope, include_client_id=in_body, client_secret=self.connection.password if in_body else None
        )
        status, answer = self._post(where, body)
        try:
            token = client.parse_request_body_response(answer, scope=self.scope)
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

    def _post(self, where: str, body: str) -> tuple[int, str]:
        """The token request: (status, answer text), the answer read up to ``MAX_TOKEN_ANSWER_BYTES``."""
        try:
            response = self._token_session().post(
                self.token_url,
                data=body,
                headers={"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
                timeout=self._timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.TooManyRedirects:  # any 3xx: the session follows none
            raise ConfigError(f"{where}: answered with a redirect, not followed (check the extra 'token_url')") \
                from None
        except requests.Timeout:
            raise TargetUnavailable(f"{where}: timed out (rule: transient, retry later)") from None
        except requests.RequestException as exc:
            raise TargetUnavailable(f"{where}: could not be reached ({type(exc).__name__})") from None
        with response:
            status = response.status_code
            if http_status_fault(status) is Fault.TRANSIENT:
                raise TargetUnavailable(f"{where}: HTTP {status} (rule: 5xx, 408, 425 and 429 are temporary)")
            if 300 <= status < 400:
                raise ConfigError(f"{where}: answered with a redirect, not followed (check the extra 'token_url')")
            if "html" in response.headers.get("Content-Type", "").lower():
                raise TargetUnavailable(
                    f"{where}: answered HTML, not JSON (rule: likely a maintenance page, retry later)")
            return status, _read_token_answer(response, where)

    def _token_session(self) -> requests.Session:
        if self._session is None:
            basic = HTTPBasicAuth(self.connection.login or "", self.connection.password or "")
            self._session = self._make_session(self.connection, self.token_url,
                                               None if self.client_auth == "body" else basic)
        return self._session


def _read_token_answer(response: requests.Response, where: str) -> str:
    body = read_capped(
        response, MAX_TOKEN_ANSWER_BYTES, chunk_size=16 * 1024,
        too_big=lambda: ConfigError(
            f"{where}: the answer is larger than {MAX_TOKEN_ANSWER_BYTES} bytes, not a token answer "
            "(rule: oauth2 token answer size; check the extra 'token_url')"
        ),
        broken=lambda exc: TargetUnavailable(f"{where}: the answer broke off ({type(exc).__name__})"),
    )
    return body.decode(response.encoding or "utf-8", errors="replace")


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
