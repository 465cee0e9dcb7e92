"""The published canonical schemas: the catalog, their examples, and validation against them with hints for vendors."""

from brygga.catalog.entries import CASE, STATUS_EVENT, SchemaEntry, UnknownSchema, resolve_schema, schema_catalog
from brygga.catalog.examples import InvalidExample, ValidExample, invalid_examples, valid_examples

__all__ = [
    "CASE",
    "STATUS_EVENT",
    "InvalidExample",
    "SchemaEntry",
    "UnknownSchema",
    "ValidExample",
    "invalid_examples",
    "resolve_schema",
    "schema_catalog",
    "valid_examples",
]
