"""The HTTP side of SOAP calls: zeep's transport on a ``brygga_adapters.http`` session, behind its URL guard.

Every URL the transport touches (the WSDL, anything it imports, the endpoint it posts to) goes through
``brygga_adapters.http.check_url``: the connection's hosts only, and nothing plain-http under an https
connection. A local WSDL (the ``wsdl`` extra naming a file) may import files from its own folder only.
Bodies holding file values are streamed (see ``streaming``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from lxml import etree
from zeep.transports import Transport
from zeep.wsdl.utils import etree_to_string

from brygga.connections import Connection
from brygga_adapters.http import UnsafeUrl, build_session, check_url, timeouts
from brygga_adapters.http.session import USER_AGENT
from brygga_adapters.soap.errors import UnsafeTargetAddress
from brygga_adapters.soap.streaming import FileValue, PendingFileValues, StreamedBody, split_message

# zeep logs every request and response envelope at DEBUG: case data and personnummer. Logging is
# processing of personal data, so those records are dropped whatever level an operator configures.
logging.getLogger("zeep.transports").addFilter(lambda record: record.levelno > logging.DEBUG)


class GuardedTransport(Transport):
    """zeep transport that refuses URLs (and local files) outside what the connection allows."""

    def __init__(self, connection: Connection, local_wsdl_dir: Path | None = None) -> None:
        connect, read = timeouts(connection)
        super().__init__(
            timeout=(connect, read), operation_timeout=(connect, read), session=build_session(connection)
        )
        self.session.headers["User-Agent"] = USER_AGENT  # zeep's constructor put its own there
        self.connection = connection
        self.conn_id = connection.conn_id
        self.local_wsdl_dir = local_wsdl_dir.resolve() if local_wsdl_dir else None
        self.file_values = PendingFileValues()

    def check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() in ("http", "https"):
            try:
                check_url(self.connection, url)
            except UnsafeUrl as exc:
                raise UnsafeTargetAddress(str(exc)) from None
            return
        # Not a web URL: a local file, allowed only inside the folder of a local WSDL.
        path = Path(parts.path if parts.scheme == "file" else url).expanduser().resolve()
        if self.local_wsdl_dir is None or not path.is_relative_to(self.local_wsdl_dir):
            raise UnsafeTargetAddress(
                f"connection {self.conn_id!r}: local file outside the WSDL folder refused (rule: local-wsdl-folder)"
            )

    def add_file_value(self, path: Path, size: int, sha256: str | None = None) -> bytes:
        value = FileValue.create(path, size, sha256)
        self.file_values.add(value)
        return value.placeholder

    def load(self, url: str) -> bytes:
        self.check_url(url)
        return super().load(url)

    def get(self, address: str, params: Any, headers: Any) -> requests.Response:
        self.check_url(address)
        return super().get(address, params, headers)

    def post(self, address: str, message: Any, headers: Any) -> requests.Response:
        self.check_url(address)
        return super().post(address, message, headers)

    def post_xml(self, address: str, envelope: etree._Element, headers: Any) -> requests.Response:
        message = etree_to_string(envelope)
        parts = split_message(message, self.file_values.take())
        if len(parts) == 1:
            return self.post(address, message, headers)
        self.check_url(address)
        # Straight to the session: zeep's post() would try to log the body as text.
        return self.session.post(
            address, data=StreamedBody(parts), headers=headers, timeout=self.operation_timeout
        )
