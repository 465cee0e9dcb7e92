"""Declarative YAML mappings: compiled once, run many times. The language: mappings/README.md."""

from brygga.mapping.compiler import CompiledMapping, compile_mapping, deep_merge
from brygga.mapping.dispatch import EService, choose_mapping, read_identity
from brygga.mapping.errors import (
    InvalidSource,
    InvalidXmlSource,
    MappingConfigError,
    MappingFailed,
    MappingProblem,
    NotAccepted,
)

__all__ = [
    "CompiledMapping",
    "EService",
    "InvalidSource",
    "InvalidXmlSource",
    "MappingConfigError",
    "MappingFailed",
    "MappingProblem",
    "NotAccepted",
    "choose_mapping",
    "compile_mapping",
    "deep_merge",
    "read_identity",
]
