"""One safe zeep client per connection, parsed once and reused.

Settings follow the design notes: strict parsing, no DTDs, no entities, no external references, no huge
trees. The WSDL comes from the connection (``{base_url}?wsdl``) unless its ``wsdl`` extra names another URL
or a local file. Connection extras:

``wsdl``            WSDL URL or local path (default ``{base_url}?wsdl``)
``connect_timeout`` seconds (default 5); ``read_timeout`` (or ``timeout``) seconds (default 30)
``allowed_hosts``   comma-separated hosts besides the connection's own that the WSDL may point at
``endpoint``        ``wsdl`` (default: post to the WSDL's soap:address) or ``connection`` (post to base_url)
``service``/``port`` pick a service and port when the WSDL has several
``ca_bundle``       CA bundle path for TLS; ``trust_env=true`` to honour proxy environment variables
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import zeep
from zeep.proxy import ServiceProxy

from brygga.connections import Connection
from brygga.errors import ConfigError
from brygga_adapters.soap.errors import UnsafeTargetAddress, map_soap_error
from brygga_adapters.soap.transport import GuardedTransport

log = logging.getLogger("brygga.adapters.soap")

SAFE_SETTINGS = dict(
    strict=True, forbid_dtd=True, forbid_entities=True, forbid_external=True, xml_huge_tree=False
)


def safe_settings() -> zeep.Settings:
    return zeep.Settings(**SAFE_SETTINGS)


def wsdl_location(connection: Connection) -> tuple[str, Path | None]:
    """The WSDL to load, and the folder local imports may come from (None for a remote WSDL)."""
    configured = connection.extra.get("wsdl")
    if not configured:
        return f"{connection.base_url}?wsdl", None
    if configured.startswith(("http://", "https://")):
        return configured, None
    path = Path(configured).expanduser().resolve()
    return str(path), path.parent


class SoapService:
    """A zeep client bound to one connection, with Brygga's error mapping around every call."""

    def __init__(self, connection: Connection, plugins: list[Any] | None = None) -> None:
        self.name = connection.conn_id
        wsdl, local_dir = wsdl_location(connection)
        self.transport = GuardedTransport(connection, local_wsdl_dir=local_dir)
        try:
            self.client = zeep.Client(
                wsdl, transport=self.transport, settings=safe_settings(), plugins=plugins or []
            )
        except Exception as exc:
            raise map_soap_error(self.name, "load WSDL", exc) from None
        self.proxy = self._bind(connection)

    def _bind(self, connection: Connection) -> ServiceProxy:
        service, port = connection.extra.get("service"), connection.extra.get("port")
        try:
            proxy = self.client.bind(service, port) if service or port else self.client.service
        except (ValueError, KeyError):
            raise ConfigError(f"connection {self.name!r}: service/port not found in the WSDL") from None
        endpoint = connection.extra.get("endpoint", "wsdl")
        if endpoint == "connection":
            return self.client.create_service(proxy._binding.name.text, connection.base_url)
        if endpoint != "wsdl":
            raise ConfigError(f"connection {self.name!r}: extra 'endpoint' must be 'wsdl' or 'connection'")
        address = proxy._binding_options.get("address", "")
        self.transport.check_url(address)  # refuse early: the WSDL itself names a foreign host
        return proxy

    @property
    def address(self) -> str:
        return self.proxy._binding_options.get("address", "")

    def get_type(self, qname: str) -> Any:
        return self.client.get_type(qname)

    def call(self, operation: str, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            result = getattr(self.proxy, operation)(**kwargs)
        except (UnsafeTargetAddress, ConfigError):
            raise
        except Exception as exc:
            log.info(
                "soap call failed: service=%s operation=%s error=%s", self.name, operation, type(exc).__name__
            )
            raise map_soap_error(self.name, operation, exc) from None
        log.debug(
            "soap call: service=%s operation=%s seconds=%.3f",
            self.name,
            operation,
            time.monotonic() - started,
        )
        return result


_cache: dict[tuple[Any, ...], SoapService] = {}
_cache_lock = threading.Lock()


def _cache_key(connection: Connection) -> tuple[Any, ...]:
    # The password is part of the key so a rotated secret gets a fresh session; the key is never logged.
    return (
        connection.conn_id,
        connection.base_url,
        connection.login,
        connection.password,
        tuple(sorted(connection.extra.items())),
    )


def soap_service(connection: Connection) -> SoapService:
    """The cached ``SoapService`` for ``connection``; the WSDL is loaded on first use only.

    A failed load is not cached, so a target that was down is retried on the next delivery.
    """
    key = _cache_key(connection)
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
