"""FGS Paketstruktur 2.0 / E-ARK SIP 2.1 packages with ERMS (FGS Ärendehantering 2.0) metadata.

``build_sip`` writes one package directory per case version (a komplettering gets a package of its own that refers
to the first); ``package_objid`` names it; every data file gets its PRONOM format from FIDO (``formats``).
``verify_package`` checks what the E-ARK validator does not (sizes, checksums, unreferenced files, OBJID);
``validate_mets_schema`` and ``validate_erms_schema`` check the XML against schema files the caller provides.
See docs/archive.md.
"""

from brygga.archive.common import Agent, PackageFile
from brygga.archive.formats import FileFormat
from brygga.archive.naming import ArchiveInputError, package_objid
from brygga.archive.package import PackageConflict, build_sip
from brygga.archive.schemas import SchemaNotFound, validate_erms_schema, validate_mets_schema
from brygga.archive.verify import verify_package

__all__ = [
    "Agent",
    "ArchiveInputError",
    "FileFormat",
    "PackageConflict",
    "PackageFile",
    "SchemaNotFound",
    "build_sip",
    "package_objid",
    "validate_erms_schema",
    "validate_mets_schema",
    "verify_package",
]
