"""The ``attachment`` converter: an Open ePlatform ``File{ID, Name, Size, EncodedData}`` into a reference.

The base64 never reaches the output: the bytes go to the run's ``attachment_sink(sha256, data)`` (content-
addressed, so a replay stores nothing twice) and the case carries only
``{sourceId, name, mediaType, size, sha256}``.
"""

from __future__ import annotations

import binascii
import hashlib
import mimetypes
from base64 import b64decode
from typing import Any

from brygga.mapping.errors import ConversionError

# A private table built from Python's defaults only: the global `mimetypes` also reads /etc/mime.types,
# which would make the same submission map to different media types on different machines.
_MEDIA_TYPES: dict[str, str] = dict(mimetypes.MimeTypes().types_map[True])
# Common in municipal submissions but missing from Python's defaults.
_MEDIA_TYPES.update({
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".heic": "image/heic",
    ".dwg": "image/vnd.dwg",
})
FALLBACK_MEDIA_TYPE = "application/octet-stream"


def media_type(name: str) -> str:
    """Guess from the extension only; the content is never sniffed."""
    dot = name.rfind(".")
    if dot < 0:
        return FALLBACK_MEDIA_TYPE
    return _MEDIA_TYPES.get(name[dot:].lower(), FALLBACK_MEDIA_TYPE)


_SLOTS = {"ID": 0, "Name": 1, "Size": 2, "EncodedData": 3}
_SLOTS_BY_NAMESPACE: dict[str, dict[str, int]] = {}


def _slots(namespace: str) -> dict[str, int]:
    """Clark tag -> field slot, built once per namespace (a handful of namespaces exist in practice)."""
    slots = _SLOTS_BY_NAMESPACE.get(namespace)
    if slots is None:
        slots = _SLOTS_BY_NAMESPACE[namespace] = {namespace + name: i for name, i in _SLOTS.items()}
    return slots


def _fields(value: Any) -> list[Any]:
    """[ID, Name, Size, EncodedData] from an XML ``File`` element or a dict with the same keys."""
    if isinstance(value, dict):
        return [value.get("ID"), value.get("Name"), value.get("Size"), value.get("EncodedData")]
    tag = getattr(value, "tag", None)
    if not isinstance(tag, str):
        raise ConversionError("attachment needs a File element (ID, Name, Size, EncodedData)")
    # The children share the File element's namespace.
    slots = _slots(tag[: tag.index("}") + 1] if tag.startswith("{") else "")
    found: list[Any] = [None, None, None, None]
    for child in value:
        slot = slots.get(child.tag)
        if slot is not None and found[slot] is None:
            found[slot] = child.text
    return found


def _decode(encoded: str) -> bytes:
    try:
        return b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        pass
    # Line-wrapped (MIME style) base64 is legal in practice; strip whitespace only on this slower path.
    try:
        return b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ConversionError("EncodedData is not valid base64") from None


def convert_attachment(value: Any, run: Any) -> dict[str, Any]:
    source_id, name, size, encoded = _fields(value)
    if encoded is None or not str(encoded).strip():
        raise ConversionError("File has no EncodedData")
    name = (str(name).strip() if name is not None else "") or None
    if name is None:
        raise ConversionError("File has no Name")
    data = _decode(str(encoded))
    if size is not None and str(size).strip():
        try:
            declared = int(str(size).strip())
        except ValueError:
            raise ConversionError("File Size is not an integer") from None
        if declared != len(data):
            raise ConversionError("File Size does not match the length of the decoded EncodedData")
    digest = hashlib.sha256(data).hexdigest()
    sink = run.attachment_sink
    if sink is not None:
        sink(digest, data)
    ref: dict[str, Any] = {}
    if source_id is not None and str(source_id).strip():
        ref["sourceId"] = str(source_id).strip()
    ref["name"] = name
    ref["mediaType"] = media_type(name)
    ref["size"] = len(data)
    ref["sha256"] = digest
    return ref
