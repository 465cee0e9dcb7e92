"""The ``attachment`` converter: an Open ePlatform ``File{ID, Name, Size, EncodedData}`` into a reference.

The base64 never reaches the output, nor, for XML, the mapping: ``brygga.xmlread`` moves every ``EncodedData``
into the run's blob sink (the content store) while the document is read, leaving a ``blob:sha256``/``blob:size``
reference (or ``blob:error``) on the element. For a JSON source the converter decodes the text into the sink
itself, in the same strict way. The case carries only ``{sourceId, name, mediaType, size, sha256}``.

The name is the resident's, and targets use it as a file name (ByggR's document, the archive's METS label, a
case officer's download), so it is made safe here, once, before any target sees it (``safe_filename``). The
sha256 stays the file's identity; the name is only a label.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from collections.abc import Callable
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


# Characters Windows forbids in a file name; "/" and "\\" are path separators everywhere.
_FORBIDDEN = frozenset('<>:"/\\|?*')
# Control, format (U+202E RIGHT-TO-LEFT OVERRIDE, zero-width characters, BOM), surrogate, private-use, and line
# and paragraph separators: invisible, or turn a name around on screen ("invoice\u202efdp.exe" shows as "exe.pdf").
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
# Windows device names, reserved with any extension ("NUL.pdf") and with trailing spaces.
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
                      | {f"{dev}{n}" for dev in ("COM", "LPT") for n in "0123456789\u00b9\u00b2\u00b3"})
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,16}")
MAX_FILENAME_BYTES = 240  # UTF-8 bytes: under the 255 of common file systems, room for a target's own suffix
# A name that is already safe, checked in one call: starts with a letter or digit, only word characters and
# harmless punctuation, no trailing dot or space, at most 60 characters (so at most 240 bytes).
_PLAIN = re.compile(r"[^\W_][\w .,()+&'-]{0,59}(?<![ .])")


def _reserved(stem: str) -> bool:
    return stem.partition(".")[0].rstrip(" ").upper() in _RESERVED


def _plain(name: str) -> bool:
    """Already safe: ``safe_filename`` returns it as it is."""
    return _PLAIN.fullmatch(name) is not None and unicodedata.is_normalized("NFC", name) and not _reserved(name)


def safe_filename(name: str, fallback: str = "attachment") -> str:
    """A file name every target can take, derived deterministically from the given one.

    - forbidden characters (``<>:"/\\|?*``) and control/format characters (RTL override, NUL, ...) become ``_``;
    - leading and trailing dots and spaces go (``..`` and ``.hidden``; Windows drops trailing ones anyway);
    - a reserved Windows device name (``CON``, ``NUL.pdf``, ``COM1``) gets a leading ``_``;
    - a name with nothing left but punctuation becomes ``fallback``, keeping the extension;
    - the result is NFC-normalised and at most ``MAX_FILENAME_BYTES`` bytes of UTF-8, keeping the extension.

    ``a|b?c*.pdf`` -> ``a_b_c_.pdf``; ``NUL.pdf`` -> ``_NUL.pdf``; ``..`` -> ``fallback``. A plain name such as
    ``Ritning över tomten.pdf`` is returned as it is.
    """
    if _plain(name):
        return name
    text = "".join("_" if ch in _FORBIDDEN or unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch
                   for ch in unicodedata.normalize("NFC", name))
    text = text.strip(" .")
    stem, dot, ext = text.rpartition(".")
    if not dot or not _EXTENSION.fullmatch(ext):
        stem, ext = text, ""
    stem = stem.rstrip(" .")
    room = MAX_FILENAME_BYTES - (len(ext) + 1 if ext else 0)
    encoded = stem.encode("utf-8")
    if len(encoded) > room:
        stem = unicodedata.normalize("NFC", encoded[:room].decode("utf-8", "ignore")).rstrip(" .")
    if not stem.strip("._- "):
        stem = fallback
    if _reserved(stem):
        stem = "_" + stem
    return f"{stem}.{ext}" if ext else stem


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
    for child in file[::-1]:  # back to front (a slice is cheaper than iterating): the first of each tag wins
        slot = slots.get(child.tag)
        if slot is not None:
            found[slot] = child
    for slot in range(3):
        if found[slot] is not None:
            found[slot] = found[slot].text
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


# `attachment: {size: ...}`: the unit of the declared Size -> bytes per unit (None: the Size is not checked).
SIZE_UNITS: dict[str, int | None] = {
    "bytes": 1, "kB": 1000, "KiB": 1024, "MB": 1000 * 1000, "MiB": 1024 * 1024, "ignore": None,
}


_DECIMAL = re.compile(r"([0-9]+)(?:[.,]([0-9]+))?")
# Longer is no file size (and Python refuses to read an int of over 4300 digits).
_MAX_SIZE_CHARS = 30


def _declared_size(text: str, unit: str) -> tuple[int, int]:
    """The declared Size as (digits, decimals): ``1,5`` -> (15, 1), ``2`` -> (2, 0). An integer for bytes, a decimal
    (point or comma) for the larger units."""
    if unit == "bytes":
        if len(text) > _MAX_SIZE_CHARS or not text.isascii() or not text.isdigit():
            raise ConversionError("File Size is not an integer (bytes)")
        return int(text), 0
    match = _DECIMAL.fullmatch(text)
    if match is None or len(text) > _MAX_SIZE_CHARS:
        raise ConversionError(f"File Size is not a number ({unit})")
    whole, fraction = match.group(1), match.group(2) or ""
    return int(whole + fraction), len(fraction)


def check_size(size: Any, length: int, unit: str = "bytes") -> None:
    """Compare a declared ``Size`` with the decoded length; a blank or missing Size is not checked.

    In bytes the sizes must be equal. In a larger unit the declared number is rounded (or truncated: platforms
    differ) to the precision it is written with, so the decoded size must lie *less than* one step of that
    precision away from declared × unit: ``2`` kB matches 1001-2999 bytes, ``1,5`` MB 1,400,001-1,599,999. Computed
    in integers, so no rounding of our own moves a boundary. The problem names both sizes: a file size is not
    personal data, and it tells an integrator at once whether the unit is wrong.
    """
    factor = SIZE_UNITS[unit]
    if factor is None:
        return
    text = str(size).strip() if size is not None else ""
    if not text:
        return
    digits, decimals = _declared_size(text, unit)
    if unit == "bytes":
        if digits == length:
            return
    else:
        # |length - digits / 10**decimals * factor| < factor / 10**decimals, times 10**decimals:
        if abs(length * 10**decimals - digits * factor) < factor:
            return
    shown = f"{digits}" if not decimals else f"{digits / 10**decimals:g}"
    raise ConversionError(f"File Size does not match the decoded file: declared Size {shown} ({unit}) but the "
                          f"decoded file is {length} bytes")


def make_attachment(size_unit: str = "bytes") -> Callable[[Any, Any], dict[str, Any]]:
    """The converter for ``convert: attachment`` with ``attachment: {size: <unit>}``."""
    if size_unit == "bytes":
        return convert_attachment

    def convert(value: Any, run: Any) -> dict[str, Any]:
        return convert_attachment(value, run, size_unit)

    return convert


def convert_attachment(value: Any, run: Any, size_unit: str = "bytes") -> dict[str, Any]:
    json = isinstance(value, dict)
    if json:
        source_id, name, size, encoded = (value.get(k) for k in _FIELD_NAMES)
    else:
        source_id, name, size, encoded = _xml_fields(value)
    name = (str(name).strip() if name is not None else "") or None
    if encoded is None or (json and not str(encoded).strip()):
        raise ConversionError("File has no EncodedData")
    if name is None:
        raise ConversionError("File has no Name")
    digest, length = _decoded_blob(encoded, run) if json else _stored_blob(encoded)
    # The usual Size, plain digits in bytes that match, needs none of check_size's parsing.
    if not (size_unit == "bytes" and size.__class__ is str and len(size) <= _MAX_SIZE_CHARS and size.isascii()
            and size.isdigit() and int(size) == length):
        check_size(size, length, size_unit)
    ref: dict[str, Any] = {}
    if source_id is not None:
        source_id = str(source_id).strip()
        if source_id:
            ref["sourceId"] = source_id
    if not _plain(name):
        name = safe_filename(name, fallback=f"attachment-{digest[:12]}")
    ref["name"] = name
    ref["mediaType"] = media_type(name)
    ref["size"] = length
    ref["sha256"] = digest
    return ref
