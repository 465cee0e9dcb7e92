"""The whole route in-process, over real HTTP to the simulators: what the DAG does, without Airflow."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from brygga.archive import verify_package
from brygga.ledger import State
from brygga.pipeline import PipelineContext, run_route
from brygga.settings import REPO_ROOT, Settings
from brygga_simulators import start_simulator

SAMPLES = REPO_ROOT / "samples" / "open-eplatform"
ROUTE = "kumla-bygglov"
DNR = re.compile(r"^BN \d{4}-\d{6}$")


@pytest.fixture
def byggr():
    with start_simulator("byggr") as sim:
        yield sim


@pytest.fixture
def callback():
    with start_simulator("oep-callback") as sim:
        yield sim


@pytest.fixture
def home(tmp_path, monkeypatch, byggr, callback) -> Path:
    monkeypatch.setenv("BRYGGA_HOME", str(tmp_path))
    monkeypatch.setenv("BRYGGA_CONN_BYGGR_KUMLA", f"{byggr.url}?allow_http=true")
    monkeypatch.setenv("BRYGGA_CONN_OEP_KUMLA", f"{callback.url}?allow_http=true")
    return tmp_path


def _context() -> PipelineContext:
    return PipelineContext.for_route(ROUTE, settings=Settings.from_env())


def _drop(home: Path, name: str, as_name: str | None = None, data: bytes | None = None) -> None:
    inbox = home / "inbox" / ROUTE
    inbox.mkdir(parents=True, exist_ok=True)
    target = inbox / (as_name or name)
    if data is None:
        shutil.copyfile(SAMPLES / name, target)
    else:
        target.write_bytes(data)


def _dead_url(simulator: str) -> str:
    """The URL of a simulator that has stopped: nothing answers there."""
    with start_simulator(simulator) as doomed:
        return f"{doomed.url}?allow_http=true"


def _route_variant(home: Path, monkeypatch, old: str, new: str) -> Path:
    """A copy of the bundled routes file with one edit, in use for this test."""
    routes = (REPO_ROOT / "routes" / "routes.yaml").read_text(encoding="utf-8")
    assert old in routes
    variant = home / "routes.yaml"
    variant.write_text(routes.replace(old, new), encoding="utf-8")
    monkeypatch.setenv("BRYGGA_ROUTES", str(variant))
    return variant


def _by_file(ctx: PipelineContext, name: str):
    import hashlib

    return ctx.ledger.by_content(ROUTE, hashlib.sha256((SAMPLES / name).read_bytes()).hexdigest())


def test_a_building_permit_goes_end_to_end(home, byggr, callback):
    _drop(home, "bygglov-person.xml")
    ctx = _context()
    run_route(ctx)
    submission = _by_file(ctx, "bygglov-person.xml")
    assert submission.state == State.COMPLETED, ctx.ledger.quarantine_reasons(submission.id)
    dnr = submission.external_ref
    assert dnr and DNR.match(dnr)
    (case,) = byggr.app.cases.values()
    assert case.dnr == dnr and case.extern_ref == f"1881:open-eplatform:{submission.source_reference}"
    assert sum(len(h.documents) for h in case.handelser) == 3
    package = Path(submission.archive_location)
    assert package.parent == home / "archive-out" and verify_package(package) == []
    operations = [c.operation for c in callback.app.calls]
    assert operations == ["setStatus", "addMessage", "confirmDelivery"]
    message = callback.app.calls_for("addMessage")[0]
    assert dnr in str(message.fields)
    assert [s.step for s in ctx.ledger.steps(submission.id)] == ["intake", "translate", "deliver", "archive",
                                                                  "notify"]
    assert not (home / "inbox" / ROUTE / "bygglov-person.xml").exists(), "the inbox file is acknowledged"


def test_the_same_file_twice_and_a_re_export_give_one_case(home, byggr):
    _drop(home, "bygglov-person.xml", "first.xml")
    _drop(home, "bygglov-person.xml", "second.xml")
    ctx = _context()
    run_route(ctx)
    assert len(byggr.app.cases) == 1
    # The e-service exports the same flow instance again with other bytes: still the same case.
    original = (SAMPLES / "bygglov-person.xml").read_bytes()
    reexport = original.replace(b"</FlowInstance>", b"<!-- re-exported --></FlowInstance>")
    assert reexport != original
    _drop(home, "bygglov-person.xml", "third.xml", data=reexport)
    run_route(_context())
    assert len(byggr.app.cases) == 1
    submissions = ctx.ledger.find(_by_file(ctx, "bygglov-person.xml").source_reference)
    assert len(submissions) == 2 and {s.state for s in submissions} == {State.COMPLETED}
    assert len({s.external_ref for s in submissions}) == 1


def test_check_before_create_finds_a_case_the_ledger_never_heard_of(home, byggr):
    """The call succeeded but the answer was lost: the ledger has no record, the target has the case."""
    _drop(home, "bygglov-person.xml")
    first = _context()
    run_route(first)
    dnr = _by_file(first, "bygglov-person.xml").external_ref
    first.ledger.engine.dispose()
    for name in ("ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"):
        (home / name).unlink(missing_ok=True)
    _drop(home, "bygglov-person.xml")
    again = _context()
    run_route(again)
    assert len(byggr.app.cases) == 1
    assert _by_file(again, "bygglov-person.xml").external_ref == dnr


def test_bad_input_goes_to_quarantine_with_readable_reasons(home, byggr, callback):
    for name in ("bygglov-malformed.xml", "bygglov-bad-personnummer.xml"):
        _drop(home, name)
    ctx = _context()
    run_route(ctx)
    malformed = _by_file(ctx, "bygglov-malformed.xml")
    bad_pnr = _by_file(ctx, "bygglov-bad-personnummer.xml")
    assert malformed.state == bad_pnr.state == State.QUARANTINED
    (reason,) = ctx.ledger.quarantine_reasons(malformed.id)
    assert "bygglov-malformed.xml" in reason and "not well-formed" in reason
    reasons = " ".join(ctx.ledger.quarantine_reasons(bad_pnr.id))
    assert "personnummer" in reasons and "bygglov.yaml" in reasons
    raw = (SAMPLES / "bygglov-bad-personnummer.xml").read_text(encoding="iso-8859-1")
    (pnr,) = re.findall(r"<SocialSecurityNumber><!\[CDATA\[([^\]]+)\]\]>", raw)
    assert pnr not in reasons
    assert byggr.app.cases == {} and callback.app.calls == []


def test_an_unreachable_case_system_is_retried_then_delivered(home, byggr, monkeypatch):
    monkeypatch.setenv("BRYGGA_CONN_BYGGR_KUMLA", _dead_url("byggr"))
    _drop(home, "bygglov-person.xml")
    ctx = _context()
    run_route(ctx)
    submission = _by_file(ctx, "bygglov-person.xml")
    assert ctx.ledger.get(submission.id).state == State.TRANSLATED
    (delivery,) = ctx.ledger.deliveries(submission.id)
    assert delivery.state == "failed" and delivery.attempts == 1
    monkeypatch.setenv("BRYGGA_CONN_BYGGR_KUMLA", f"{byggr.url}?allow_http=true")
    run_route(_context())
    assert ctx.ledger.get(submission.id).state == State.COMPLETED
    assert len(byggr.app.cases) == 1


def test_no_personal_data_in_any_log_record(home, caplog):
    """Logging is processing of personal data: not even DEBUG output of any library may carry it."""
    import logging

    _drop(home, "bygglov-person.xml")
    _drop(home, "bygglov-bad-personnummer.xml")
    with caplog.at_level(logging.DEBUG):
        ctx = _context()
        run_route(ctx)
    case = ctx.ledger.get(_by_file(ctx, "bygglov-person.xml").id)
    import json

    canonical = json.loads(case.canonical_json)
    applicant = canonical["parties"][0]
    personal = [applicant["personnummer"], applicant["personnummer"][2:8], applicant["givenName"],
                applicant["familyName"], applicant["address"]["street"], applicant["email"]]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records, "the run logged nothing at all; the check would prove nothing"
    for value in personal:
        assert value not in logged, f"a personal value reached the log ({len(caplog.records)} records)"


def test_a_case_type_no_target_takes_is_quarantined(home, byggr, monkeypatch):
    _route_variant(home, monkeypatch, "case_types: [bygglov]", "case_types: [felanmalan]")
    _drop(home, "bygglov-person.xml")
    ctx = _context()
    run_route(ctx)
    submission = _by_file(ctx, "bygglov-person.xml")
    assert submission.state == State.QUARANTINED
    assert ctx.ledger.quarantine_reasons(submission.id) == [
        "route 'kumla-bygglov' has no target for case type 'bygglov'"]
    assert byggr.app.cases == {}


def test_replay_after_the_cause_is_fixed(home, byggr, monkeypatch):
    from brygga.admin import replay

    variant = _route_variant(home, monkeypatch, "case_types: [bygglov]", "case_types: [felanmalan]")
    _drop(home, "bygglov-person.xml")
    run_route(_context())
    ctx = _context()
    submission = _by_file(ctx, "bygglov-person.xml")
    assert submission.state == State.QUARANTINED
    variant.write_text((REPO_ROOT / "routes" / "routes.yaml").read_text(encoding="utf-8"))  # the fix
    assert replay(ctx.ledger, submission.id).from_state == State.LANDED
    run_route(_context())
    assert ctx.ledger.get(submission.id).state == State.COMPLETED
    assert len(byggr.app.cases) == 1


def test_an_unreachable_callback_is_retried_and_the_case_is_not_delivered_twice(home, byggr, callback, monkeypatch):
    monkeypatch.setenv("BRYGGA_CONN_OEP_KUMLA", _dead_url("oep-callback"))
    _drop(home, "bygglov-person.xml")
    ctx = _context()
    run_route(ctx)
    submission = _by_file(ctx, "bygglov-person.xml")
    assert submission.state == State.ARCHIVED
    assert ctx.ledger.count_steps(submission.id, "notify", "retry") == 1
    monkeypatch.setenv("BRYGGA_CONN_OEP_KUMLA", f"{callback.url}?allow_http=true")
    run_route(_context())
    assert ctx.ledger.get(submission.id).state == State.COMPLETED
    assert len(byggr.app.cases) == 1
    assert [c.operation for c in callback.app.calls] == ["setStatus", "addMessage", "confirmDelivery"]


def test_a_flood_is_taken_in_batches(home, byggr, monkeypatch):
    _route_variant(home, monkeypatch, "max_delivery_attempts: 5", "max_delivery_attempts: 5\n    batch_size: 2")
    for name in ("bygglov-person.xml", "bygglov-organisation.xml", "bygglov-malformed.xml"):
        _drop(home, name)
    assert len(run_route(_context())) == 2
    assert len(list((home / "inbox" / ROUTE).glob("*.xml"))) == 1, "the third file waits for the next run"
    assert len(run_route(_context())) == 1
    assert len(byggr.app.cases) == 2
