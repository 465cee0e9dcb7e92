"""Reading a document back over SOAP as a stream, for the documents-intact checks of the SOAP profiles.

``call_raw`` parses a reply whole, within libxml2's 10 MB limit on one text node: a GetDocument reply carrying a
drawing of more than about 7 MB (its base64 is 4/3 of it) fails there. Here the reply is read as it arrives
(brygga.xmlread): the file's base64 is decoded and hashed chunk by chunk and never held, so a 50 MB drawing costs
no more memory than a small one. What the check needs is its sha256 and size (``FileDigest``).

The reply is still seen by the profile's reply log (a response hook on the service's session) for the reply-shape
check: its body there is the envelope with the file's text left out, so every element but the file's bytes is
validated against the contract as any other reply is.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests
from lxml import etree
from zeep.wsdl.utils import etree_to_string

from brygga.blobs import BLOB_ERROR, BLOB_NS, BLOB_SHA256, BLOB_SIZE, DEFAULT_MAX_ATTACHMENT_BYTES, DiscardingSink
from brygga.errors import BryggaError, TargetRejected
from brygga.xmlread import FEED_CHUNK, read_xml
from brygga.xmlsafe import UnsafeOrMalformedXml
from brygga_adapters.http.answers import read_capped
from brygga_adapters.soap import SoapService, map_soap_error
from brygga_adapters.soap.envelope import is_soap_envelope
from brygga_adapters.soap.errors import NotSoapReply, ReplyTooLarge
from brygga_adapters.soap.raw import reply_payload
from brygga_adapters.soap.transport import MAX_REPLY_BYTES

MAX_FILE_BYTES = DEFAULT_MAX_ATTACHMENT_BYTES  # a file read back over this is a finding, not read further
_CHUNK = 64 * 1024
_HEAD = 4 * 1024  # enough of the reply to see whether it opens with a SOAP envelope


class UnreadableFile(TargetRejected):
    """A file element that gives no file; the message says why, never a value."""


@dataclass(frozen=True)
class FileDigest:
    sha256: str
    size: int


def call_streamed(service: SoapService, operation: str, binary: str, **kwargs: Any) -> etree._Element:
    """``operation`` called as ``call_raw`` calls it (the request built by zeep, WS-Security included; faults and
    HTTP errors raised as Brygga's errors), its reply read as a stream: the Body's payload element, each element
    named ``binary`` holding the digest of its file instead of its text (read it with ``file_digest``)."""
    where = f"{service.name}.{operation}"
    try:
        envelope, headers = service.proxy._binding._create(operation, (), kwargs, client=service.client,
                                                           options=service.proxy._binding_options)
        service.transport.check_url(service.endpoint)
        with service.transport.session.post(service.endpoint, data=etree_to_string(envelope), headers=headers,
                                            timeout=service.transport.operation_timeout, stream=True) as response:
            try:
                return _read(response, binary, where)
            finally:
                if response._content is False:  # requests' marker of a body never kept: the reply log finds none
                    _keep(response, b"")
    except BryggaError:
        raise
    except Exception as exc:
        raise map_soap_error(service.name, operation, exc) from None


def file_digest(element: etree._Element) -> FileDigest:
    """The digest ``call_streamed`` left on a binary element; UnreadableFile when there is no file."""
    error = element.get(BLOB_ERROR)
    if error is None:
        return FileDigest(element.get(BLOB_SHA256, ""), int(element.get(BLOB_SIZE, "0")))
    # brygga.blobs.Base64Decoder's reasons, in this check's words.
    if "over" in error and "limit" in error:
        raise UnreadableFile(f"the file is over the kit's limit of {MAX_FILE_BYTES} bytes; it was not read further")
    if error.startswith("File has no"):
        raise UnreadableFile("the file is empty")
    raise UnreadableFile("the file is not valid base64")


def _read(response: requests.Response, binary: str, where: str) -> etree._Element:
    if response.status_code != 200:  # a fault or an error page: small, read as call_raw reads it
        content = read_capped(response, MAX_REPLY_BYTES, too_big=lambda: ReplyTooLarge(MAX_REPLY_BYTES),
                              broken=lambda exc: exc)
        _keep(response, content)
        return reply_payload(response.status_code, content, where)  # raises
    chunks = response.iter_content(_CHUNK)
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= _HEAD:
            break
    if not is_soap_envelope(head):
        _keep(response, head)
        raise NotSoapReply()
    try:
        root = read_xml(io.BufferedReader(_Chunks(head, chunks), FEED_CHUNK), sink=DiscardingSink(),
                        binary_names={binary}, max_attachment_bytes=MAX_FILE_BYTES, source_name=f"{where} reply")
    except UnsafeOrMalformedXml as exc:
        raise TargetRejected(f"{where}: unsafe or malformed XML in the answer "
                             f"({str(exc).partition(': ')[2][:200] or 'malformed'})") from None
    _keep(response, _without_files(root))
    return reply_payload(200, etree.tostring(root), where)  # the envelope is small now: faults as call_raw finds them


def _without_files(root: etree._Element) -> bytes:
    """The envelope as it came, but the files' text, which was never held."""
    shown = copy.deepcopy(root)
    for element in shown.iter():
        if isinstance(element.tag, str):
            for name in [n for n in element.attrib if n.startswith(f"{{{BLOB_NS}}}")]:
                del element.attrib[name]
    etree.cleanup_namespaces(shown)
    return etree.tostring(shown, xml_declaration=True, encoding="utf-8")


def _keep(response: requests.Response, body: bytes) -> None:
    # The body the reply log finds on the response: requests serves ``_content`` once it is set.
    response._content = body
    response._content_consumed = True


class _Chunks(io.RawIOBase):
    """The chunks of a streamed answer as a file: what was read already, then the rest as it arrives."""

    def __init__(self, head: bytes, rest: Iterator[bytes]) -> None:
        self._pending = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if not self._pending:
            self._pending = next(self._rest, b"")
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size
