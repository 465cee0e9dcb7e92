"""Documents on their way to a REST target: verified first, then streamed (upload) or base64 in the body (embedded).

Verification is ``brygga_adapters.documents.verify_all``: each stored file is hashed in chunks and refused
unless its sha256 and size match what intake recorded, before anything is sent. An upload then streams the file
from disk as the raw request body (a 50 MB drawing never sits in memory) with ``Repr-Digest`` (RFC 9530), so the
target can check the bytes it got.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from typing import Any
from urllib.parse import quote

from brygga.errors import TargetRejected
from brygga_adapters.documents import CHUNK_BYTES, VerifiedDocument, verify_all
from brygga_adapters.rest import pointers

_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}")
# A multiple of 3, so the base64 of each chunk joins without padding in between.
_BASE64_CHUNK = 3 * (CHUNK_BYTES // 3)

__all__ = ["VerifiedDocument", "embed", "upload_headers", "verify_all"]


def upload_headers(document: VerifiedDocument, media_type: str, idempotency: tuple[str, str] | None) -> dict[str, str]:
    digest = base64.b64encode(bytes.fromhex(document.sha256)).decode("ascii")
    headers = {
        # The media type was declared with the upload: only a well-formed one goes into a header.
        "Content-Type": media_type if _MEDIA_TYPE.fullmatch(media_type or "") else "application/octet-stream",
        # RFC 6266 / 8187: the name as UTF-8, percent-encoded; it came from a resident's upload.
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(document.name, safe='')}",
        "Repr-Digest": f"sha-256=:{digest}:",
        "Content-Length": str(document.size),
    }
    if idempotency is not None:
        header, key = idempotency
        headers[header] = f"{key}:{document.sha256}"
    return headers


def embed(
    body: dict[str, Any],
    items_pointer: str,
    content_field: str,
    documents: list[VerifiedDocument],
    where: str,
) -> tuple[dict[str, Any], int]:
    """A copy of ``body`` with each item's ``content_field`` (a sha256 the mapping put there) replaced by the base64
    of that verified document; and how many were embedded. The whole base64 sits in memory (4/3 of the files)."""
    items = pointers.get(body, items_pointer)
    if items is pointers.MISSING or items is None:
        return body, 0
    if not isinstance(items, list):
        raise TargetRejected(f"{where}: attachments/items {items_pointer!r} is not an array (rule: embedded)")
    by_digest = {document.sha256: document for document in documents}
    embedded = copy.deepcopy(body)
    target_items = pointers.get(embedded, items_pointer)
    for index, item in enumerate(target_items):
        digest = item.get(content_field) if isinstance(item, dict) else None
        document = by_digest.get(digest.lower()) if isinstance(digest, str) else None
        if document is None:
            raise TargetRejected(
                f"{where}: attachment item {index} field {content_field!r} names no document of this submission "
                "(rule: embedded items carry a document's sha256)"
            )
        item[content_field] = _base64(document, where)
    return embedded, len(target_items)


def _base64(document: VerifiedDocument, where: str) -> str:
    # Read a second time after verify_all: hashed again, so a file changed in between is never sent.
    digest = hashlib.sha256()
    parts: list[str] = []
    with document.path.open("rb") as stored:
        for chunk in iter(lambda: stored.read(_BASE64_CHUNK), b""):
            digest.update(chunk)
            parts.append(base64.b64encode(chunk).decode("ascii"))
    if digest.hexdigest() != document.sha256:
        raise TargetRejected(f"{where}: document {document.position}: stored content changed while being sent "
                             "(rule: sha256)")
    return "".join(parts)
