"""The profiles: one per contract Brygga speaks. Each is a Profile subclass in its own module, named in PROFILES and
imported on demand (a profile's imports, zeep for the SOAP ones, load only when it runs).

To add a profile: write ``profiles/<name>.py`` with a Profile subclass (its class variables and ``run``), add it to
PROFILES, and test it against a simulator in ``tests/conformance/test_<name>.py`` (conformance/README.md).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from importlib import import_module
from typing import ClassVar

from brygga_conformance.endpoint import Endpoint
from brygga_conformance.model import Check
from brygga_conformance.recorder import Recorder
from brygga_conformance.samples import SampleSet


class Profile(ABC):
    name: ClassVar[str]  # "byggr-soap"
    title: ClassVar[str]  # "ByggR ArendeExportWS (SOAP)"
    contract: ClassVar[str]  # one sentence: which contract, which version(s)
    options: ClassVar[Mapping[str, str]] = {}  # --option name -> help text, e.g. {"contract": "v8 (default) or v4"}
    checks: ClassVar[tuple[Check, ...]]  # every check it may record, in order (for --list-profiles and the report)

    def __init__(self, endpoint: Endpoint, samples: SampleSet, run_id: str) -> None:
        self.endpoint = endpoint
        self.samples = samples
        self.run_id = run_id

    @abstractmethod
    def run(self, record: Recorder) -> None:
        """Runs every check, recording each one; what cannot run is recorded as skipped with the reason (e.g.
        "skipped: case-reference failed")."""


PROFILES: dict[str, str] = {  # name -> "module:Class"
    "byggr-soap": "brygga_conformance.profiles.byggr_soap:ByggrSoapProfile",
    "ecos-soap": "brygga_conformance.profiles.ecos_soap:EcosSoapProfile",
    "case-rest": "brygga_conformance.profiles.case_rest:CaseRestProfile",
    "eservice-callback": "brygga_conformance.profiles.eservice_callback:EserviceCallbackProfile",
}


class UnknownProfile(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def profile_class(name: str) -> type[Profile]:
    """The profile named ``name``; UnknownProfile (a KeyError) naming the known ones."""
    if name not in PROFILES:
        raise UnknownProfile(f"no profile {name!r}; known: {', '.join(PROFILES)}")
    module, _, attribute = PROFILES[name].partition(":")
    cls = getattr(import_module(module), attribute)
    if not (isinstance(cls, type) and issubclass(cls, Profile)):
        raise TypeError(f"{PROFILES[name]} is not a Profile")
    return cls
