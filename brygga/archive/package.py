"""build_sip: one canonical case and its documents → one FGS 2.0 / E-ARK SIP 2.1 package directory.

The package is built in a staging folder beside its final place, checked (``verify_written``: verify_package's
checks, with the checksums computed while writing), then renamed into place in one step, so a reader never sees
half a package. A package already there is kept when it records the
same facts (rebuilding is idempotent) and refused when it differs. A komplettering (revision 2, 3, ...) is a
package of its own that refers to the one it amends. Nothing here logs: the package holds personal data.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from brygga import __version__
from brygga.archive import erms as erms_mod
from brygga.archive.common import (
    CASE_JSON,
    REPRESENTATION,
    Agent,
    PackageFile,
    now_timestamp,
)
from brygga.archive.documentation import readme_text
from brygga.archive.existing import PackageFacts, read_facts
from brygga.archive.formats import identifier, identify
from brygga.archive.mets import (
    CONTENT_INFORMATION_TYPE,
    NEW,
    PREVIOUS_REFERENCE_CODE,
    SUBMISSION_AGREEMENT,
    SUPPLEMENT,
    FileGroup,
    Header,
    Ref,
    representation_mets,
    root_mets,
)
from brygga.archive.naming import ArchiveInputError, attachment_file_name, clean_media_type, package_objid
from brygga.archive.premis import PremisEvent, build_premis, organisation_agent, software_agent
from brygga.archive.verify import verify_package, verify_written
from brygga.canonical.types import CaseTypeRegistry
from brygga.plugins import StoredDocument
from brygga.resources import resource

REP_DIR = f"representations/{REPRESENTATION}"
DATA_DIR = f"{REP_DIR}/data"
CASE_SCHEMA = resource("schemas", "canonical", "case.v1.schema.json")
_COPY_BLOCK = 1 << 20
CASE_JSON_PERSONAL_DATA = ("case.json innehåller personuppgifter om parterna: personnummer, namn, adresser och "
                           "kontaktuppgifter.")

# Used only while the canonical case schema is not in the repository yet: schemas/ must not be empty, and
# the reference XSDs are not ours to ship.
_FALLBACK_SCHEMA_NAME = "brygga-case-envelope.schema.json"
_FALLBACK_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Brygga canonical case (envelope only)",
    "description": "The outer shape of representations/rep1/data/case.json.",
    "type": "object",
    "required": ["schemaVersion", "caseType", "source"],
    "properties": {"schemaVersion": {"type": "string"}, "caseType": {"type": "string"},
                   "source": {"type": "object"}},
}


class PackageConflict(FileExistsError):
    """A package with this OBJID exists and holds different data; it is never overwritten."""


@dataclasses.dataclass(frozen=True)
class _References:
    """What the package says beyond the case: its revision and its references (METS altRecordID, ERMS relation)."""

    revision: int
    previous_package: str | None
    submission_agreement: str | None

    @property
    def alt_record_ids(self) -> tuple[tuple[str, str], ...]:
        ids = []
        if self.submission_agreement:
            ids.append((SUBMISSION_AGREEMENT, self.submission_agreement))
        if self.previous_package:
            ids.append((PREVIOUS_REFERENCE_CODE, self.previous_package))
        return tuple(ids)


def _references(objid: str, revision: int, previous_package: str | None,
                submission_agreement: str | None) -> _References:
    if revision == 1 and previous_package is not None:
        raise ArchiveInputError("revision 1 is the first package of a case and amends none: no previous_package")
    if revision > 1 and not (previous_package and previous_package.strip()):
        raise ArchiveInputError(f"revision {revision} amends a package: previous_package (its OBJID) is required")
    if previous_package is not None and previous_package.strip() == objid:
        raise ArchiveInputError("a package cannot amend itself")
    if submission_agreement is not None and not submission_agreement.strip():
        raise ArchiveInputError("submission_agreement is blank; leave it out when there is none")
    return _References(revision, previous_package.strip() if previous_package else None,
                       submission_agreement.strip() if submission_agreement else None)


def canonical_json_bytes(case: dict[str, Any]) -> bytes:
    """Deterministic bytes, so the same case gives the same case.json and so the same package payload."""
    return (json.dumps(case, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


class _Writer:
    """Writes files under the staging root, each only once, and remembers their METS facts.

    Each file's sha256 and size are computed from the bytes as they are written, never by reading the file back;
    ``written`` keeps them for ``verify_written``.
    """

    def __init__(self, root: Path, created: str) -> None:
        self.root = os.path.abspath(root)  # once: no Path.resolve per file
        self.created = created
        self.folders = {""}  # made so far, relative to the root
        self.written: dict[str, tuple[int, str]] = {}  # rel_path: (size, sha256)

    def _target(self, rel_path: str) -> str:
        # Defence in depth: every rel_path is generated here, but nothing may ever land outside the package.
        # Lexically: no absolute path and no "..", "." or empty part. The root is a fresh folder whose every
        # subfolder is made here, so no link can be in the way, and "xb" refuses a file already there.
        parts = rel_path.split("/")
        if rel_path.startswith("/") or "\\" in rel_path or any(p in ("", ".", "..") for p in parts):
            raise ArchiveInputError(f"refusing to write outside the package: {rel_path!r}")
        folder = rel_path.rpartition("/")[0]
        if folder not in self.folders:
            os.makedirs(os.path.join(self.root, folder), exist_ok=True)
            self.folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
        return os.path.join(self.root, rel_path)

    def write(self, rel_path: str, data: bytes, media_type: str) -> PackageFile:
        with open(self._target(rel_path), "xb") as handle:
            handle.write(data)
        digest = hashlib.sha256(data).hexdigest()
        self.written[rel_path] = (len(data), digest)
        return PackageFile(rel_path, media_type, len(data), digest, self.created)

    def copy(self, rel_path: str, doc: StoredDocument, media_type: str, index: int) -> PackageFile:
        # Hashed as it is copied: the bytes written are the bytes hashed, in one pass over the document.
        digest, size = hashlib.sha256(), 0
        with open(doc.path, "rb") as src, open(self._target(rel_path), "xb") as dst:
            while block := src.read(_COPY_BLOCK):
                digest.update(block)
                size += len(block)
                dst.write(block)
        sha256 = digest.hexdigest()
        # The content store's hash is the contract; archiving silently different bytes would be worse than failing.
        if sha256 != doc.sha256.lower() or size != doc.size:
            raise ArchiveInputError(f"document {index}: content does not match its recorded sha256/size")
        self.written[rel_path] = (size, sha256)
        return PackageFile(rel_path, media_type, size, sha256, self.created, original_name=doc.name)


def _with_format(root: Path, file: PackageFile) -> PackageFile:
    return dataclasses.replace(file, file_format=identify(root / file.rel_path, file.media_type))


def _planned_payload(case_bytes: bytes, documents: Sequence[StoredDocument]) -> dict[str, str]:
    """{name in data/: sha256} the new package would hold, computed before anything is written."""
    planned = {CASE_JSON: hashlib.sha256(case_bytes).hexdigest()}
    for index, doc in enumerate(documents, start=1):
        sha = doc.sha256.lower()
        planned[attachment_file_name(index, sha, clean_media_type(doc.media_type))] = sha
    return planned


def _attachment_ids(case: dict[str, Any]) -> dict[str, str]:
    """sha256 → the e-service's attachment id, to tie each record back to the submission."""
    return {a["sha256"].lower(): str(a.get("sourceId")) for a in case.get("attachments") or []
            if isinstance(a, dict) and a.get("sha256") and a.get("sourceId") is not None}


def _case_types(case_types: CaseTypeRegistry | None) -> CaseTypeRegistry:
    if case_types is not None:
        return case_types
    from brygga.canonical.validation import default_case_types

    return default_case_types()


def _schema_files(case: dict[str, Any], case_types: CaseTypeRegistry | None) -> list[tuple[str, bytes]]:
    """(name under schemas/, bytes): the core case schema, then the schema file of the case's own type.

    The type file keeps its repository name (``bygglov.v1.schema.json``; the registry reserves the name ``case``)
    and is the bytes that were registered when the package was built: only the case's type, never the others.
    """
    if CASE_SCHEMA.is_file():
        files = [(CASE_SCHEMA.name, CASE_SCHEMA.read_bytes())]
    else:
        files = [(_FALLBACK_SCHEMA_NAME, (json.dumps(_FALLBACK_SCHEMA, indent=2) + "\n").encode())]
    case_type = case.get("caseType")
    registry = _case_types(case_types)
    if isinstance(case_type, str) and case_type in registry:
        registered = registry.get(case_type)
        files.append((registered.path.name, registered.text.encode("utf-8")))
    elif case.get("details"):
        # The details would be archived without the schema that says what they mean.
        raise ArchiveInputError("the case's type is not a registered case type: its details schema cannot be "
                                "archived with it")
    return files


def _write_package(root: Path, objid: str, case: dict[str, Any], case_bytes: bytes,
                   documents: Sequence[StoredDocument], diarienummer: str | None, archival_creator: Agent,
                   submitter: Agent, software: tuple[str, str], references: _References,
                   case_types: CaseTypeRegistry | None = None) -> dict[str, tuple[int, str]]:
    """Write the package's files under ``root``; returns {rel_path: (size, sha256)} of every file written."""
    created = now_timestamp()
    w = _Writer(root, created)
    brygga = software_agent(*software)
    organisation = organisation_agent(archival_creator)

    # 1. The payload: case.json and the documents under generated names, each with its PRONOM format.
    data = [w.write(f"{DATA_DIR}/{CASE_JSON}", case_bytes, "application/json")]
    for index, doc in enumerate(documents, start=1):
        media_type = clean_media_type(doc.media_type)
        name = attachment_file_name(index, doc.sha256.lower(), media_type)
        data.append(w.copy(f"{DATA_DIR}/{name}", doc, media_type, index))
    data = [_with_format(root, f) for f in data]

    # 2. The representation: its PREMIS, then its METS, hrefs relative to representations/rep1/.
    def rep_href(file: PackageFile) -> str:
        return file.rel_path.removeprefix(f"{REP_DIR}/")

    fido = identifier()
    fido_agent = software_agent(fido.name, fido.version, f"Signatures: {fido.signatures}")
    data_ids = [rep_href(f) for f in data]
    events = [
        PremisEvent("event-fixity", "message digest calculation", created,
                    f"SHA-256 of every data file, computed by {software[0]} while packaging", data_ids,
                    [(brygga, "executing program"), (organisation, "authorizer")]),
        PremisEvent("event-format-identification", "format identification", created,
                    f"PRONOM format of every data file by {fido.name} {fido.version} ({fido.signatures}); a file "
                    "it could not identify has no registry key", data_ids, [(fido_agent, "executing program")]),
    ]
    rep_premis = w.write(f"{REP_DIR}/metadata/preservation/premis.xml",
                         build_premis(files=[(rep_href(f), f) for f in data], events=events), "text/xml")
    status = SUPPLEMENT if references.revision > 1 else NEW
    rep_header = Header(REPRESENTATION, f"{objid} {REPRESENTATION}", _other_type(case), created, software,
                        archival_creator, submitter, record_status=status)
    data_group = FileGroup(f"{REPRESENTATION}-grp-data", "Data",
                           [Ref(f"{REPRESENTATION}-file-{i:03d}", rep_href(f), f) for i, f in enumerate(data)],
                           CONTENT_INFORMATION_TYPE)
    rep_mets = w.write(f"{REP_DIR}/METS.xml",
                       representation_mets(rep_header, premis=Ref(f"{REPRESENTATION}-digiprov-premis",
                                                                  rep_href(rep_premis), rep_premis),
                                           data=data_group), "text/xml")

    # 3. Package metadata: ERMS and PREMIS.
    ids = _attachment_ids(case)
    system = (case.get("source") or {}).get("system")
    personal = CASE_JSON_PERSONAL_DATA if erms_mod.persons(case) else None
    records = [erms_mod.ErmsRecord(erms_mod.source_key(case), "E-tjänstens uppgifter (ärendet som Brygga-JSON)",
                                   "e-service submission", data[0].media_type, data[0].rel_path, CASE_JSON,
                                   personal_data=personal)]
    for file in data[1:]:
        ident = ids.get(file.sha256)
        records.append(erms_mod.ErmsRecord(f"{system}:attachment:{ident}" if ident else f"sha256:{file.sha256}",
                                           file.original_name or file.rel_path.rsplit("/", 1)[-1], "attachment",
                                           file.media_type, file.rel_path, file.rel_path.rsplit("/", 1)[-1]))
    erms_file = w.write("metadata/descriptive/erms.xml",
                        erms_mod.build_erms(case, records, objid=objid, diarienummer=diarienummer,
                                            archival_creator=archival_creator, software=software,
                                            created=created, previous_package=references.previous_package),
                        "application/xml")
    detail = f"SIP built by {software[0]} {software[1]}"
    if references.previous_package:
        detail += f": komplettering (revision {references.revision}) of package {references.previous_package}"
    event = PremisEvent("event-creation", "creation", created, detail, [REPRESENTATION],
                        [(brygga, "executing program"), (organisation, "authorizer")])
    premis_file = w.write("metadata/preservation/premis.xml",
                          build_premis(representations=[REPRESENTATION], events=[event]), "text/xml")

    # 4. Schemas and documentation; both folders must be non-empty.
    schemas = [w.write(f"schemas/{name}", body, "application/json") for name, body in _schema_files(case, case_types)]
    readme = w.write("documentation/README.txt", readme_text(
        objid=objid, case=case, diarienummer=diarienummer, archival_creator=archival_creator,
        submitter=submitter, software=software, created=created, data_files=data,
        schema_names=[s.rel_path.removeprefix("schemas/") for s in schemas], revision=references.revision,
        previous_package=references.previous_package,
        submission_agreement=references.submission_agreement).encode("utf-8"), "text/plain")

    # 5. The root METS last: it carries every other file's size and checksum.
    label = str(case.get("title") or objid)
    if references.revision > 1:
        label += f" (komplettering, revision {references.revision})"
    header = Header(objid, label, _other_type(case), created, software, archival_creator, submitter,
                    record_status=status, alt_record_ids=references.alt_record_ids)
    w.write("METS.xml", root_mets(
        header,
        erms=Ref("dmd-erms", erms_file.rel_path, erms_file),
        premis=Ref("digiprov-premis", premis_file.rel_path, premis_file),
        documentation=FileGroup("grp-documentation", "Documentation", [Ref("file-readme", readme.rel_path, readme)]),
        schemas=FileGroup("grp-schemas", "Schemas",
                          [Ref(f"file-schema-{i:03d}", s.rel_path, s) for i, s in enumerate(schemas)]),
        representation=FileGroup(f"grp-{REPRESENTATION}", f"Representations/{REPRESENTATION}",
                                 [Ref(f"file-{REPRESENTATION}-mets", rep_mets.rel_path, rep_mets)],
                                 CONTENT_INFORMATION_TYPE),
        representation_name=REPRESENTATION), "text/xml")
    return w.written


def _other_type(case: dict[str, Any]) -> str:
    return f"Ärende: {case.get('caseType') or 'okänd ärendetyp'}"


def _accept_existing(final: Path, planned: PackageFacts) -> Path:
    # Same data but another diarienummer, submission agreement or previous package is a different package too:
    # its ERMS or METS header would say otherwise.
    if read_facts(final) != planned:
        raise PackageConflict(f"{final.name}: a package with different content already exists; not overwritten")
    problems = verify_package(final)
    if problems:
        raise PackageConflict(f"{final.name}: the existing package is damaged: {'; '.join(problems[:3])}")
    return final


def build_sip(case: dict[str, Any], documents: list[StoredDocument], *, out_dir: Path, diarienummer: str | None,
              archival_creator: Agent, submitter: Agent, software: tuple[str, str] = ("Brygga", __version__),
              revision: int = 1, previous_package: str | None = None,
              submission_agreement: str | None = None, case_types: CaseTypeRegistry | None = None,
              held_by: str | None = None) -> Path:
    """Write ``out_dir/<OBJID>/`` for the case and return its path (see the module docstring).

    ``revision`` > 1 builds a komplettering: ``previous_package`` (required then) is the OBJID of the package it
    amends, ``documents`` are the new documents only, and case.json is the whole new case.
    ``submission_agreement`` is the tenant's reference to its submission agreement (leveransöverenskommelse).
    ``case_types``: the registry whose file for the case's type goes into ``schemas/`` beside the core
    schema; None means the environment's (`brygga.canonical.default_case_types()`). ``held_by``: the kommunkod of
    another kommun whose archive this package is for (``package_objid``).
    """
    objid = package_objid(case, revision, held_by)
    references = _references(objid, revision, previous_package, submission_agreement)
    case_bytes = canonical_json_bytes(case)
    planned = PackageFacts(_planned_payload(case_bytes, documents), diarienummer, references.submission_agreement,
                           references.previous_package)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / objid
    if final.exists():
        return _accept_existing(final, planned)

    staging = Path(tempfile.mkdtemp(prefix=f".{objid}.", suffix=".building", dir=out_dir))
    try:
        staged = staging / objid
        staged.mkdir()
        written = _write_package(staged, objid, case, case_bytes, documents, diarienummer, archival_creator,
                                 submitter, software, references, case_types)
        # verify_package's checks, with the checksums taken while writing instead of reading every file back.
        problems = verify_written(staged, written)
        if problems:
            raise RuntimeError(f"built package {objid} fails its own check: {'; '.join(problems[:3])}")
        try:
            os.rename(staged, final)  # atomic within one file system; fails if another build got there first
        except OSError:
            if final.exists():
                return _accept_existing(final, planned)
            raise
        return final
    finally:
        shutil.rmtree(staging, ignore_errors=True)
