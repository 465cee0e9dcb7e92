"""PRONOM format identification with FIDO (PyPI: opf-fido), reading only what FIDO's signatures look at.

FIDO's own ``identify_file`` reads container members whole, parses the container signatures again for every file
and writes its results and errors, file paths included, to stdout/stderr. So this module drives FIDO's matcher
itself, with FIDO's own signatures and buffer sizes:

- byte signatures: ``Fido.match_formats``'s matching (``signatures``, compiled once) on the first and the last
  128 KiB of the file;
- container signatures (Office Open XML, OpenDocument, OLE2 formats such as .xls): when the byte signatures say
  ZIP or OLE2, FIDO's container signature sets are matched against at most the first 512 KiB of each named member.

Memory stays flat whatever the file size, nothing is printed or logged, and no path reaches FIDO. Only the PRONOM
signatures are loaded (not FIDO's own ``fido-fmt/...`` extensions), so every key is a real PRONOM PUID. The
signatures are loaded once per process. A file FIDO cannot identify gets no registry key and is named by its
media type.
"""

from __future__ import annotations

import os
import threading
import zipfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree

from brygga.archive.signatures import SignatureMatcher

PRONOM = "PRONOM"


@dataclass(frozen=True)
class FileFormat:
    """A file's format as PREMIS records it: a name, maybe a version, and the PRONOM PUID when one was found."""

    name: str
    version: str | None = None
    puid: str | None = None  # e.g. "fmt/276"; None when FIDO could not identify the file

    @property
    def registry(self) -> str | None:
        return PRONOM if self.puid else None


@dataclass(frozen=True)
class Identifier:
    """The tool that identified the formats, for the PREMIS agent and event."""

    name: str
    version: str
    signatures: str  # e.g. "PRONOM v109: formats-v109.xml, container-signature-20200121.xml"


class _Fido:
    """FIDO with its PRONOM signatures loaded; one per process (see ``_fido``)."""

    def __init__(self) -> None:
        # Imported on first use: code that only names packages (package_objid) never pays for FIDO.
        from fido import CONFIG_DIR, __version__
        from fido.fido import Fido
        from fido.package import Package
        from fido.versions import get_local_versions

        versions = get_local_versions(CONFIG_DIR)
        try:
            self.fido = Fido(quiet=True, nocontainer=True, conf_dir=CONFIG_DIR,
                             format_files=[versions.pronom_signature], handle_matches=_ignore_matches)
        except SystemExit as exc:  # FIDO ends the process when a signature file cannot be parsed
            raise RuntimeError("FIDO's PRONOM signature file cannot be read") from exc
        containers = ElementTree.parse(os.path.join(CONFIG_DIR, versions.pronom_container_signature))
        self.zip_signatures = self.fido.extract_signatures(containers, signature_type="ZIP")
        self.ole_signatures = self.fido.extract_signatures(containers, signature_type="OLE2")
        self.matcher = Package()  # FIDO's own container matching: any signature found in a member's bytes
        self.signatures = SignatureMatcher(self.fido)  # FIDO's byte-signature matching, compiled once
        self.identifier = Identifier("FIDO", __version__, f"PRONOM v{versions.pronom_version}: "
                                     f"{versions.pronom_signature}, {versions.pronom_container_signature}")
        # Fido keeps per-call state on itself, so one file at a time.
        self.lock = threading.Lock()

    def formats(self, handle: IO[bytes]) -> list[Any]:
        """FIDO's format elements for the open file, best first; [] when it finds none."""
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return []  # FIDO's signatures match empty buffers falsely; it never trusts them for an empty file
        bufsize = self.fido.bufsize
        bof = handle.read(bufsize)
        handle.seek(max(0, size - bufsize))
        eof = handle.read(bufsize)
        matches = self.signatures.match(bof, eof)
        with self.lock:
            container = self.fido.container_type(matches)
        if container in ("zip", "ole"):
            handle.seek(0)
            puids = self._zip_puids(handle) if container == "zip" else self._ole_puids(handle)
            if puids:  # as FIDO does: a container match replaces the byte-signature match
                return [self.fido.puid_format_map[puid] for puid in dict.fromkeys(puids)]
        return [fmt for fmt, _ in matches]

    def _match_member(self, data: bytes, puid_map: dict[str, Any]) -> list[str]:
        return self.matcher._process_puid_map(data, puid_map)

    def _zip_puids(self, handle: IO[bytes]) -> list[str]:
        limit = self.fido.container_bufsize
        puids: list[str] = []
        try:
            with zipfile.ZipFile(handle) as archive:
                names = set(archive.namelist())
                for member, puid_map in self.zip_signatures.items():
                    if member in names:
                        with archive.open(member) as stream:
                            puids += self._match_member(stream.read(limit), puid_map)
        except Exception:  # a damaged or odd container is identified by its byte signature alone
            return []
        return puids

    def _ole_puids(self, handle: IO[bytes]) -> list[str]:
        import olefile

        limit = self.fido.container_bufsize
        puids: list[str] = []
        try:
            with olefile.OleFileIO(handle) as ole:
                streams = ["/".join(parts) for parts in ole.listdir()]
                for member, puid_map in self.ole_signatures.items():
                    # FIDO's rule: a stream name may start with a control character, e.g. "\x01CompObj".
                    stream = next((s for s in streams if member in (s, s[1:])), None)
                    if stream is not None:
                        puids += self._match_member(_ole_stream_start(ole, stream, limit), puid_map)
        except Exception:  # as for ZIP
            return []
        return puids


def _ole_stream_start(ole: Any, stream: str, limit: int) -> bytes:
    """At most ``limit`` bytes from the start of an OLE2 stream.

    olefile's ``openstream`` reads a whole stream into memory (a .xls Workbook stream can be most of the file), so
    a larger stream is opened through olefile's sector-chain reader with the size capped, reading only the first
    sectors. Streams over the cap are never in the mini stream, hence ``force_FAT``.
    """
    if ole.get_size(stream) <= limit:
        with ole.openstream(stream) as data:
            return data.read()
    entry = ole.direntries[ole._find(stream)]
    with ole._open(entry.isectStart, limit, force_FAT=True) as data:
        return data.read(limit)


def _ignore_matches(*_args: Any, **_kwargs: Any) -> None:
    """FIDO's default match handler prints; ours is never called, but must not print either."""


@cache
def _fido() -> _Fido:
    return _Fido()


def identifier() -> Identifier:
    return _fido().identifier


def _media_types(fmt: Any) -> set[str]:
    return {part.strip() for mime in fmt.findall("mime") for part in (mime.text or "").split(",") if part.strip()}


def identify(path: Path, media_type: str) -> FileFormat:
    """The PRONOM format of the file at ``path``; ``media_type`` (already cleaned) breaks ties and names the
    format when FIDO finds none.

    FIDO may leave several equally good candidates (e.g. two PDF versions whose signatures both match); the one
    whose PRONOM media type is the declared one is preferred, then FIDO's order, so the choice is stable.
    """
    with Path(path).open("rb") as handle:
        candidates = _fido().formats(handle)
    if not candidates:
        return FileFormat(name=media_type)
    declared = [fmt for fmt in candidates if media_type in _media_types(fmt)]
    best = (declared or candidates)[0]
    return FileFormat(name=best.findtext("name") or media_type, version=best.findtext("version") or None,
                      puid=best.findtext("puid"))
