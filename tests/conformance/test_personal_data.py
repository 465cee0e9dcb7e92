"""A vendor's endpoint that echoes the request's personal data in its faults: none of it reaches the terminal, the
JUnit XML or the HTML report, in any SOAP profile. Each simulator answers every call with a SOAP Fault whose
faultstring quotes the sample's applicant and property, as a careless real system does ("Ogiltig intressent: ...").
The kit quotes a fault's faultcode (and its detail element's name), never its faultstring; and it scrubs every
finding and note against the run's sample values besides."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from brygga.cli import main
from brygga_adapters.ecos import clear_lookup_cache
from brygga_adapters.soap import clear_soap_cache
from brygga_conformance.endpoint import LOGIN_ENV, PASSWORD_ENV
from brygga_conformance.samples import SampleSet
from brygga_simulators import start_simulator

from .eservice_callback_helpers import FLOW_INSTANCES

# profile -> (simulator, its options, the sample it runs)
PROFILES: dict[str, tuple[str, dict[str, Any], str]] = {
    "byggr-soap": ("byggr", {}, "bygglov-person"),
    "ecos-soap": ("ecos", {}, "varmepump-bergvarme"),
    "eservice-callback": ("oep-callback", {"known_flow_instances": list(FLOW_INSTANCES.values())}, "bygglov-person"),
}


@pytest.fixture(autouse=True)
def fresh_clients(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(LOGIN_ENV, raising=False)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    clear_soap_cache()
    clear_lookup_cache()
    yield
    clear_soap_cache()
    clear_lookup_cache()


def personal_values(sample: str, workdir: Path) -> list[str]:
    """What the sample says about its applicant and property, as a fault may quote it back."""
    (loaded,) = SampleSet.load(workdir, [sample]).samples
    (party,) = loaded.case["parties"]
    (estate,) = loaded.case["properties"]
    number = party["personnummer"]
    return [party["givenName"], party["familyName"], number, f"{number[:8]}-{number[8:]}", party["address"]["street"],
            party["email"], party["phone"], estate["fastighetsbeteckning"], estate["address"]]


@pytest.mark.parametrize("profile", list(PROFILES))
def test_a_fault_that_echoes_personal_data_reaches_no_output(profile: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    simulator, options, sample = PROFILES[profile]
    values = personal_values(sample, tmp_path / "samples")
    echo = (f"Ogiltig intressent: {values[0]} {values[1]} {values[3]}, {values[4]}, {values[5]}, tel {values[6]}; "
            f"fastighet {values[7]} ({values[8]})")
    plan = [{"action": "soap_fault", "operation": "*", "faultcode": "Client", "faultstring": echo}]
    reports = tmp_path / "reports"
    with start_simulator(simulator, fault_plan=json.dumps(plan), **options) as sim:
        code = main(["conformance", "--profile", profile, "--endpoint", sim.url, "--sample", sample,
                     "--report-dir", str(reports)])
        faulted = sum(rule.fired for rule in sim.app.faults.rules)
    out, err = capsys.readouterr()

    assert code == 1, out + err
    assert faulted > 0
    written = {name: html.unescape((reports / name).read_text(encoding="utf-8"))
               for name in ("junit.xml", "report.html")}
    for where, text in {"stdout": out, "stderr": err, **written}.items():
        leaked = [value for value in values if value in text]
        assert leaked == [], f"{profile}: {where} quotes {leaked}"
    # The faults are named by their code: what the vendor needs to find the place, without the echoed values.
    assert ("the endpoint answered with a SOAP Fault, faultcode s:Client (its faultstring is not quoted: it may hold "
            "personal data)") in out
