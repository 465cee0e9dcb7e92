"""The HTTP side of SOAP calls: zeep's transport on a ``brygga_adapters.http`` session, behind its URL guard.

Every URL the transport touches (the WSDL, anything it imports, the endpoint it posts to) goes through
``brygga_adapters.http.check_url``: the connection's hosts only, nothing plain-http under an https connection,
and no link-local or metadata address (the session checks what a host name resolves to as it sends).
A local WSDL (the ``wsdl`` extra naming a file) may import files from its own folder only.
Bodies holding file values are streamed (see ``streaming``).

A call's reply is streamed too: read in chunks, and given up once over ``MAX_REPLY_BYTES``, so a broken or
hostile endpoint cannot make the worker read gigabytes. An HTTP 200 that is no SOAP envelope at all (a proxy's
maintenance page, an empty body) is refused here, so ``call`` and ``call_raw`` class it alike. The WSDL (and each
schema it imports) is read the same way, capped; an HTML page in its place (a login or maintenance page) is named
as such, not as malformed XML.
"""

from __future__ import annotations

import logging
import re
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from lxml import etree
from zeep.transports import Transport
from zeep.wsdl.utils import etree_to_string

from brygga.connections import Connection
from brygga.errors import TargetRejected, TargetUnavailable
from brygga.xmlsafe import DEFAULT_MAX_BYTES
from brygga_adapters.http import UnsafeUrl, build_session, check_url, timeouts
from brygga_adapters.http.session import USER_AGENT
from brygga_adapters.soap.envelope import is_soap_envelope
from brygga_adapters.soap.errors import NotSoapReply, ReplyTooLarge, UnsafeTargetAddress
from brygga_adapters.soap.streaming import FileValue, PendingFileValues, StreamedBody, split_message

# zeep logs every request and response envelope at DEBUG: case data and personnummer. Logging is
# processing of personal data, so those records are dropped whatever level an operator configures.
logging.getLogger("zeep.transports").addFilter(lambda record: record.levelno > logging.DEBUG)

# A reply is metadata, or one document at most.
MAX_REPLY_BYTES = DEFAULT_MAX_BYTES
_REPLY_CHUNK_BYTES = 64 * 1024
# An HTML page: its doctype or root element, after an optional XML declaration, comments and white space.
_HTML = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]",
                   re.IGNORECASE | re.DOTALL)


class GuardedTransport(Transport):
    """zeep transport that refuses URLs (and local files) outside what the connection allows."""

    def __init__(self, connection: Connection, local_wsdl_dir: Path | None = None, *, http_auth: bool = True) -> None:
        connect, read = timeouts(connection)
        session = build_session(connection, http_auth=http_auth)
        session.refusal = UnsafeTargetAddress  # what the session's own checks raise, as check_url below does
        super().__init__(timeout=(connect, read), operation_timeout=(connect, read), session=session)
        self.session.headers["User-Agent"] = USER_AGENT  # zeep's constructor put its own there
        self.connection = connection
        self.conn_id = connection.conn_id
        self.local_wsdl_dir = local_wsdl_dir.resolve() if local_wsdl_dir else None
        self.file_values = PendingFileValues()
        self.max_reply_bytes = MAX_REPLY_BYTES

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

    def _load_remote_data(self, url: str) -> bytes:
        # zeep's own reads the whole body however large: an endless ?wsdl answer would fill the memory.
        with closing(self.session.get(url, timeout=self.load_timeout, stream=True)) as response:
            response.raise_for_status()
            try:
                _read_capped(response, self.max_reply_bytes)
            except ReplyTooLarge:
                raise TargetRejected(
                    f"connection {self.conn_id!r}: {url} (the WSDL or a schema it imports) is over the limit of "
                    f"{self.max_reply_bytes} bytes; it was not read further"
                ) from None
        content = response.content
        if _HTML.match(content[:4096]):
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip() or "no Content-Type"
            raise TargetUnavailable(
                f"connection {self.conn_id!r}: {url} answered {media_type}, not a WSDL (a login or maintenance page?)"
            )
        return content

    def get(self, address: str, params: Any, headers: Any) -> requests.Response:
        self.check_url(address)
        return super().get(address, params, headers)

    def post(self, address: str, message: Any, headers: Any) -> requests.Response:
        self.check_url(address)
        return self._post(address, message, headers)

    def post_xml(self, address: str, envelope: etree._Element, headers: Any) -> requests.Response:
        message = etree_to_string(envelope)
        parts = split_message(message, self.file_values.take())
        if len(parts) == 1:
            return self.post(address, message, headers)
        self.check_url(address)
        return self._post(address, StreamedBody(parts), headers)

    def _post(self, address: str, data: Any, headers: Any) -> requests.Response:
        # Not zeep's post(): it would log the body, and read the whole reply however large.
        response = self.session.post(
            address, data=data, headers=headers, timeout=self.operation_timeout, stream=True
        )
        _read_capped(response, self.max_reply_bytes)
        # zeep reads a multipart (MTOM) reply itself; anything else must open as a SOAP envelope.
        multipart = response.headers.get("Content-Type", "").lower().startswith("multipart/")
        if response.status_code == 200 and not multipart and not is_soap_envelope(response.content):
            raise NotSoapReply()
        return response


def _read_capped(response: requests.Response, limit: int) -> None:
    """Read the body in chunks, giving up (and dropping the connection) once over ``limit`` bytes. zeep and
    ``call_raw`` then find it in ``response.content`` as usual."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(_REPLY_CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise ReplyTooLarge(limit)
            chunks.append(chunk)
    finally:
        response.close()
    response._content = b"".join(chunks)  # what .content returns; requests' own cache of the body
