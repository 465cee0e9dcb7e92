"""The ``attachment`` converter: an Open ePlatform ``File{ID, Name, Size, EncodedData}`` into a reference.

The base64 never reaches the output: the bytes go to the run's ``attachment_sink(sha256, data)`` (content-
addressed, so a replay stores nothing twice) and the case carries only
``{sourceId, name, mediaType, size, sha256}``.
"""

from __future__ import annotations

import binascii
import mimetypes
from binascii import a2b_base64
from hashlib import sha256
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


_FIELD_NAMES = ("ID", "Name", "Size", "EncodedData")
# File element tag -> the Clark tags of its fields (they share the File element's namespace). Bounded: a
# handful of namespaces exist in practice, and tags come from documents.
_FIELD_TAGS: dict[str, tuple[str, ...]] = {}


def _field_tags(tag: str) -> tuple[str, ...]:
    tags = _FIELD_TAGS.get(tag)
    if tags is None:
        namespace = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
        tags = tuple(namespace + name for name in _FIELD_NAMES)
        if len(_FIELD_TAGS) < 64:
            _FIELD_TAGS[tag] = tags
    return tags


def _fields(value: Any) -> list[Any]:
    """[ID, Name, Size, EncodedData] from an XML ``File`` element or a dict with the same keys."""
    if isinstance(value, dict):
        return [value.get("ID"), value.get("Name"), value.get("Size"), value.get("EncodedData")]
    tag = getattr(value, "tag", None)
    if not isinstance(tag, str):
        raise ConversionError("attachment needs a File element (ID, Name, Size, EncodedData)")
    tags = _field_tags(tag)
    children = {child.tag: child for child in value[::-1]}  # back to front: the first child of a tag wins
    if len(children) == len(value):  # no tag twice: each field is its only child, or missing
        return [None if (child := children.get(t)) is None else child.text for t in tags]
    # A repeated field element: the first one that has text counts.
    found: list[Any] = [None, None, None, None]
    slots = {t: i for i, t in enumerate(tags)}
    for child in value:
        slot = slots.get(child.tag)
        if slot is not None and found[slot] is None:
            found[slot] = child.text
    return found


def _decode(encoded: str) -> bytes:
    # b64decode(validate=True) is this call behind a Python wrapper; a2b_base64 takes ASCII text as it is.
    try:
        return a2b_base64(encoded, strict_mode=True)
    except (binascii.Error, ValueError):
        pass
    # Line-wrapped (MIME style) base64 is legal in practice; strip whitespace only on this slower path.
    try:
        return a2b_base64("".join(encoded.split()), strict_mode=True)
    except (binascii.Error, ValueError):
        raise ConversionError("EncodedData is not valid base64") from None


def convert_attachment(value: Any, run: Any) -> dict[str, Any]:
    source_id, name, size, encoded = _fields(value)
    if encoded is None:
        raise ConversionError("File has no EncodedData")
    encoded = str(encoded)
    if not encoded or encoded.isspace():
        raise ConversionError("File has no EncodedData")
    name = (str(name).strip() if name is not None else "") or None
    if name is None:
        raise ConversionError("File has no Name")
    data = _decode(encoded)
    size_text = str(size).strip() if size is not None else ""
    if size_text:
        try:
            declared = int(size_text)
        except ValueError:
            raise ConversionError("File Size is not an integer") from None
        if declared != len(data):
            raise ConversionError("File Size does not match the length of the decoded EncodedData")
    digest = sha256(data).hexdigest()
    sink = run.attachment_sink
    if sink is not None:
        sink(digest, data)
    ref: dict[str, Any] = {}
    if source_id is not None:
        source_id = str(source_id).strip()
        if source_id:
            ref["sourceId"] = source_id
    ref["name"] = name
    ref["mediaType"] = media_type(name)
    ref["size"] = len(data)
    ref["sha256"] = digest
    return ref
