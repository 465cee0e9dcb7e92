"""The canonical case: Swedish identifier formats, the case type registry and the validator for schemas/canonical/."""

from brygga.canonical.compat import breaking_changes, check_against_release
from brygga.canonical.formats import (
    FORMAT_CHECKERS,
    InvalidIdentifier,
    is_fastighetsbeteckning,
    is_kommunkod,
    is_organisationsnummer,
    is_personnummer,
    is_postnummer,
    normalise_fastighetsbeteckning,
    normalise_organisationsnummer,
    normalise_personnummer,
    normalise_postnummer,
)
from brygga.canonical.types import CASE_TYPE_NAME, CaseType, CaseTypeRegistry, composed_schema
from brygga.canonical.validation import (
    CASE_SCHEMA_ID,
    CASE_SCHEMA_PATH,
    CaseProblem,
    default_case_types,
    load_case_schema,
    reference_validator,
    validate_case,
)

__all__ = [
    "CASE_SCHEMA_ID",
    "CASE_SCHEMA_PATH",
    "CASE_TYPE_NAME",
    "FORMAT_CHECKERS",
    "CaseProblem",
    "CaseType",
    "CaseTypeRegistry",
    "InvalidIdentifier",
    "breaking_changes",
    "check_against_release",
    "composed_schema",
    "default_case_types",
    "is_fastighetsbeteckning",
    "is_kommunkod",
    "is_organisationsnummer",
    "is_personnummer",
    "is_postnummer",
    "load_case_schema",
    "normalise_fastighetsbeteckning",
    "normalise_organisationsnummer",
    "normalise_personnummer",
    "normalise_postnummer",
    "reference_validator",
    "validate_case",
]
