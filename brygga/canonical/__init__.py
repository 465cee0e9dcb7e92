"""The canonical case: Swedish identifier formats and the validator for schemas/canonical/."""

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
from brygga.canonical.validation import (
    CASE_SCHEMA_ID,
    CASE_SCHEMA_PATH,
    CaseProblem,
    load_case_schema,
    reference_validator,
    validate_case,
)

__all__ = [
    "CASE_SCHEMA_ID",
    "CASE_SCHEMA_PATH",
    "FORMAT_CHECKERS",
    "CaseProblem",
    "InvalidIdentifier",
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
