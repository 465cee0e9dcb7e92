"""Runs one profile against an endpoint: checks the options, loads the samples, makes sure the endpoint answers at
all, then lets the profile record its checks. The RunReport is what the reports (report.py) are written from."""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from brygga import __version__
from brygga_adapters.http.auth import AUTH_MODES
from brygga_conformance.drawing import MAX_MB
from brygga_conformance.endpoint import CONNECTION_OPTIONS, TIMEOUT_OPTIONS, Endpoint
from brygga_conformance.model import OUTCOMES, CaseResult, Check, Outcome
from brygga_conformance.profiles import invalid_option, profile_class
from brygga_conformance.recorder import Recorder
from brygga_conformance.samples import SampleSet
from brygga_conformance.scrub import Scrubber

# Recorded when a profile's run() itself raises outside a case, or the run is interrupted (Ctrl-C): the run is cut
# short, and the report says so.
PROFILE_RAN = Check("profile-ran", "The profile ran to its end")
INTERRUPTED = ("the run was interrupted (Ctrl-C): the checks after this point did not run; the notes of the checks "
               "before it name the cases the run made in the endpoint's system")
DEFAULT_CONNECT_TIMEOUT = 5.0


class OptionError(ValueError):
    """An --option the run cannot use (a usage error): found before any request is sent."""


class UnknownOption(OptionError):
    """An --option the profile does not have; the message lists the ones it has."""


class InvalidOption(OptionError):
    """An --option value the profile cannot use; the message names the option, the value and what it may be."""


class EndpointUnreachable(ConnectionError):
    """Nothing listens at the endpoint's host and port (the name does not resolve, the connection is refused or
    connecting times out): nothing was checked. An endpoint that accepts the connection is reachable, whether it
    answers or not: its checks run, and wait out the read timeout."""


@dataclass
class RunReport:
    profile: str
    endpoint: str
    run_id: str
    started: datetime
    seconds: float
    results: list[CaseResult]
    brygga_version: str
    title: str = ""  # the profile's title and contract, for the reports
    contract: str = ""
    checks: tuple[Check, ...] = ()  # the profile's checks in order: the report's tables
    samples: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # about the run as a whole (plain http, no property register)
    interrupted: bool = False  # Ctrl-C ended the run: the results are those recorded until then

    @property
    def ok(self) -> bool:
        """No check failed and none errored (skipped ones do not count against the endpoint)."""
        return not any(r.outcome in ("failed", "error") for r in self.results)

    def counts(self) -> dict[Outcome, int]:
        return {outcome: sum(r.outcome == outcome for r in self.results) for outcome in OUTCOMES}

    def by_check(self) -> list[tuple[Check, list[CaseResult]]]:
        """Results per check: the profile's checks in its order (also those that recorded nothing), then any other."""
        order = list(self.checks) + [r.check for r in self.results if r.check not in self.checks]
        return [(check, [r for r in self.results if r.check == check]) for check in dict.fromkeys(order)]


def new_run_id() -> str:
    """Short, sortable and unique enough that two runs never share an extern ref in a vendor's test system."""
    return f"{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(2)}"


def check_options(name: str, endpoint: Endpoint) -> None:
    """UnknownOption for an option the profile does not have, InvalidOption for a value it cannot use."""
    cls = profile_class(name)
    known = {**cls.options, **CONNECTION_OPTIONS}
    unknown = [key for key in endpoint.options if key not in known]
    if unknown:
        raise UnknownOption(f"profile {name} has no option {unknown[0]!r}; known: {', '.join(known)}")
    problems = _connection_option_problems(endpoint.options) + cls.check_options(endpoint.options)
    if problems:
        raise InvalidOption(f"profile {name}: {'; '.join(problems)}")


def _connection_option_problems(options: Mapping[str, str]) -> list[str]:
    problems = []
    auth = options.get("auth")
    if auth is not None and auth.strip().lower() not in AUTH_MODES:  # as brygga_adapters.http reads it
        problems.append(invalid_option("auth", auth, ", ".join(AUTH_MODES)))
    for key in TIMEOUT_OPTIONS:
        value = options.get(key)
        if value is not None and not _positive_number(value):
            problems.append(invalid_option(key, value, "a number of seconds, more than 0"))
    return problems


def _positive_number(text: str) -> bool:
    try:
        return 0 < float(text) < float("inf")
    except ValueError:
        return False


def probe(endpoint: Endpoint) -> None:
    """One TCP connection to the endpoint's host and port: EndpointUnreachable when nothing answers there."""
    parts = urlsplit(endpoint.url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    where = f"{parts.hostname}:{port}"
    timeout = float(endpoint.option("connect_timeout", str(DEFAULT_CONNECT_TIMEOUT)))  # checked by check_options
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except socket.gaierror:
        raise EndpointUnreachable(f"{where}: the host name does not resolve") from None
    except TimeoutError:
        raise EndpointUnreachable(f"{where}: connecting timed out after {timeout:g} s (--option connect_timeout)") \
            from None
    except ConnectionRefusedError:
        raise EndpointUnreachable(f"{where}: connection refused (is the service running on that port?)") from None
    except OSError as exc:
        raise EndpointUnreachable(f"{where}: cannot connect: {exc.strerror or type(exc).__name__}") from None


def _run_notes(endpoint: Endpoint, samples: SampleSet) -> list[str]:
    notes = []
    if endpoint.is_http:
        notes.append("The endpoint is plain http: the kit allowed it (allow_http=true) for this test; Brygga's "
                     "connections to a production system use https.")
    if any(samples.route(s.route).property_lookup is not None for s in samples.samples):
        notes.append("The kit has no property register: cases go without a fastighetsnyckel (FNR), the property by "
                     "its designation only, as on a route without a property lookup.")
    if samples.drawing is not None:
        drawing = samples.drawing
        notes.append(f"Each sample carried a generated drawing as its last document (--large-document): "
                     f"{drawing.name}, {drawing.media_type}, {drawing.size} bytes, sha256 {drawing.sha256}.")
    return notes


def run_profile(name: str, endpoint: Endpoint, *, workdir: Path, samples: Sequence[str] | None = None,
                run_id: str | None = None, progress: Callable[[CaseResult], None] | None = None,
                large_document_mb: int = 0) -> RunReport:
    """Runs profile ``name`` against ``endpoint``. Raises before any request is sent: UnknownProfile, OptionError,
    UnknownSample (usage) or EndpointUnreachable. ``progress`` is called with each result as it is recorded.
    ``large_document_mb`` adds a generated drawing of that many MiB to each sample's documents (0: none).
    A Ctrl-C while the profile runs ends the run with what was recorded, and one result that says so
    (``RunReport.interrupted``), so the report still lists the cases made until then."""
    cls = profile_class(name)
    check_options(name, endpoint)
    if not 0 <= large_document_mb <= MAX_MB:
        raise InvalidOption(f"--large-document cannot be {large_document_mb}; allowed: 0 (none) to {MAX_MB} MB")
    sample_set = SampleSet.load(workdir, samples, large_document_mb=large_document_mb)
    probe(endpoint)
    run_id = run_id or new_run_id()
    endpoint = replace(endpoint, run_id=run_id)  # each run's connections are its own (Endpoint.connection)
    record = Recorder(progress, scrub=Scrubber.of(sample_set.samples))
    started, clock = datetime.now(UTC), time.perf_counter()
    interrupted = False
    try:
        cls(endpoint, sample_set, run_id).run(record)
    except Exception as exc:  # the report still gets written, with what ran and this
        with record.case(PROFILE_RAN):
            raise exc
    except KeyboardInterrupt:
        interrupted = True
        record.error(PROFILE_RAN, None, INTERRUPTED)
    return RunReport(profile=name, endpoint=endpoint.url, run_id=run_id, started=started,
                     seconds=time.perf_counter() - clock, results=record.results, brygga_version=__version__,
                     title=cls.title, contract=cls.contract, checks=tuple(cls.checks),
                     samples=[s.name for s in sample_set.samples], notes=_run_notes(endpoint, sample_set),
                     interrupted=interrupted)
