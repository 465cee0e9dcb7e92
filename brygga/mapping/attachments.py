"""The ``attachment`` converter: an Open ePlatform ``File{ID, Name, Size, EncodedData}`` into a reference.

The base64 never reaches the output, nor, for XML, the mapping: ``brygga.xmlread`` moves every ``EncodedData``
into the run's blob sink (the content store) while the document is read, leaving a ``blob:sha256``/``blob:size``
reference (or ``blob:error``) on the element. For a JSON source the converter decodes the text into the sink
itself, in the same strict way. The case carries only ``{sourceId, name, mediaType, size, sha256}``.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from brygga.blobs import BLOB_ERROR, BLOB_SHA256, BLOB_SIZE, Base64Decoder, DiscardingSink
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
# File element tag -> {Clark tag of each field: its slot} (the fields share the File element's namespace).
# Bounded: a handful of namespaces exist in practice, and tags come from documents.
_FIELD_SLOTS: dict[str, dict[str, int]] = {}


def _field_slots(tag: str) -> dict[str, int]:
    slots = _FIELD_SLOTS.get(tag)
    if slots is None:
        namespace = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
        slots = {namespace + name: slot for slot, name in enumerate(_FIELD_NAMES)}
        if len(_FIELD_SLOTS) < 64:
            _FIELD_SLOTS[tag] = slots
    return slots


def _xml_fields(file: Any) -> list[Any]:
    """[ID text, Name text, Size text, EncodedData element] of a ``File`` element; the first of each counts."""
    tag = getattr(file, "tag", None)
    if not isinstance(tag, str):
        raise ConversionError("attachment needs a File element (ID, Name, Size, EncodedData)")
    slots = _field_slots(tag)
    found: list[Any] = [None, None, None, None]
    for child in file:
        slot = slots.get(child.tag)
        if slot is None or found[slot] is not None:
            continue
        found[slot] = child if slot == 3 else child.text
    return found


def _stored_blob(encoded: Any) -> tuple[str, int]:
    """The (sha256, size) reference brygga.xmlread left on an ``EncodedData`` element."""
    if encoded is None:
        raise ConversionError("File has no EncodedData")
    error = encoded.get(BLOB_ERROR)
    if error:
        raise ConversionError(error)
    sha256, size = encoded.get(BLOB_SHA256), encoded.get(BLOB_SIZE)
    if sha256 is None or size is None:
        # Only an element built by hand, not read with brygga.xmlread, can get here.
        raise ConversionError("EncodedData was not read with brygga.xmlread (no stored blob)")
    return sha256, int(size)


def _decoded_blob(encoded: Any, run: Any) -> tuple[str, int]:
    """Decode a JSON source's base64 text into the run's sink, strictly, as the XML reader does."""
    if encoded is None or not str(encoded).strip():
        raise ConversionError("File has no EncodedData")
    sink = run.blob_sink if run.blob_sink is not None else DiscardingSink()
    decoder = Base64Decoder(sink.writer(), run.max_attachment_bytes)
    decoder.feed(str(encoded))
    error = decoder.finish()
    if error is not None:
        raise ConversionError(error)
    return str(decoder.sha256), decoder.size


def convert_attachment(value: Any, run: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        source_id, name, size, encoded = (value.get(k) for k in _FIELD_NAMES)
    else:
        source_id, name, size, encoded = _xml_fields(value)
    name = (str(name).strip() if name is not None else "") or None
    if encoded is None or (isinstance(value, dict) and not str(encoded).strip()):
        raise ConversionError("File has no EncodedData")
    if name is None:
        raise ConversionError("File has no Name")
    digest, length = _decoded_blob(encoded, run) if isinstance(value, dict) else _stored_blob(encoded)
    size_text = str(size).strip() if size is not None else ""
    if size_text:
        try:
            declared = int(size_text)
        except ValueError:
            raise ConversionError("File Size is not an integer") from None
        if declared != length:
            raise ConversionError("File Size does not match the length of the decoded EncodedData")
    ref: dict[str, Any] = {}
    if source_id is not None:
        source_id = str(source_id).strip()
        if source_id:
            ref["sourceId"] = source_id
    ref["name"] = name
    ref["mediaType"] = media_type(name)
    ref["size"] = length
    ref["sha256"] = digest
    return ref
