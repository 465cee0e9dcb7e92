"""The whole route in-process, over real HTTP to the simulators: what the DAG does, without Airflow."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from routing import SAMPLES, dead_url, local

from brygga.admin import SearchQuery, replay, search
from brygga.archive import verify_package
from brygga.connections import ConnectionNotFound
from brygga.errors import ConfigError, CredentialsRefused
from brygga.ledger import State
from brygga.settings import REPO_ROOT
from brygga_simulators.connections import simulate

DNR = re.compile(r"^BN \d{4}-\d{6}$")


def test_a_building_permit_goes_end_to_end(route, byggr, callback):
    route.drop("bygglov-person.xml")
    route.run()
    submission = route.submission("bygglov-person.xml")
    ctx = route.context()
    assert submission.state == State.COMPLETED, ctx.ledger.quarantine_reasons(submission.id)
    dnr = submission.external_ref
    assert dnr and DNR.match(dnr)
    (case,) = byggr.app.cases.values()
    assert case.dnr == dnr and case.extern_ref == f"1881:open-eplatform:{submission.source_reference}"
    assert sum(len(h.documents) for h in case.handelser) == 3
    package = Path(submission.archive_location)
    assert package.parent == route.home / "archive-out" and verify_package(package) == []
    assert [c.operation for c in callback.app.calls] == ["setStatus", "addMessage", "confirmDelivery"]
    assert dnr in str(callback.app.calls_for("addMessage")[0].fields)
    assert [s.step for s in ctx.ledger.steps(submission.id)] == ["intake", "translate", "deliver", "archive",
                                                                  "notify"]
    assert not (route.inbox / "bygglov-person.xml").exists(), "the inbox file is acknowledged"


def test_the_same_file_twice_is_one_submission(route, byggr, callback):
    route.drop("bygglov-person.xml", "first.xml")
    route.drop("bygglov-person.xml", "second.xml")
    route.run()
    assert len(byggr.app.cases) == 1
    reference = route.submission("bygglov-person.xml").source_reference
    assert len(search(route.context().ledger, SearchQuery(text=reference))) == 1
    assert len(callback.app.calls_for("addMessage")) == 1


def test_check_before_create_finds_a_case_the_ledger_never_heard_of(route, byggr):
    """The call succeeded but the answer was lost: the ledger has no record, the target has the case."""
    route.drop("bygglov-person.xml")
    first = route.context()
    route.run()
    dnr = route.submission("bygglov-person.xml").external_ref
    first.ledger.engine.dispose()
    for name in ("ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"):
        (route.home / name).unlink(missing_ok=True)
    route.drop("bygglov-person.xml")
    route.run()
    assert len(byggr.app.cases) == 1
    assert route.submission("bygglov-person.xml").external_ref == dnr


def test_bad_input_goes_to_quarantine_with_readable_reasons(route, byggr, callback):
    for name in ("bygglov-malformed.xml", "bygglov-bad-personnummer.xml"):
        route.drop(name)
    route.run()
    ledger = route.context().ledger
    malformed = route.submission("bygglov-malformed.xml")
    bad_pnr = route.submission("bygglov-bad-personnummer.xml")
    assert malformed.state == bad_pnr.state == State.QUARANTINED
    (reason,) = ledger.quarantine_reasons(malformed.id)
    assert "bygglov-malformed.xml" in reason and "not well-formed" in reason
    reasons = " ".join(ledger.quarantine_reasons(bad_pnr.id))
    assert "personnummer" in reasons and "bygglov.yaml" in reasons
    raw = (SAMPLES / "bygglov-bad-personnummer.xml").read_text(encoding="iso-8859-1")
    (pnr,) = re.findall(r"<SocialSecurityNumber><!\[CDATA\[([^\]]+)\]\]>", raw)
    assert pnr not in reasons
    assert byggr.app.cases == {} and callback.app.calls == []


def test_an_unreachable_case_system_is_retried_then_delivered(route, byggr):
    route.retry(first_delay="0s", max_delay="0s")
    route.connect("byggr_kumla", dead_url("byggr"))
    route.drop("bygglov-person.xml")
    route.run()
    submission = route.submission("bygglov-person.xml")
    ledger = route.context().ledger
    assert submission.state == State.TRANSLATED
    (delivery,) = ledger.deliveries(submission.id)
    assert delivery.state == "failed" and delivery.attempts == 1 and delivery.lease_owner is None
    assert "could not connect" in delivery.last_error
    route.connect("byggr_kumla", local(byggr))
    route.run()
    assert ledger.get(submission.id).state == State.COMPLETED
    assert len(byggr.app.cases) == 1


def test_no_personal_data_in_any_log_record_step_detail_or_reason(route, caplog):
    """Logging is processing of personal data: not even DEBUG output of any library may carry it, nor may the
    ledger's free-text columns an administrator reads."""
    route.drop("bygglov-person.xml")
    route.drop("bygglov-bad-personnummer.xml")
    with caplog.at_level(logging.DEBUG):
        route.run()
    canonical = json.loads(route.submission("bygglov-person.xml").canonical_json)
    applicant = canonical["parties"][0]
    personal = [applicant["personnummer"], applicant["personnummer"][2:8], applicant["givenName"],
                applicant["familyName"], applicant["address"]["street"], applicant["email"], applicant["phone"],
                canonical["properties"][0]["fastighetsbeteckning"], canonical["properties"][0]["address"],
                *(attachment["name"] for attachment in canonical["attachments"])]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert caplog.records, "the run logged nothing at all; the check would prove nothing"
    ledger = route.context().ledger
    written = [f"{step.outcome} {step.detail}" for name in ("bygglov-person.xml", "bygglov-bad-personnummer.xml")
               for step in ledger.steps(route.submission(name).id)]
    written += ledger.quarantine_reasons(route.submission("bygglov-bad-personnummer.xml").id)
    assert any("personnummer" in line for line in written), "the reasons were read; the check would prove nothing"
    for value in personal:
        assert value not in logged, f"a personal value reached the log ({len(caplog.records)} records)"
        assert not [line for line in written if value in line], "a personal value reached the ledger's text"


def test_a_case_type_no_target_takes_is_quarantined(route, byggr):
    route.variant("bygglov: byggr/bygglov.yaml", "felanmalan: byggr/bygglov.yaml")
    route.drop("bygglov-person.xml")
    route.run()
    submission = route.submission("bygglov-person.xml")
    assert submission.state == State.QUARANTINED
    assert route.context().ledger.quarantine_reasons(submission.id) == [
        "route kumla-bygglov has no target for case type bygglov (its targets take: attefall, felanmalan)"]
    assert byggr.app.cases == {}


def test_replay_after_the_cause_is_fixed(route, byggr):
    variant = route.variant("bygglov: byggr/bygglov.yaml", "felanmalan: byggr/bygglov.yaml")
    route.drop("bygglov-person.xml")
    route.run()
    submission = route.submission("bygglov-person.xml")
    assert submission.state == State.QUARANTINED
    variant.write_text((REPO_ROOT / "routes" / "routes.yaml").read_text(encoding="utf-8"))  # the fix
    ledger = route.context().ledger
    assert replay(ledger, submission.id, actor="test").from_state == State.LANDED
    route.run()
    assert ledger.get(submission.id).state == State.COMPLETED
    assert len(byggr.app.cases) == 1


def test_an_unreachable_callback_is_retried_and_the_case_is_not_delivered_twice(route, byggr, callback):
    route.retry(first_delay="0s", max_delay="0s")
    route.connect("oep_kumla", dead_url("oep-callback"))
    route.drop("bygglov-person.xml")
    route.run()
    submission = route.submission("bygglov-person.xml")
    ledger = route.context().ledger
    assert submission.state == State.ARCHIVED
    assert [s.outcome for s in ledger.steps(submission.id) if s.step == "notify"] == ["retry"]
    route.connect("oep_kumla", local(callback))
    route.run()
    assert ledger.get(submission.id).state == State.COMPLETED
    assert len(byggr.app.cases) == 1
    assert [c.operation for c in callback.app.calls] == ["setStatus", "addMessage", "confirmDelivery"]


def test_a_flood_is_taken_in_batches(route, byggr):
    route.variant('    schedule: "*/1', '    batch_size: 2\n    schedule: "*/1')
    for name in ("bygglov-person.xml", "bygglov-organisation.xml", "bygglov-malformed.xml"):
        route.drop(name)
    assert len(route.run()) == 2
    assert len(list(route.inbox.glob("*.xml"))) == 1, "the third file waits for the next run"
    assert len(route.run()) == 1
    assert len(byggr.app.cases) == 2


def _fnr_sent(byggr) -> list[str | None]:
    (case,) = byggr.app.cases.values()
    return [f.get("fnr") for _, f in case.fastigheter()]


def test_the_property_register_gives_byggr_the_fastighetsnyckel(route, byggr):
    route.drop("bygglov-person.xml")
    route.run()
    submission = route.submission("bygglov-person.xml")
    assert submission.state == State.COMPLETED
    assert json.loads(submission.canonical_json)["properties"][0]["fastighetsnyckel"] == 22047412
    assert _fnr_sent(byggr) == ["22047412"]


def test_without_a_property_register_the_route_works_as_before(route, byggr):
    routes = (REPO_ROOT / "routes" / "routes.yaml").read_text(encoding="utf-8")
    lookup = routes[routes.index("    property_lookup:"):routes.index("    targets:")]
    route.variant(lookup, "")
    route.drop("bygglov-person.xml")
    route.run()
    submission = route.submission("bygglov-person.xml")
    assert submission.state == State.COMPLETED
    assert "fastighetsnyckel" not in json.loads(submission.canonical_json)["properties"][0]
    assert _fnr_sent(byggr) == [None]


def test_an_unreachable_property_register_makes_the_submission_wait(route, byggr, register):
    route.retry(first_delay="0s", max_delay="0s")
    register.app.faults.set([{"action": "http_status", "status": 503}])
    route.drop("bygglov-person.xml")
    route.run()
    submission = route.submission("bygglov-person.xml")
    assert submission.state == State.LANDED
    assert route.context().ledger.steps(submission.id)[-1].outcome == "retry"
    assert byggr.app.cases == {}
    register.app.faults.clear()
    route.run()
    assert route.context().ledger.get(submission.id).state == State.COMPLETED


def test_a_missing_or_unsafe_connection_fails_the_run_and_quarantines_nothing(route, byggr, register, monkeypatch):
    """A connection is the platform's business, not the submission's: the run fails (Airflow shows it red and
    retries), the submission waits where it is, and carries on by itself once the connection is fixed."""
    monkeypatch.delenv("BRYGGA_CONN_FASTIGHETSREGISTER_KUMLA")
    route.drop("bygglov-person.xml")
    with pytest.raises(ConnectionNotFound, match="set BRYGGA_CONN_FASTIGHETSREGISTER_KUMLA"):
        route.run()
    first = route.submission("bygglov-person.xml")
    ledger = route.context().ledger
    assert first.state == State.LANDED and ledger.quarantine_reasons(first.id) == []

    route.connect("fastighetsregister_kumla", local(register))
    route.connect("byggr_kumla", byggr.url)  # plain http, without allow_http
    with pytest.raises(ConfigError, match="https-only"):
        route.run()
    assert ledger.get(first.id).state == State.TRANSLATED and ledger.quarantine_reasons(first.id) == []
    assert byggr.app.cases == {}
    for delivery in ledger.deliveries(first.id):
        assert delivery.lease_owner is None, "the lease is released on this exit path too"
    route.connect("byggr_kumla", local(byggr))
    route.run()
    assert ledger.get(first.id).state == State.COMPLETED


def test_a_source_that_will_not_let_an_item_go_holds_up_nothing(route, byggr, monkeypatch, caplog):
    from brygga.errors import TargetRejected
    from brygga_adapters.file import FileInboxSource

    refused: list[str] = []

    def refuse_the_first(self, item):  # type: ignore[no-untyped-def]
        if not refused:
            refused.append(item.name)
            raise TargetRejected("permission denied (rule: the account may not delete)")
        return original(self, item)

    original = FileInboxSource.acknowledge
    monkeypatch.setattr(FileInboxSource, "acknowledge", refuse_the_first)
    route.drop("bygglov-person.xml")
    route.drop("bygglov-organisation.xml")
    route.run()
    assert len(refused) == 1
    assert {route.submission(n).state for n in ("bygglov-person.xml", "bygglov-organisation.xml")} == {"completed"}
    assert "did not take the acknowledgement" in caplog.text
    assert (route.inbox / refused[0]).exists(), "left at the source, to be seen as a duplicate next run"


def test_a_route_whose_account_is_refused_fails_its_run_and_quarantines_nothing(route, byggr, tmp_path):
    with simulate("byggr", tmp_path / "locked") as locked:
        route.connect("byggr_kumla", locked.uri.replace(locked.secret, "expired-password"))
        route.drop("bygglov-person.xml")
        with pytest.raises(CredentialsRefused):  # the task fails; Airflow retries it
            route.run()
        submission = route.submission("bygglov-person.xml")
        assert submission.state == State.TRANSLATED and route.context().ledger.quarantine_reasons(submission.id) == []
        assert locked.running.app.cases == {}
