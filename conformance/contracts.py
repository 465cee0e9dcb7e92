"""The contract files Brygga ships with its simulators (WSDL copies, the work-order API's OpenAPI document), read as
package data of ``brygga_simulators`` without importing it.

The kit must not run simulator code, and importing the package would run its ``__init__`` (and load every
simulator). So the package is located, not imported: a module object made from its spec, whose code never runs,
is enough for importlib.resources to read files from wherever the package is installed (a wheel included).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from importlib.resources import files
from types import ModuleType

PACKAGE = "brygga_simulators"


@cache
def _package() -> ModuleType:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None:
        raise RuntimeError(f"{PACKAGE} is not installed: the kit reads the contracts Brygga speaks from its package "
                           "data (pip install brygga installs it)")
    return importlib.util.module_from_spec(spec)  # its code does not run


def read_contract(*path: str) -> bytes:
    """A contract file by its path in the package, e.g. ``read_contract("ecos", "MinutMiljoService.wsdl")``."""
    return files(_package()).joinpath(*path).read_bytes()
