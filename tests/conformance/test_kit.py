"""The kit itself: the Recorder, the reports read back, run_profile and `brygga conformance` end to end.

A tiny profile registered for these tests only (TinyProfile) delivers the bygglov samples to the ByggR simulator
with Brygga's own adapter, so the kit's machinery is exercised on real answers. The real profiles have their own
tests (test_<profile>.py).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped
from routing import dead_url

from brygga.cli import main
from brygga.settings import REPO_ROOT
from brygga_adapters.byggr import ByggrTarget
from brygga_conformance import cli, profiles
from brygga_conformance.endpoint import PASSWORD_ENV, Endpoint, EndpointError
from brygga_conformance.model import (
    CASE_REFERENCE,
    DOCUMENTS_INTACT,
    FAULT_ON_INVALID,
    IDEMPOTENT_REPEAT,
    CaseResult,
    Check,
)
from brygga_conformance.profiles import PROFILES, Profile, UnknownProfile, profile_class
from brygga_conformance.recorder import Recorder
from brygga_conformance.report import render_html, write_html, write_junit
from brygga_conformance.runner import EndpointUnreachable, InvalidOption, RunReport, UnknownOption, run_profile
from brygga_conformance.samples import SampleSet, UnknownSample
from brygga_conformance.scrub import Scrubber
from brygga_simulators import RunningSimulator

BROKEN = Check("broken", "A check whose code raises")


class TinyProfile(Profile):
    """Delivers each bygglov sample twice with ByggrTarget: the reference must start with --option prefix (default
    BN, which the simulator's diarienummer do) and the repeat must find the same case. Unless --option
    broken=false, one more check asks for a target the route does not have, so its code raises."""

    name = "tiny"
    title = "Tiny test profile"
    contract = "ByggR ArendeExportWS v8, bygglov only"
    options: ClassVar[dict[str, str]] = {"prefix": "what a reference must start with (default BN)",
                                         "broken": "true (default): also run a check whose code raises"}
    checks = (CASE_REFERENCE, IDEMPOTENT_REPEAT, DOCUMENTS_INTACT, BROKEN)

    def run(self, record: Recorder) -> None:
        target = ByggrTarget({}, self.endpoint.connection())
        prefix = self.endpoint.option("prefix", "BN")
        for sample in self.samples.of_types("bygglov"):
            request = self.samples.delivery(sample, target="byggr", run_id=self.run_id)
            first = None
            with record.case(CASE_REFERENCE, sample.name) as case:
                first = target.deliver(request)
                case.note(f"SaveNewArende -> {first.external_ref}")
                if not first.created:
                    case.fail(f"the first delivery of {sample.name} found a case already there; expected a new one")
                if not first.external_ref.startswith(prefix):
                    case.fail(f"reference {first.external_ref} does not start with {prefix}")
            if record.outcome(CASE_REFERENCE, sample.name) == "error" or first is None:
                record.skip(IDEMPOTENT_REPEAT, sample.name, "skipped: case-reference errored")
                continue
            with record.case(IDEMPOTENT_REPEAT, sample.name) as case:
                again = target.deliver(self.samples.delivery(sample, target="byggr", run_id=self.run_id, repeat=1))
                if (again.external_ref, again.created) != (first.external_ref, False):
                    case.fail(f"the repeat of {sample.name} gave {again}; expected {first.external_ref}, not created")
            record.skip(DOCUMENTS_INTACT, sample.name, "skipped: the tiny profile does not read documents back")
        if self.endpoint.option("broken", "true") == "true":
            with record.case(BROKEN):
                self.samples.delivery(self.samples.samples[0], target="no-such-target", run_id=self.run_id)


class InterruptedProfile(Profile):
    """Delivers the first bygglov sample, then is interrupted (as by a Ctrl-C) while it delivers the second, after the
    case was made: the cases made so far must be in the reports all the same."""

    name = "interrupted"
    title = "Interrupted test profile"
    contract = "ByggR ArendeExportWS v8, bygglov only"
    checks = (CASE_REFERENCE, IDEMPOTENT_REPEAT)

    def run(self, record: Recorder) -> None:
        target = ByggrTarget({}, self.endpoint.connection())
        first, second = self.samples.of_types("bygglov")[:2]
        for sample in (first, second):
            with record.case(CASE_REFERENCE, sample.name) as case:
                receipt = target.deliver(self.samples.delivery(sample, target="byggr", run_id=self.run_id))
                case.note(f"SaveNewArende -> {receipt.external_ref}")
                if sample is second:
                    raise KeyboardInterrupt
        record.skip(IDEMPOTENT_REPEAT, first.name, "skipped: never reached")


class EchoProfile(Profile):
    """Records the id of the connection its endpoint gives."""

    name = "echo"
    title = "Echo test profile"
    contract = "none"
    checks = (CASE_REFERENCE,)

    def run(self, record: Recorder) -> None:
        with record.case(CASE_REFERENCE) as case:
            case.note(f"connection {self.endpoint.connection().conn_id}")


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setitem(PROFILES, "tiny", f"{__name__}:TinyProfile")
    return "tiny"


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRYGGA_CONFORMANCE_LOGIN", raising=False)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)


def test_the_kit_imports_neither_the_simulators_nor_airflow() -> None:
    """The kit is installed on a vendor's machine: the simulators are for Brygga's tests, and Airflow is not there.
    (The contract files shipped with the simulators are read as package data, not imported.)"""
    offenders = []
    for path in (REPO_ROOT / "conformance").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(REPO_ROOT)} imports {name}" for name in names
                          if name.split(".")[0] in ("brygga_simulators", "airflow", "brygga_airflow")]
    assert offenders == []


# --- the Recorder ---------------------------------------------------------------------------------------------------

def test_the_recorder_keeps_one_outcome_per_case_and_swallows_an_exception() -> None:
    seen: list[CaseResult] = []
    record = Recorder(seen.append)
    with record.case(CASE_REFERENCE, "a") as case:
        case.note("SaveNewArende -> BN 1")
    with record.case(CASE_REFERENCE, "b") as case:
        case.fail("no reference came back")
        case.fail("the reply had no diarienummer element")
    with record.case(FAULT_ON_INVALID):
        raise ConnectionResetError("the server closed the connection")
    record.skip(DOCUMENTS_INTACT, "a", "skipped: the contract cannot show documents")

    assert [(r.check.id, r.sample, r.outcome) for r in record.results] == [
        ("case-reference", "a", "passed"), ("case-reference", "b", "failed"), ("fault-on-invalid", None, "error"),
        ("documents-intact", "a", "skipped")]
    assert record.results[0].notes == ["SaveNewArende -> BN 1"] and record.results[0].findings == []
    assert record.results[1].findings == ["no reference came back", "the reply had no diarienummer element"]
    assert record.results[2].findings == ["ConnectionResetError: the server closed the connection"]
    assert record.results[3].findings == ["skipped: the contract cannot show documents"]
    assert seen == record.results
    assert record.outcome(CASE_REFERENCE, "b") == "failed"
    assert record.outcome(FAULT_ON_INVALID) == "error"
    assert record.outcome(IDEMPOTENT_REPEAT, "a") is None


def test_a_ctrl_c_is_not_swallowed_but_the_case_it_cut_short_is_recorded() -> None:
    """What the case noted before the Ctrl-C (a case it made, say) is kept: the run's report lists it."""
    record = Recorder()
    with pytest.raises(KeyboardInterrupt), record.case(CASE_REFERENCE, "a") as case:
        case.note("SaveNewArende -> BN 2026-000001")
        raise KeyboardInterrupt
    (cut,) = record.results
    assert (cut.outcome, cut.findings, cut.notes) == (
        "error", ["interrupted (Ctrl-C) before this check finished"], ["SaveNewArende -> BN 2026-000001"])


def test_the_recorder_scrubs_the_samples_values_and_words_findings_for_the_kit(tmp_path: Path) -> None:
    """Whatever a profile did not foresee (an endpoint's text in an exception, say) loses the samples' personal values
    before it is recorded; the schema's own words, references and short numbers stay."""
    samples = SampleSet.load(tmp_path, ["bygglov-person"])
    record = Recorder(scrub=Scrubber.of(samples.samples))
    with record.case(CASE_REFERENCE, "bygglov-person") as case:
        case.note("SaveNewArende -> BN 2026-000001 for the applicant (a person), 77 bytes")
        case.fail("the endpoint said: Ogiltig intressent Johan Berglund 19850314-2385 (8503142385), Stationsgatan 5, "
                  "69232 Kumla, johan.berglund@example.se; file Situationsplan.pdf; KUMLA KVARNEN 4:12")
        case.fail("connection 'c': OAuth2 token endpoint: check the extra 'token_url' (extra 'allow_http' too)")
    (result,) = record.results
    assert result.notes == ["SaveNewArende -> BN 2026-000001 for the applicant (a person), 77 bytes"]
    assert result.findings == [
        "the endpoint said: Ogiltig intressent [redacted] [redacted] [redacted] ([redacted]), [redacted], 69232 "
        "[redacted], [redacted]; file [redacted]; [redacted]",
        "connection 'c': OAuth2 token endpoint: check --option token_url (extra 'allow_http' too)"]


# --- the endpoint and the samples -----------------------------------------------------------------------------------

def test_the_endpoint_connection_takes_credentials_from_the_environment_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRYGGA_CONFORMANCE_LOGIN", "vendor")
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    endpoint = Endpoint("http://byggr-test.example:8080/ArendeExportWS?wsdl=/x.wsdl",
                        {"auth": "oauth2", "token_url": "/token", "contract": "v4"})
    connection = endpoint.connection(scope="orders")
    assert (connection.login, connection.password) == ("vendor", "s3cret")
    assert connection.base_url == "http://byggr-test.example:8080/ArendeExportWS"
    # Connection options and the given extras are extras; a profile option (contract) is not.
    assert connection.extra == {"wsdl": "/x.wsdl", "auth": "oauth2", "token_url": "/token", "scope": "orders",
                                "allow_http": "true"}
    assert "allow_http" not in Endpoint("https://byggr-test.example/ArendeExportWS").connection().extra
    with pytest.raises(EndpointError, match="must not carry credentials; set BRYGGA_CONFORMANCE_LOGIN"):
        Endpoint("https://vendor:s3cret@byggr-test.example/")
    with pytest.raises(EndpointError, match="http or https URL"):
        Endpoint("ftp://byggr-test.example/")


def test_every_connection_of_a_run_is_its_own(tmp_path: Path, byggr: RunningSimulator,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapters cache a client per connection in the process: a run's connection ids carry its run id, so an
    in-process run never meets a client another run made (of another endpoint, perhaps, on the same port)."""
    assert Endpoint("https://byggr-test.example/", run_id="r7").connection().conn_id == "conformance-r7"
    assert Endpoint("https://byggr-test.example/", run_id="r7").connection("status").conn_id == "status-r7"
    assert Endpoint("https://byggr-test.example/").connection().conn_id == "conformance"
    monkeypatch.setitem(PROFILES, "echo", f"{__name__}:EchoProfile")
    first = run_profile("echo", Endpoint(byggr.url), workdir=tmp_path, run_id="r8")
    second = run_profile("echo", Endpoint(byggr.url), workdir=tmp_path)
    assert first.results[0].notes == ["connection conformance-r8"]
    assert second.results[0].notes == [f"connection conformance-{second.run_id}"]


def test_the_sample_set_is_the_bundled_samples_that_translate(tmp_path: Path) -> None:
    samples = SampleSet.load(tmp_path)
    names = [s.name for s in samples.samples]
    # The samples meant to fail are left out; the JSON push is told apart from the XML export of the same form.
    assert "bygglov-malformed" not in names and "bygglov-bad-personnummer" not in names
    assert {"bygglov-person", "felanmalan-gatlykta", "webhook-felanmalan-gatlykta", "varmepump-bergvarme"} <= set(names)
    person = next(s for s in samples.samples if s.name == "bygglov-person")
    assert person.route == "kumla-bygglov" and person.documents
    for document in person.documents:
        assert document.path.is_file() and document.path.stat().st_size == document.size
    assert [s.name for s in samples.of_types("varmepump")] == ["varmepump-bergvarme"]

    request = samples.delivery(person, target="byggr", run_id="r1")
    again = samples.delivery(person, target="byggr", run_id="r1", repeat=1)
    other_run = samples.delivery(person, target="byggr", run_id="r2")
    assert request.extern_ref == "conformance-r1-bygglov-person"
    assert (again.extern_ref, again.idempotency_key, again.payload) == (
        request.extern_ref, request.idempotency_key, request.payload)
    assert other_run.idempotency_key != request.idempotency_key
    assert request.payload["komkod"] == "1881" and request.documents == person.documents
    assert samples.target_config("kumla-felanmalan", "workorder")["create"] == {"path": "/orders"}

    with pytest.raises(UnknownSample, match=r"no sample 'nope'; known: .*bygglov-person"):
        SampleSet.load(tmp_path, ["bygglov-person", "nope"])
    assert [s.name for s in SampleSet.load(tmp_path, ["felanmalan-gatlykta"]).samples] == ["felanmalan-gatlykta"]
    with pytest.raises(UnknownSample, match="route kumla-bygglov has no target 'workorder'; its targets: byggr"):
        samples.delivery(person, target="workorder", run_id="r1")


def test_only_the_samples_asked_for_are_translated(tmp_path: Path) -> None:
    """A translated sample's attachments are in the content store: asked for one sample, only its are there."""
    (only,) = SampleSet.load(tmp_path / "one", ["felanmalan-gatlykta"]).samples
    stored = [p.name for p in (tmp_path / "one" / "content").rglob("*") if p.is_file()]
    assert sorted(stored) == sorted(d.sha256 for d in only.documents) and len(stored) == 1
    every = SampleSet.load(tmp_path / "all").samples
    assert len([p for p in (tmp_path / "all" / "content").rglob("*") if p.is_file()]) == len(
        {d.sha256 for s in every for d in s.documents}) > 1


def test_profile_class_names_the_known_profiles() -> None:
    with pytest.raises(UnknownProfile, match="no profile 'nope'; known: byggr-soap, ecos-soap, case-rest, "
                                             "eservice-callback"):
        profile_class("nope")


# --- run_profile and the reports ------------------------------------------------------------------------------------

def test_run_profile_records_every_check_against_the_simulator(tiny: str, byggr: RunningSimulator,
                                                               tmp_path: Path) -> None:
    progress: list[CaseResult] = []
    report = run_profile(tiny, Endpoint(byggr.url), workdir=tmp_path, run_id="t1", progress=progress.append)
    bygglov = ["bygga-hus-va", "bygglov-organisation", "bygglov-person"]
    assert [(r.check.id, r.sample, r.outcome) for r in report.results] == [
        *[(check, name, outcome) for name in bygglov for check, outcome in (
            ("case-reference", "passed"), ("idempotent-repeat", "passed"), ("documents-intact", "skipped"))],
        ("broken", None, "error")]
    assert progress == report.results
    assert report.results[0].notes == ["SaveNewArende -> BN 2026-000001"]
    assert report.results[-1].findings == ["UnknownSample: route kumla-bygglov has no target 'no-such-target'; "
                                           "its targets: byggr"]
    assert not report.ok  # the error counts against the run
    assert report.counts() == {"passed": 6, "failed": 0, "error": 1, "skipped": 3}
    assert (report.profile, report.run_id, report.title) == ("tiny", "t1", "Tiny test profile")
    assert any("plain http" in note for note in report.notes)
    assert any("fastighetsnyckel" in note for note in report.notes)

    failing = run_profile(tiny, Endpoint(byggr.url, {"prefix": "XX"}), workdir=tmp_path, samples=["bygglov-person"])
    (reference,) = [r for r in failing.results if r.check == CASE_REFERENCE]
    assert reference.outcome == "failed"
    assert reference.findings == ["reference BN 2026-000004 does not start with XX"]


def test_run_profile_refuses_before_any_check(tiny: str, tmp_path: Path) -> None:
    with pytest.raises(UnknownOption, match="profile tiny has no option 'contract'; known: prefix, broken, auth"):
        run_profile(tiny, Endpoint("http://127.0.0.1:9/", {"contract": "v4"}), workdir=tmp_path)
    with pytest.raises(UnknownSample, match="no sample 'nope'"):
        run_profile(tiny, Endpoint("http://127.0.0.1:9/"), workdir=tmp_path, samples=["nope"])
    closed = dead_url("byggr").split("?")[0]
    port = re.search(r":(\d+)/", closed).group(1)
    with pytest.raises(EndpointUnreachable, match=f"127.0.0.1:{port}: connection refused"):
        run_profile(tiny, Endpoint(closed), workdir=tmp_path)


def _report(results: list[CaseResult]) -> RunReport:
    return RunReport(profile="tiny", endpoint="https://byggr-test.example/ArendeExportWS", run_id="t9",
                     started=datetime(2026, 11, 30, 14, 0, tzinfo=UTC), seconds=1.5, results=results,
                     brygga_version="9.9", title="Tiny test profile", contract="ByggR v8",
                     checks=(CASE_REFERENCE, IDEMPOTENT_REPEAT, DOCUMENTS_INTACT), samples=["a", "b"])


RESULTS = [
    CaseResult(CASE_REFERENCE, "a", "passed", [], 0.25, ["SaveNewArende -> BN 2026-000001"]),
    CaseResult(CASE_REFERENCE, "b", "failed", ["no reference came back", "the reply was empty"], 0.5),
    CaseResult(IDEMPOTENT_REPEAT, "a", "error", ["ConnectionResetError: reset by peer"], 0.1),
    CaseResult(DOCUMENTS_INTACT, "a", "skipped", ["skipped: the contract cannot show documents"], 0.0),
    CaseResult(FAULT_ON_INVALID, None, "passed", [], 0.2, ["SaveNewArende without arendetyp -> SOAP Fault"]),
]


def test_the_junit_report_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "out" / "junit.xml"
    write_junit(_report(RESULTS), path)
    (suite,) = list(JUnitXml.fromfile(str(path)))
    assert (suite.name, suite.tests, suite.failures, suite.errors, suite.skipped) == ("tiny", 5, 1, 1, 1)
    cases = list(suite)
    assert [(c.classname, c.name) for c in cases] == [
        ("tiny.case-reference", "a"), ("tiny.case-reference", "b"), ("tiny.idempotent-repeat", "a"),
        ("tiny.documents-intact", "a"), ("tiny.fault-on-invalid", "fault-on-invalid")]
    assert cases[0].is_passed and cases[0].system_out == "SaveNewArende -> BN 2026-000001"
    (failure,) = cases[1].result
    assert isinstance(failure, Failure)
    assert failure.message == "no reference came back (and 1 more finding)"
    assert failure.text == "no reference came back\nthe reply was empty"
    (error,) = cases[2].result
    assert isinstance(error, Error) and error.message == "ConnectionResetError: reset by peer"
    (skipped,) = cases[3].result
    assert isinstance(skipped, Skipped) and skipped.message == "skipped: the contract cannot show documents"
    assert {p.name: p.value for p in suite.properties()} == {
        "endpoint": "https://byggr-test.example/ArendeExportWS", "run_id": "t9", "brygga_version": "9.9"}


def test_the_html_report_shows_every_check_and_escapes_what_came_back(tmp_path: Path) -> None:
    hostile = CaseResult(IDEMPOTENT_REPEAT, "b", "failed", ['the reply held <script>alert("x")</script>'], 0.1)
    html = render_html(_report([*RESULTS, hostile]))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "Failed" in html and "1 errored, 1 skipped" in html
    # One table per check, in the profile's order, then a check the profile did not declare.
    sections = re.findall(r'<section id="([a-z-]+)">', html)
    assert sections == ["case-reference", "idempotent-repeat", "documents-intact", "fault-on-invalid"]
    for text in ("no reference came back", "the reply was empty", "SaveNewArende -> BN 2026-000001",
                 "skipped: the contract cannot show documents", "https://byggr-test.example/ArendeExportWS"):
        assert text.replace(">", "&gt;") in html
    assert "<link" not in html and "src=" not in html  # self-contained
    write_html(_report(RESULTS[:1]), tmp_path / "r" / "report.html")
    written = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "Passed" in written and "Not recorded in this run." in written


# --- the CLI --------------------------------------------------------------------------------------------------------

@pytest.fixture
def report_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "reports"


def test_the_cli_reports_an_error_and_exits_1(tiny: str, byggr: RunningSimulator, report_dir: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["conformance", "--profile", tiny, "--endpoint", byggr.url, "--sample", "bygglov-person",
                 "--report-dir", str(report_dir)])
    out, err = capsys.readouterr()
    # The broken check errors on every run of the tiny profile: exit 1, and it says why.
    assert code == 1
    assert "error broken: UnknownSample: route kumla-bygglov has no target 'no-such-target'" in out
    assert "  passed  case-reference bygglov-person" in err and "  error   broken" in err
    assert f"JUnit XML: {report_dir / 'junit.xml'}" in out and f"HTML report: {report_dir / 'report.html'}" in out
    (suite,) = list(JUnitXml.fromfile(str(report_dir / "junit.xml")))
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (4, 0, 1, 1)
    assert "BN 2026-000001" in (report_dir / "report.html").read_text(encoding="utf-8")


def test_the_cli_exits_0_when_every_check_passes(tiny: str, byggr: RunningSimulator, report_dir: Path) -> None:
    assert main(["conformance", "--profile", tiny, "--endpoint", byggr.url, "--option", "broken=false",
                 "--report-dir", str(report_dir)]) == 0
    (suite,) = list(JUnitXml.fromfile(str(report_dir / "junit.xml")))
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (9, 0, 0, 3)


def test_the_cli_exits_1_on_a_finding(tiny: str, byggr: RunningSimulator, report_dir: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["conformance", "--profile", tiny, "--endpoint", byggr.url, "--option", "prefix=XX",
                 "--sample", "bygglov-person", "--report-dir", str(report_dir)])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "failed case-reference bygglov-person: reference BN 2026-000001 does not start with XX" in out


def test_the_cli_exits_3_when_nothing_answers(tiny: str, report_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    closed = dead_url("byggr").split("?")[0]
    assert main(["conformance", "--profile", tiny, "--endpoint", closed, "--report-dir", str(report_dir)]) == 3
    err = capsys.readouterr().err
    assert "nothing listens at the endpoint, nothing was checked:" in err and "connection refused" in err
    assert not report_dir.exists()


def test_a_report_dir_that_cannot_be_written_stops_the_run_before_a_request(
        tiny: str, byggr: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("a file, not a folder", encoding="utf-8")
    blocked = tmp_path / "notes.txt" / "reports"
    assert main(["conformance", "--profile", tiny, "--endpoint", byggr.url, "--report-dir", str(blocked)]) == 2
    assert (f"brygga conformance: --report-dir {blocked}: {tmp_path / 'notes.txt'} is not a folder"
            in capsys.readouterr().err)
    (tmp_path / "taken" / "junit.xml").mkdir(parents=True)
    assert main(["conformance", "--profile", tiny, "--endpoint", byggr.url, "--report-dir",
                 str(tmp_path / "taken")]) == 2
    assert (f"--report-dir {tmp_path / 'taken'}: {tmp_path / 'taken' / 'junit.xml'} is a folder, where the report "
            "junit.xml goes") in capsys.readouterr().err
    assert byggr.app.captured_requests == []  # nothing was sent, no case made


def test_the_summary_comes_before_the_reports_are_written(tiny: str, byggr: RunningSimulator, report_dir: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A report that cannot be written (a full disk) loses nothing of the run: the summary is already out."""
    def full_disk(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli, "write_html", full_disk)
    code = main(["conformance", "--profile", tiny, "--endpoint", byggr.url, "--option", "broken=false",
                 "--sample", "bygglov-person", "--report-dir", str(report_dir)])
    out, err = capsys.readouterr()
    assert code == 2
    assert f"tiny at {byggr.url}: passed (2 passed, 0 failed, 0 errored, 1 skipped)" in out
    assert f"brygga conformance: the reports could not be written to {report_dir}: No space left on device" in err
    assert "HTML report:" not in out


def test_a_ctrl_c_writes_both_reports_with_the_cases_made_so_far_and_exits_130(
        byggr: RunningSimulator, report_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(PROFILES, "interrupted", f"{__name__}:InterruptedProfile")
    code = main(["conformance", "--profile", "interrupted", "--endpoint", byggr.url, "--report-dir", str(report_dir)])
    out, err = capsys.readouterr()

    assert code == 130
    assert f"interrupted at {byggr.url}: INTERRUPTED (1 passed, 0 failed, 2 errored, 0 skipped)" in out
    assert f"JUnit XML: {report_dir / 'junit.xml'}" in out and f"HTML report: {report_dir / 'report.html'}" in out
    assert "brygga conformance: interrupted (Ctrl-C): the reports hold the checks made until then" in err
    (suite,) = list(JUnitXml.fromfile(str(report_dir / "junit.xml")))
    cases = list(suite)
    assert [(c.classname, c.name) for c in cases] == [
        ("interrupted.case-reference", "bygga-hus-va"), ("interrupted.case-reference", "bygglov-organisation"),
        ("interrupted.profile-ran", "profile-ran")]
    # Both cases the run made are named, the one whose check the Ctrl-C cut short too.
    assert [c.system_out for c in cases[:2]] == ["SaveNewArende -> BN 2026-000001", "SaveNewArende -> BN 2026-000002"]
    (cut,) = cases[1].result
    assert cut.message == "interrupted (Ctrl-C) before this check finished"
    (ended,) = cases[2].result
    assert ended.message.startswith("the run was interrupted (Ctrl-C): the checks after this point did not run")
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    assert "BN 2026-000002" in html and '<span class="verdict bad">Interrupted</span>' in html
    assert len(byggr.app.cases) == 2


@pytest.mark.parametrize(("args", "message"), [
    (["--profile", "nope", "--endpoint", "http://127.0.0.1:9/"],
     "no profile 'nope'; known: byggr-soap, ecos-soap, case-rest, eservice-callback, tiny"),
    (["--profile", "tiny", "--endpoint", "http://127.0.0.1:9/", "--option", "colour=red"],
     "profile tiny has no option 'colour'; known: prefix, broken, auth, token_url, scope, api_key_header, "
     "read_timeout, connect_timeout"),
    (["--profile", "tiny", "--endpoint", "http://127.0.0.1:9/", "--option", "prefix"],
     "--option expects KEY=VALUE, got 'prefix' without a value"),
    (["--profile", "tiny", "--endpoint", "http://127.0.0.1:9/", "--sample", "nope"], "no sample 'nope'; known: "),
    (["--profile", "tiny", "--endpoint", "https://vendor:s3cret@byggr.example/"],
     "--endpoint must not carry credentials; set BRYGGA_CONFORMANCE_LOGIN and BRYGGA_CONFORMANCE_PASSWORD instead"),
    (["--profile", "tiny"], "give --profile NAME and --endpoint URL (or --list-profiles)"),
    # A value the profile cannot use: the option, the value and what it may be. The endpoint (port 9, where nothing
    # answers) is never tried: that would be exit 3.
    (["--profile", "byggr-soap", "--endpoint", "http://127.0.0.1:9/", "--option", "contract=v5"],
     "profile byggr-soap: --option contract cannot be 'v5'; allowed: v8, v4"),
    (["--profile", "eservice-callback", "--endpoint", "http://127.0.0.1:9/", "--option", "variant=stockholm",
      "--option", "flow_instance=0"],
     "profile eservice-callback: --option variant cannot be 'stockholm'; allowed: upstream, sundsvall; --option "
     "flow_instance cannot be '0'; allowed: an Open ePlatform flowInstanceID, a positive whole number up to "
     "2147483647 (xs:int)"),
    (["--profile", "ecos-soap", "--endpoint", "http://127.0.0.1:9/", "--option", "wsse=plain", "--option", "fnr=12a",
      "--option", "occurrence_type=Anmälan", "--option", "party_roles=owner=x"],
     "profile ecos-soap: --option wsse cannot be 'plain'; allowed: username_token, username_token_digest; --option "
     "fnr cannot be '12a'; allowed: an FNR, a whole number; --option occurrence_type cannot be 'Anmälan'; allowed: a "
     "GUID (MinutMiljoService lists no occurrence types to find a name in); --option party_roles cannot be "
     "'owner=x'; allowed: role=GUID pairs separated by commas, applicant among them (roles: applicant, "
     "property_owner, contact, representative, invoice_recipient)"),
    (["--profile", "tiny", "--endpoint", "http://127.0.0.1:9/", "--option", "read_timeout=soon", "--option",
      "auth=magic"],
     "profile tiny: --option auth cannot be 'magic'; allowed: basic, bearer, api_key, oauth2; --option read_timeout "
     "cannot be 'soon'; allowed: a number of seconds, more than 0"),
    (["--profile", "case-rest", "--endpoint", "http://127.0.0.1:9/", "--large-document", "101"],
     "--large-document cannot be 101; allowed: 0 (none) to 100 MB"),
])
def test_the_cli_usage_errors_exit_2_and_name_the_known_ones(tiny: str, args: list[str], message: str, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", *args, "--report-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert f"brygga conformance: {message}" in err
    assert "s3cret" not in err
    assert not (tmp_path / "r").exists()


def test_an_option_value_the_profile_cannot_use_stops_the_run_before_a_request(
        byggr: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--profile", "byggr-soap", "--endpoint", byggr.url, "--option", "contract=v5",
                 "--report-dir", str(tmp_path / "r")]) == 2
    assert "brygga conformance: profile byggr-soap: --option contract cannot be 'v5'" in capsys.readouterr().err
    assert byggr.app.captured_requests == []
    with pytest.raises(InvalidOption, match="--option contract cannot be 'v5'; allowed: v8, v4"):
        run_profile("byggr-soap", Endpoint(byggr.url, {"contract": "v5"}), workdir=tmp_path)
    assert byggr.app.captured_requests == []


def test_the_cli_runs_with_a_large_document(workorder, report_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BRYGGA_CONFORMANCE_LOGIN", "brygga")
    monkeypatch.setenv(PASSWORD_ENV, workorder.secret)
    assert main(["conformance", "--profile", "case-rest", "--endpoint", workorder.running.url, "--sample",
                 "felanmalan-gatlykta", "--large-document", "2", "--report-dir", str(report_dir)]) == 0
    html = (report_dir / "report.html").read_text(encoding="utf-8")
    (order,) = workorder.running.app.orders
    drawing = order["attachments"][-1]
    assert drawing["size"] > 2 * 1024 * 1024 - 12 * 1024
    assert f"sha256 {drawing['sha256']}): sha256 and size as sent" in html  # documents-intact, as read back
    assert "conformance-drawing-2mb.pdf" in html


def test_the_help_says_what_exit_3_is_and_what_a_silent_endpoint_gets(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["conformance", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert ("3 when nothing listens at the endpoint (the host name does not resolve, the connection is refused or "
            "connecting times out)") in text
    assert ("An endpoint that accepts the connection but does not answer is not exit 3: each check waits --option "
            "read_timeout (default 30 s) for its answer, then fails or errors (exit 1).") in text


def test_the_cli_lists_the_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["conformance", "--list-profiles"]) == 0
    out = capsys.readouterr().out
    for name in PROFILES:
        cls = profiles.profile_class(name)
        assert f"{name}: {cls.title}" in out
        assert ", ".join(check.id for check in cls.checks) in out
    assert "connection options: auth, token_url" in out
