"""The human-readable README.txt in ``documentation/``.

Built from an allow-list of harmless fields only (ids, case type, tenant, counts, generated file names, formats,
references to other packages), so no personnummer, party name or submitted file name can reach it; those live in
case.json and the ERMS.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from brygga.archive.common import Agent, PackageFile


def readme_text(*, objid: str, case: dict[str, Any], diarienummer: str | None, archival_creator: Agent,
                submitter: Agent, software: tuple[str, str], created: str, data_files: Sequence[PackageFile],
                schema_names: Sequence[str], revision: int = 1, previous_package: str | None = None,
                submission_agreement: str | None = None) -> str:
    source = case.get("source") or {}
    tenant = case.get("tenant") or {}
    lines = [
        f"Arkivpaket / archival package {objid}",
        "",
        "FGS Paketstruktur 2.0 (E-ARK CSIP/SIP 2.1) with FGS Ärendehantering 2.0 (E-ARK CITS ERMS v3) metadata.",
        f"Created {created} by {software[0]} {software[1]}.",
        f"Archival creator: {archival_creator.name} ({archival_creator.identification_code}).",
        f"Submitter: {submitter.name} ({submitter.identification_code}).",
        f"Submission agreement: {submission_agreement or '(none given)'}.",
    ]
    if previous_package:
        lines.append(f"Komplettering, revision {revision}: supplements package {previous_package}; it holds the "
                     "whole case as it is now and only the documents that are new.")
    lines += [
        "",
        "The case",
        f"  case type:      {case.get('caseType', '')}",
        f"  municipality:   {tenant.get('name', '')} (kommunkod {tenant.get('kommunkod', '')})",
        f"  e-service:      {source.get('system', '')}, reference {source.get('reference', '')}",
        f"  diarienummer:   {diarienummer or '(none yet)'}",
        f"  received:       {case.get('receivedAt', '')}",
        "",
        "Layout",
        "  METS.xml                                  package METS (E-ARK SIP 2.1)",
        "  metadata/descriptive/erms.xml             the case and its records (ERMS v3)",
        "  metadata/preservation/premis.xml          package provenance (PREMIS 3)",
        "  representations/rep1/METS.xml             representation METS",
        "  representations/rep1/data/case.json       the case as Brygga's canonical JSON (see schemas/)",
        "  representations/rep1/data/NNN-<hash>.ext  the submitted documents, named by position and SHA-256;",
        "                                            their submitted names are in the ERMS and the PREMIS",
        "  representations/rep1/metadata/preservation/premis.xml  fixity and formats of the data files",
        f"  schemas/                                  {', '.join(schema_names)}",
        "  documentation/README.txt                  this file",
        "",
        "Data files (media type, PRONOM format, size, SHA-256)",
    ]
    lines += [f"  {f.rel_path}  {f.media_type}  {_pronom(f)}  {f.size} bytes  {f.sha256}" for f in data_files]
    return "\n".join(lines) + "\n"


def _pronom(file: PackageFile) -> str:
    return file.file_format.puid if file.file_format and file.file_format.puid else "(not identified)"
