"""Names inside the package: the stable OBJID and the generated file names.

Nothing a submitter typed ever becomes a path. Attachment files are named from their position and hash, and
their submitted name is kept only as metadata (PREMIS originalName, ERMS record title).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

# Fixed namespace, so the same case gives the same OBJID on every machine and in every run.
_OBJID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:brygga:archive:objid")

_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

_EXTENSIONS = {
    "application/pdf": "pdf",
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/plain": "txt",
    "text/csv": "csv",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/tiff": "tif",
    "image/gif": "gif",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
    "application/zip": "zip",
}


class ArchiveInputError(ValueError):
    """The case or a document cannot be packaged as given (missing source reference, hash mismatch, ...)."""


def package_objid(case: dict[str, Any], revision: int = 1, held_by: str | None = None) -> str:
    """``brygga-<uuid5>`` of tenant, source system and source reference: stable across rebuilds.

    The tenant is part of the key because two municipalities may run e-service platforms whose ids overlap.
    Revision 1 keeps the key packages have always had; each later revision (a komplettering) adds its number, so
    it gets an id of its own that is just as stable. ``held_by`` is the kommunkod of another kommun whose archive
    gets a package of the same case (a shared service): its package has an id of its own too.
    """
    if isinstance(revision, bool) or not isinstance(revision, int) or revision < 1:
        raise ArchiveInputError("revision must be a whole number from 1")
    source = case.get("source") or {}
    system, reference = source.get("system"), source.get("reference")
    if not system or not reference:
        raise ArchiveInputError("the case has no source.system/source.reference to derive a package id from")
    kommunkod = (case.get("tenant") or {}).get("kommunkod", "")
    parts = [str(kommunkod), str(system), str(reference)]
    if revision > 1:
        parts.append(f"revision:{revision}")
    if held_by:
        parts.append(f"held-by:{held_by}")
    key = "\x1f".join(parts)
    return f"brygga-{uuid.uuid5(_OBJID_NAMESPACE, key)}"


def clean_media_type(media_type: str | None) -> str:
    """A bare ``type/subtype`` in lower case, or ``application/octet-stream`` for anything odd."""
    bare = (media_type or "").split(";", 1)[0].strip().lower()
    return bare if _MEDIA_TYPE.match(bare) else "application/octet-stream"


def extension_for(media_type: str) -> str:
    return _EXTENSIONS.get(media_type, "bin")


def attachment_file_name(index: int, sha256: str, media_type: str) -> str:
    """``<index>-<sha256 prefix>.<ext>``, e.g. ``001-3f2a9c0d41be.pdf``."""
    if not _SHA256.match(sha256):
        raise ArchiveInputError(f"document {index}: sha256 is not 64 lower-case hex digits")
    return f"{index:03d}-{sha256[:12]}.{extension_for(media_type)}"
