"""verify_package: the checks eark-validator 1.1.3 does not do (its -r and -c flags do nothing).

For the root METS and every representation METS: each file/mdRef/mptr target exists inside the package, its
SIZE and CHECKSUM match the bytes on disk, no file in the package is left unreferenced, no symbolic link is in it,
and each METS's OBJID equals its folder name.

verify_written: the same checks on a package just written, at a fraction of the cost. The METS files are read and
every reference checked as above, and every file's size is taken from the disk, but each CHECKSUM is compared with
the sha256 computed from the bytes as they were written (``build_sip``), not by reading the file back; a file the
writer did not record, or a checksum of another kind, is read and hashed as verify_package does. So it catches a
missing, truncated, extended, unreferenced or misdescribed file and a METS whose checksum is not that of the bytes
written; it does not catch a file whose bytes changed on disk after writing at the same size (only reading every
byte back does, which verify_package still does for a package found already in place).
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from lxml import etree

from brygga.archive.common import METS_NS, XLINK_NS, safe_parser

_NS = {"mets": METS_NS, "xlink": XLINK_NS}
_HREF = f"{{{XLINK_NS}}}href"
_ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


def _digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _rel(path: Path, package: Path) -> str:
    return path.relative_to(package).as_posix()


class _MetsCheck:
    def __init__(self, package: Path) -> None:
        self.package = package.resolve()
        self.problems: list[str] = []
        self.referenced: set[Path] = set()

    def _resolve(self, mets_rel: str, base: Path, href: str | None) -> Path | None:
        if not href:
            self.problems.append(f"{mets_rel}: a reference without xlink:href")
            return None
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith("/"):
            self.problems.append(f"{mets_rel}: {href!r} is not a relative path inside the package")
            return None
        target = self._join(base, unquote(parts.path))
        if not target.is_relative_to(self.package):
            self.problems.append(f"{mets_rel}: {href!r} points outside the package")
            return None
        return target

    def _join(self, base: Path, relative: str) -> Path:
        return (base / relative).resolve()

    def _check_fixity(self, mets_rel: str, element: etree._Element, target: Path) -> None:
        rel = _rel(target, self.package)
        size, checksum, kind = element.get("SIZE"), element.get("CHECKSUM"), element.get("CHECKSUMTYPE")
        if size is None or checksum is None or kind is None:
            self.problems.append(f"{mets_rel}: {rel} has no SIZE, CHECKSUM or CHECKSUMTYPE")
            return
        actual_size = target.stat().st_size
        if str(actual_size) != size:
            self.problems.append(f"{mets_rel}: {rel} size mismatch: METS says {size}, file has {actual_size}")
        algorithm = _ALGORITHMS.get(kind.upper())
        if algorithm is None:
            self.problems.append(f"{mets_rel}: {rel} has unsupported CHECKSUMTYPE {kind!r}")
        elif _digest(target, algorithm) != checksum.lower():
            self.problems.append(f"{mets_rel}: {rel} checksum mismatch ({kind} in METS differs from the file)")

    def check(self, mets_path: Path, expected_objid: str) -> list[Path]:
        """Check one METS document; return the representation METS files it points to."""
        mets_rel = _rel(mets_path, self.package)
        try:
            root = etree.parse(str(mets_path), safe_parser()).getroot()
        except (OSError, etree.XMLSyntaxError) as exc:
            self.problems.append(f"{mets_rel}: cannot be read as XML ({exc})")
            return []
        objid = root.get("OBJID")
        if objid != expected_objid:
            self.problems.append(f"{mets_rel}: OBJID {objid!r} does not equal the folder name {expected_objid!r}")
        base = mets_path.parent
        for element in root.iterfind(".//mets:file", _NS):
            locats = element.findall("mets:FLocat", _NS)
            if not locats:
                self.problems.append(f"{mets_rel}: file {element.get('ID')!r} has no FLocat")
            for locat in locats:
                self._reference(mets_rel, base, locat.get(_HREF), element)
        for element in root.iterfind(".//mets:mdRef", _NS):
            self._reference(mets_rel, base, element.get(_HREF), element)
        children = []
        for element in root.iterfind(".//mets:mptr", _NS):
            target = self._reference(mets_rel, base, element.get(_HREF), None)
            if target is not None:
                children.append(target)
        return children

    def _reference(self, mets_rel: str, base: Path, href: str | None,
                   element: etree._Element | None) -> Path | None:
        target = self._resolve(mets_rel, base, href)
        if target is None:
            return None
        if not target.is_file():
            self.problems.append(f"{mets_rel}: referenced file {href!r} does not exist")
            return None
        self.referenced.add(target)
        if element is not None:
            self._check_fixity(mets_rel, element, target)
        return target


def verify_package(path: Path) -> list[str]:
    """Readable problems with the package directory at ``path``; an empty list means it is sound."""
    package = Path(path)
    root_mets = package / "METS.xml"
    if not root_mets.is_file():
        return [f"{package.name}: no METS.xml at the package root"]
    checker = _MetsCheck(package)
    pending = checker.check(root_mets.resolve(), package.name)
    # Representation METS files found on disk are checked too, even if the root forgot to point at them.
    found = {p.resolve() for p in (package / "representations").glob("*/METS.xml")}
    seen: set[Path] = set()
    for rep_mets in sorted(set(pending) | found):
        if rep_mets in seen or rep_mets == root_mets.resolve():
            continue
        seen.add(rep_mets)
        checker.check(rep_mets, rep_mets.parent.name)
    for file in sorted(package.rglob("*")):
        rel = _rel(file, package)
        if file.is_symlink():
            checker.problems.append(f"{rel}: symbolic links are not allowed in a package")
        elif file.is_file() and file.resolve() != root_mets.resolve() and file.resolve() not in checker.referenced:
            checker.problems.append(f"{rel}: not referenced from any METS file")
    return checker.problems


class _WrittenCheck(_MetsCheck):
    """_MetsCheck against the facts recorded while writing: paths joined lexically (the package was made by the
    writer, and any link in it is a problem of its own), one stat per file, checksums from the record."""

    def __init__(self, package: Path, written: Mapping[str, tuple[int, str]]) -> None:
        self.package = package
        self.problems = []
        self.referenced = set()
        self.written = written

    def _join(self, base: Path, relative: str) -> Path:
        # Lexical: the writer made every folder itself, so there is no symlink to follow (and no lstat per file).
        return Path(os.path.normpath(os.path.join(base, relative)))

    def _reference(self, mets_rel: str, base: Path, href: str | None,
                   element: etree._Element | None) -> Path | None:
        target = self._resolve(mets_rel, base, href)
        if target is None:
            return None
        try:
            info = os.stat(target)
        except OSError:
            info = None
        if info is None or not stat.S_ISREG(info.st_mode):
            self.problems.append(f"{mets_rel}: referenced file {href!r} does not exist")
            return None
        self.referenced.add(target)
        if element is not None:
            self._check_recorded(mets_rel, element, target, info.st_size)
        return target

    def _check_recorded(self, mets_rel: str, element: etree._Element, target: Path, actual_size: int) -> None:
        rel = _rel(target, self.package)
        size, checksum, kind = element.get("SIZE"), element.get("CHECKSUM"), element.get("CHECKSUMTYPE")
        if size is None or checksum is None or kind is None:
            self.problems.append(f"{mets_rel}: {rel} has no SIZE, CHECKSUM or CHECKSUMTYPE")
            return
        if str(actual_size) != size:
            self.problems.append(f"{mets_rel}: {rel} size mismatch: METS says {size}, file has {actual_size}")
        algorithm = _ALGORITHMS.get(kind.upper())
        recorded = self.written.get(rel)
        if algorithm is None:
            self.problems.append(f"{mets_rel}: {rel} has unsupported CHECKSUMTYPE {kind!r}")
        elif recorded is None or algorithm != "sha256":  # not from the writer: read it, as verify_package does
            if _digest(target, algorithm) != checksum.lower():
                self.problems.append(f"{mets_rel}: {rel} checksum mismatch ({kind} in METS differs from the file)")
        elif recorded[1] != checksum.lower():
            self.problems.append(f"{mets_rel}: {rel} checksum mismatch ({kind} in METS differs from the file)")
        elif recorded[0] != actual_size:
            self.problems.append(f"{mets_rel}: {rel} changed after it was written: {recorded[0]} bytes were "
                                 f"written, the file has {actual_size}")


def _walk(package: Path) -> tuple[list[Path], list[Path]]:
    """(regular files, symbolic links) in the package, links not followed; DirEntry types need no stat."""
    files: list[Path] = []
    links: list[Path] = []
    folders = [str(package)]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_symlink():
                    links.append(Path(entry.path))
                elif entry.is_dir():
                    folders.append(entry.path)
                elif entry.is_file():
                    files.append(Path(entry.path))
    return files, links


def verify_written(path: Path, written: Mapping[str, tuple[int, str]]) -> list[str]:
    """verify_package's problems for a package just written, with ``written`` ({path relative to the package:
    (size, sha256) of the bytes written}) in place of reading each file back; see the module docstring."""
    package = Path(os.path.abspath(path))
    root_mets = package / "METS.xml"
    if not root_mets.is_file():
        return [f"{package.name}: no METS.xml at the package root"]
    files, links = _walk(package)
    checker = _WrittenCheck(package, written)
    pending = checker.check(root_mets, package.name)
    found = {f for f in files if f.name == "METS.xml" and f.parent.parent == package / "representations"}
    for rep_mets in sorted(set(pending) | found):
        if rep_mets != root_mets:
            checker.check(rep_mets, rep_mets.parent.name)
    for file in sorted(files + links):
        rel = _rel(file, package)
        if file in links:
            checker.problems.append(f"{rel}: symbolic links are not allowed in a package")
        elif file != root_mets and file not in checker.referenced:
            checker.problems.append(f"{rel}: not referenced from any METS file")
    return checker.problems
