"""Which port of a WSDL to bind. zeep's default is the first port of the first service; the real ByggR WSDL
lists its http port before its https one, so the default would pick the wrong binding for an https target.

The port bound here decides the binding (operations, SOAP version) only. The address posted to always comes
from the connection, so a WSDL that advertises another host or scheme can never redirect a call.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml.etree import QName
from zeep.wsdl.bindings.soap import Soap11Binding
from zeep.wsdl.definitions import Port
from zeep.wsdl.wsdl import Document

from brygga.connections import Connection
from brygga.errors import ConfigError
from brygga_adapters.http.extras import text


@dataclass(frozen=True)
class BoundPort:
    service: str
    port: str
    binding: QName
    advertised_scheme: str  # what the WSDL's soap:address says; informational only


def choose_port(wsdl: Document, connection: Connection, scheme: str) -> BoundPort:
    """A SOAP 1.1 port, preferring one whose advertised address has the connection's scheme.

    The ``service``/``port`` extras narrow the choice. Among several SOAP 1.1 ports none of which advertises
    the connection's scheme, the choice is refused rather than guessed; one such port is used as it is (a
    TLS-terminating proxy in front of a service that advertises http is common).
    """
    where = f"connection {connection.conn_id!r}"
    service_name, port_name = text(connection, "service"), text(connection, "port")
    if not wsdl.services:
        raise ConfigError(f"{where}: the WSDL defines no service to call (a portType-only WSDL needs its binding)")
    services = [s for s in wsdl.services.values() if service_name in (None, s.name)]
    if not services:
        raise ConfigError(f"{where}: extra 'service' names no service in the WSDL")
    candidates = [
        (service.name, port)
        for service in services
        for port in service.ports.values()
        if port_name in (None, port.name)
    ]
    if not candidates:
        raise ConfigError(f"{where}: extra 'port' names no port in the WSDL's service(s)")
    soap11 = [(name, port) for name, port in candidates if isinstance(port.binding, Soap11Binding)]
    if not soap11:
        raise ConfigError(f"{where}: the WSDL has no SOAP 1.1 port (among the service/port extras' choice)")
    matching = [(name, port) for name, port in soap11 if _advertised_scheme(port) == scheme]
    if matching:
        return _bound(*matching[0])
    if len(soap11) == 1:
        return _bound(*soap11[0])
    raise ConfigError(
        f"{where}: the WSDL has {len(soap11)} SOAP 1.1 ports and none advertises {scheme}; "
        "name one with the service/port extras"
    )


def _advertised_scheme(port: Port) -> str:
    return urlsplit(port.binding_options.get("address") or "").scheme.lower()


def _bound(service: str, port: Port) -> BoundPort:
    return BoundPort(
        service=service, port=port.name, binding=port.binding.name, advertised_scheme=_advertised_scheme(port)
    )
