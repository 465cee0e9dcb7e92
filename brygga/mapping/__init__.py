"""Declarative YAML mappings: compiled once, run many times. The language: mappings/README.md."""

from brygga.mapping.compiler import CompiledMapping, compile_mapping
from brygga.mapping.errors import (
    InvalidSource,
    InvalidXmlSource,
    MappingConfigError,
    MappingFailed,
    MappingProblem,
)

__all__ = [
    "CompiledMapping",
    "InvalidSource",
    "InvalidXmlSource",
    "MappingConfigError",
    "MappingFailed",
    "MappingProblem",
    "compile_mapping",
]
