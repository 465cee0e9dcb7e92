"""One safe zeep client per connection, parsed once and reused.

Settings follow the design notes: strict parsing, no DTDs, no entities, no huge trees; remote imports only
through the guarded transport (the connection's own hosts, never a downgrade). The endpoint is built from the
connection (``brygga_adapters.http.endpoint_url``: https unless the connection says ``allow_http: true``) and
every call posts there, whatever the WSDL's soap:address says.
The WSDL comes from ``{endpoint}?wsdl`` unless the ``wsdl`` extra names another URL or a local file.

SOAP-specific connection extras (the HTTP ones are in ``brygga_adapters.http``; all in docs/connections.md):

``wsdl``            WSDL URL or local path (default ``{endpoint}?wsdl``)
``service``/``port`` the WSDL service and port to bind when the default choice (see ``ports``) is not right
``allowed_hosts``   comma-separated ``host`` (any port) or ``host:port`` besides the connection's own host and
                    port, e.g. where a ``wsdl`` URL or a WSDL's imports live; they never get the credentials
``wsse``            ``username_token`` or ``username_token_digest``: send the login and password as a
                    WS-Security UsernameToken in every request's SOAP header (the password as text or as a digest)
                    instead of HTTP Basic; with the ``auth`` extra set as well, HTTP auth is sent too
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import zeep
from zeep.proxy import ServiceProxy
from zeep.wsse.username import UsernameToken

from brygga.connections import Connection
from brygga.errors import ConfigError
from brygga_adapters.http import UnsafeUrl, endpoint_url
from brygga_adapters.http.extras import choice
from brygga_adapters.soap.errors import map_soap_error
from brygga_adapters.soap.ports import BoundPort, choose_port
from brygga_adapters.soap.transport import GuardedTransport

log = logging.getLogger("brygga.adapters.soap")

SAFE_SETTINGS = dict(
    strict=True,
    forbid_dtd=True,
    forbid_entities=True,
    # A WCF service (ByggR, Ecos) serves its WSDL as ?wsdl with imports of ?wsdl=wsdl0 and ?xsd=xsd0: zeep's
    # forbid_external would refuse all of them. Every load goes through GuardedTransport instead, which allows
    # only the connection's own hosts, never a downgrade to http, and local files only beside a local WSDL.
    forbid_external=False,
    xml_huge_tree=False,
    # zeep would rewrite http soap:addresses to https for a WSDL fetched over https. We never post to the
    # WSDL's addresses, and choosing the port needs the schemes the WSDL really advertises.
    force_https=False,
)


def safe_settings() -> zeep.Settings:
    return zeep.Settings(**SAFE_SETTINGS)


def wsdl_location(connection: Connection, endpoint: str) -> tuple[str, Path | None]:
    """The WSDL to load, and the folder local imports may come from (None for a remote WSDL)."""
    configured = (connection.extra.get("wsdl") or "").strip()
    if not configured:
        return f"{endpoint}?wsdl", None
    if "://" in configured:
        return configured, None  # checked by the transport like every other URL
    path = Path(configured).expanduser().resolve()
    return str(path), path.parent


def _refuse_endpoint_extra(connection: Connection) -> None:
    # The 'endpoint' extra once chose between the WSDL's address and the connection's; only the latter is left.
    if connection.extra.get("endpoint", "connection") != "connection":
        raise ConfigError(
            f"connection {connection.conn_id!r}: extra 'endpoint' is no longer supported: Brygga always posts to "
            "the connection's own URL (rule: endpoint-from-connection)"
        )


WSSE = "wsse"
WSSE_MODES = ("username_token", "username_token_digest")


def wsse_token(connection: Connection) -> UsernameToken | None:
    """The WS-Security UsernameToken the ``wsse`` extra asks for, with the connection's login and password."""
    mode = choice(connection, WSSE, WSSE_MODES)
    if mode is None:
        return None
    if not connection.login or not connection.password:
        raise ConfigError(
            f"connection {connection.conn_id!r}: extra {WSSE!r} needs the connection's login and password"
        )
    # zeep builds the header per request: a digest gets a fresh nonce and creation time every time.
    # Created in UTC with a Z, as the profile's examples and most servers expect it.
    return UsernameToken(
        connection.login, connection.password, use_digest=mode == "username_token_digest", zulu_timestamp=True
    )


class SoapService:
    """A zeep client bound to one connection, with Brygga's error mapping around every call."""

    def __init__(self, connection: Connection, plugins: list[Any] | None = None) -> None:
        self.name = connection.conn_id
        _refuse_endpoint_extra(connection)
        self.endpoint = endpoint_url(connection)
        wsdl, local_dir = wsdl_location(connection, self.endpoint)
        wsse = wsse_token(connection)
        # With WS-Security the credentials travel in the envelope; HTTP auth as well only when `auth` says so.
        http_auth = wsse is None or bool((connection.extra.get("auth") or "").strip())
        self.transport = GuardedTransport(connection, local_wsdl_dir=local_dir, http_auth=http_auth)
        try:
            self.client = zeep.Client(
                wsdl, transport=self.transport, settings=safe_settings(), plugins=plugins or [], wsse=wsse
            )
        except Exception as exc:
            raise map_soap_error(self.name, "load WSDL", exc) from None
        self.port: BoundPort = choose_port(self.client.wsdl, connection, connection.scheme)
        self.proxy: ServiceProxy = self.client.create_service(self.port.binding.text, self.endpoint)

    @property
    def address(self) -> str:
        return self.proxy._binding_options.get("address", "")

    def get_type(self, qname: str) -> Any:
        return self.client.get_type(qname)

    def file_value(self, path: Path, size: int, sha256: str | None = None) -> bytes:
        """A placeholder to pass where the WSDL wants ``xs:base64Binary`` bytes: the next ``call`` on this
        thread streams the file at ``path`` there instead, base64-encoded, without reading it into memory.

        ``size`` must be the file's size (the Content-Length is computed from it). With ``sha256`` the file is
        also proven unchanged while it is sent; if it changed, the request breaks off before it is complete.
        """
        return self.transport.add_file_value(Path(path), size, sha256)

    def call(self, operation: str, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            result = getattr(self.proxy, operation)(**kwargs)
        except (UnsafeUrl, ConfigError):
            raise
        except Exception as exc:
            log.info(
                "soap call failed: service=%s operation=%s error=%s", self.name, operation, type(exc).__name__
            )
            raise map_soap_error(self.name, operation, exc) from None
        finally:
            self.transport.file_values.discard()  # placeholders are for this call only, sent or not
        log.debug(
            "soap call: service=%s operation=%s seconds=%.3f",
            self.name,
            operation,
            time.monotonic() - started,
        )
        return result


_cache: dict[tuple[Any, ...], SoapService] = {}
_cache_lock = threading.Lock()


def soap_service(connection: Connection) -> SoapService:
    """The cached ``SoapService`` for ``connection``; the WSDL is loaded on first use only.

    A failed load is not cached, so a target that was down is retried on the next delivery.
    """
    key = connection.cache_key()
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    service = SoapService(connection)
    with _cache_lock:
        return _cache.setdefault(key, service)


def clear_soap_cache() -> None:
    with _cache_lock:
        _cache.clear()
