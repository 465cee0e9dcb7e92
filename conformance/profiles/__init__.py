"""The profiles: one per contract Brygga speaks. Each is a Profile subclass in its own module, named in PROFILES and
imported on demand (a profile's imports, zeep for the SOAP ones, load only when it runs).

To add a profile: write ``profiles/<name>.py`` with a Profile subclass (its class variables, ``check_options`` when
it has options with rules, and ``run``), add it to PROFILES, and test it against a simulator in
``tests/conformance/test_<name>.py`` (conformance/README.md).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from importlib import import_module
from typing import ClassVar

from brygga.plugins import DeliveryRequest
from brygga_conformance.endpoint import Endpoint
from brygga_conformance.model import COMMON_CHECKS, Check
from brygga_conformance.recorder import Recorder
from brygga_conformance.samples import Sample, SampleSet


def invalid_option(name: str, value: str, allowed: str) -> str:
    """The message for an --option value a profile cannot use: the option, the value given and what it may be."""
    return f"--option {name} cannot be {value!r}; allowed: {allowed}"


def one_of(options: Mapping[str, str], name: str, allowed: Iterable[str]) -> list[str]:
    """[] when option ``name`` is not given or is one of ``allowed``; else its message."""
    choices = list(allowed)
    value = options.get(name)
    return [] if value is None or value in choices else [invalid_option(name, value, ", ".join(choices))]


class Profile(ABC):
    """One contract's checks. A subclass sets the class variables and writes ``run``; what every profile does the
    same way (reading its options, choosing its samples, building their requests, skipping what cannot run) is
    here."""

    name: ClassVar[str]  # "byggr-soap"
    title: ClassVar[str]  # "ByggR ArendeExportWS (SOAP)"
    contract: ClassVar[str]  # one sentence: which contract, which version(s)
    options: ClassVar[Mapping[str, str]] = {}  # --option name -> help text, e.g. {"contract": "v8 (default) or v4"}
    checks: ClassVar[tuple[Check, ...]] = COMMON_CHECKS  # every check it may record, in order (--list-profiles)
    # The bundled route and its target whose outbound mapping the samples go through (e.g. kumla-bygglov's byggr);
    # None for a profile that chooses a route per sample.
    route_id: ClassVar[str | None] = None
    target_id: ClassVar[str | None] = None

    def __init__(self, endpoint: Endpoint, samples: SampleSet, run_id: str) -> None:
        self.endpoint = endpoint
        self.samples = samples
        self.run_id = run_id

    @classmethod
    def check_options(cls, options: Mapping[str, str]) -> list[str]:
        """What is wrong with the values of this profile's options, one message each (``invalid_option``, ``one_of``).
        The runner refuses a run with any before a request is sent, so ``run`` takes the options as valid."""
        return []

    @abstractmethod
    def run(self, record: Recorder) -> None:
        """Runs every check, recording each one; what cannot run is recorded as skipped with the reason (e.g.
        "skipped: case-reference failed")."""

    def option(self, name: str, default: str) -> str:
        return self.endpoint.option(name, default)

    @property
    def case_types(self) -> tuple[str, ...]:
        """The case types the profile's route target takes."""
        return self.samples.target(*self._route_target()).case_types

    def target_samples(self) -> list[Sample]:
        """The run's samples of a case type the profile's route target takes."""
        return self.samples.of_types(*self.case_types)

    def delivery(self, sample: Sample, *, repeat: int = 0) -> DeliveryRequest:
        """The request Brygga sends the profile's route target for ``sample`` (``repeat`` changes nothing in it)."""
        route, target = self._route_target()
        return self.samples.delivery(sample, route=route, target=target, run_id=self.run_id, repeat=repeat)

    @staticmethod
    def skip(record: Recorder, checks: Iterable[Check], reason: str, sample: str | None = None) -> None:
        """Each of ``checks`` recorded as skipped: "skipped: <reason>"."""
        for check in checks:
            record.skip(check, sample, f"skipped: {reason}")

    def _route_target(self) -> tuple[str, str]:
        if self.route_id is None or self.target_id is None:
            raise TypeError(f"profile {self.name} has no route_id and target_id: it chooses them per sample")
        return self.route_id, self.target_id


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
