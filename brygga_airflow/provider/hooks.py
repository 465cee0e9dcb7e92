"""Airflow hooks for Brygga's connection types. They exist so Airflow's UI can offer and test the connections;
Brygga's tasks resolve connections through ``brygga_airflow.connections`` and use the adapters directly.

``test_connection`` goes through the same guards as a delivery (https rule, allowed hosts, no redirects) and
answers ``(ok, message)``; messages are Brygga's own (connection id, rule, endpoint without credentials), never
a library's text that might quote a secret.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import requests
from airflow.sdk import BaseHook

from brygga.connections import Connection
from brygga.errors import BryggaError
from brygga_adapters.http import build_session, endpoint_url, timeouts
from brygga_adapters.soap import SoapService
from brygga_airflow.connections import brygga_connection
from brygga_airflow.provider import HTTP_CONN_TYPE, SOAP_CONN_TYPE
from brygga_airflow.provider.fields import field_behaviour


class _BryggaHook(BaseHook, abc.ABC):
    conn_name_attr = "brygga_conn_id"
    kind: ClassVar[str]

    def __init__(self, brygga_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.brygga_conn_id = brygga_conn_id or self.default_conn_name

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return field_behaviour(cls.kind)

    def brygga_connection(self) -> Connection:
        return brygga_connection(self.get_connection(self.brygga_conn_id))

    def test_connection(self) -> tuple[bool, str]:
        try:
            return self._probe(self.brygga_connection())
        except BryggaError as exc:
            return False, str(exc)
        except requests.Timeout:
            return False, f"connection {self.brygga_conn_id!r}: timed out"
        except requests.exceptions.SSLError:
            return False, f"connection {self.brygga_conn_id!r}: TLS failed (check the certificate or ca_bundle)"
        except requests.ConnectionError:
            return False, f"connection {self.brygga_conn_id!r}: could not connect"
        except Exception as exc:  # a library's message may quote a URL or a secret: report the type only
            return False, f"connection {self.brygga_conn_id!r}: {type(exc).__name__}"

    @abc.abstractmethod
    def _probe(self, connection: Connection) -> tuple[bool, str]:
        """Try the connection as a delivery would; (ok, message)."""


class BryggaSoapHook(_BryggaHook):
    """A SOAP target: ByggR's ArendeExportWS, Open ePlatform's IntegrationCallback."""

    conn_type = SOAP_CONN_TYPE
    default_conn_name = "brygga_soap_default"
    hook_name = "Brygga SOAP target"
    kind = "soap"

    def get_conn(self) -> SoapService:
        return SoapService(self.brygga_connection())

    def _probe(self, connection: Connection) -> tuple[bool, str]:
        # A fresh client, not the cached one: the test is of the connection as it is now.
        service = SoapService(connection)
        bound = service.port
        return True, f"WSDL loaded; bound port {bound.service}/{bound.port}; calls go to {service.endpoint}"


class BryggaHttpHook(_BryggaHook):
    """A REST target, e.g. the property register."""

    conn_type = HTTP_CONN_TYPE
    default_conn_name = "brygga_http_default"
    hook_name = "Brygga REST target"
    kind = "http"

    def get_conn(self) -> requests.Session:
        return build_session(self.brygga_connection())

    def _probe(self, connection: Connection) -> tuple[bool, str]:
        url = endpoint_url(connection)
        with build_session(connection) as session:
            method = "HEAD"
            response = session.head(url, timeout=timeouts(connection), allow_redirects=False)
            if response.status_code in (405, 501):  # HEAD not implemented: a GET without reading the body
                method = "GET"
                response = session.get(url, timeout=timeouts(connection), allow_redirects=False, stream=True)
            response.close()
        status = response.status_code
        if 300 <= status < 400:
            return False, f"{method} {url}: HTTP {status}, a redirect; Brygga does not follow redirects"
        return status < 400, f"{method} {url}: HTTP {status}"
