"""Attachments on their way into the content store: the sink protocol, and strict base64 decoded chunk by chunk.

``Base64Decoder`` turns base64 text, fed in pieces of any size, into bytes written to a ``BlobWriter`` as they come,
so an attachment of 200 MB never exists in memory whole. brygga.xmlread feeds it from XML; the ``attachment``
converter feeds it from JSON.
"""

from __future__ import annotations

import binascii
import hashlib
from typing import Protocol

from lxml import etree

BLOB_NS = "urn:brygga:blob"
BLOB_SHA256 = f"{{{BLOB_NS}}}sha256"
BLOB_SIZE = f"{{{BLOB_NS}}}size"
BLOB_ERROR = f"{{{BLOB_NS}}}error"
DEFAULT_MAX_ATTACHMENT_BYTES = 200 * 1024 * 1024
_WHITESPACE = b" \t\r\n"


class BlobWriter(Protocol):
    def write(self, chunk: bytes) -> None: ...

    def commit(self) -> tuple[str, object]: ...

    def abort(self) -> None: ...


class BlobSink(Protocol):
    """Where decoded attachments go; ``brygga.storage.ContentStore`` is one."""

    def writer(self) -> BlobWriter: ...


class DiscardingSink:
    """Hashes attachments and remembers their sha256, keeping no bytes: for trying a mapping on a file."""

    def __init__(self) -> None:
        self.stored: list[str] = []

    def writer(self) -> BlobWriter:
        return _HashOnly(self.stored)


class _HashOnly:
    def __init__(self, stored: list[str]) -> None:
        self._hash = hashlib.sha256()
        self._stored = stored

    def write(self, chunk: bytes) -> None:
        self._hash.update(chunk)

    def commit(self) -> tuple[str, object]:
        self._stored.append(self._hash.hexdigest())
        return self._stored[-1], None

    def abort(self) -> None:
        pass


class Base64Decoder:
    """Strict base64, decoded chunk by chunk into a blob writer; whitespace (MIME line breaks) is allowed.

    ``finish()`` commits the blob and returns None, or returns why there is none. Over the size limit the bytes
    stop going to the writer (which is aborted) but are still counted, so the reason can say how large it was.
    """

    def __init__(self, writer: BlobWriter, max_bytes: int) -> None:
        self._writer: BlobWriter | None = writer
        self._max = max_bytes
        self._pending = b""
        self._padded = False
        self._invalid = False
        self.size = 0
        self.sha256: str | None = None

    def feed(self, text: str | bytes) -> None:
        if self._invalid:
            return
        if not self._pending and not self._padded:
            try:  # the common case, whole quartets without line breaks: no copies
                self._accept(binascii.a2b_base64(text, strict_mode=True), text)
                return
            except (binascii.Error, ValueError):
                pass
        data = text.encode("ascii", "replace") if isinstance(text, str) else text
        data = self._pending + data.translate(None, _WHITESPACE)
        usable = len(data) - len(data) % 4
        self._pending = data[usable:]
        if usable:
            self._decode(data[:usable])

    def _decode(self, quartets: bytes) -> None:
        if self._padded:  # padding ends base64; anything after it is corruption
            self._invalidate()
            return
        try:
            decoded = binascii.a2b_base64(quartets, strict_mode=True)
        except (binascii.Error, ValueError):
            self._invalidate()
            return
        self._accept(decoded, quartets)

    def _accept(self, decoded: bytes, quartets: str | bytes) -> None:
        self._padded = quartets[-1:] in ("=", b"=")
        self.size += len(decoded)
        if self.size > self._max:
            self._drop_writer()
        elif self._writer is not None:
            self._writer.write(decoded)

    def _invalidate(self) -> None:
        self._invalid = True
        self._drop_writer()

    def abort(self) -> None:
        """Give up on this blob (the document failed): no temporary file, no open file is left."""
        self._invalidate()

    def _drop_writer(self) -> None:
        if self._writer is not None:
            self._writer.abort()
            self._writer = None

    def finish(self) -> str | None:
        if self._pending:
            self._invalidate()
        if self._invalid:
            return "EncodedData is not valid base64"
        if self.size > self._max:
            return (f"the attachment is {self.size:,} bytes, over the route's limit of {self._max:,} bytes "
                    "(limits.max_attachment_bytes)")
        if self.size == 0 or self._writer is None:
            self._drop_writer()
            return "File has no EncodedData"
        self.sha256, _ = self._writer.commit()
        return None

    def finish_into(self, element: etree._Element) -> None:
        """Finish, and replace the element's content with the reference (or the reason there is none)."""
        error = self.finish()
        element.text = None
        for child in list(element):
            element.remove(child)
        if error is None:
            element.set(BLOB_SHA256, str(self.sha256))
            element.set(BLOB_SIZE, str(self.size))
        else:
            element.set(BLOB_ERROR, error)
