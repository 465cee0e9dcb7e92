"""Dispatch by e-service on the bundled routes, in-process over real HTTP to the simulators: one inbox takes two
e-services, each to its own mapping and its own ByggR registration; an e-service no mapping of the route accepts is
quarantined with a reason naming it and the route that would take it; a route without a case system archives and
answers the resident only."""

from __future__ import annotations

from pathlib import Path

from brygga.archive import verify_package
from brygga.ledger import State


def test_one_inbox_two_e_services_each_registered_as_its_own_kind(route, byggr):
    route.drop("bygglov-person.xml")
    route.drop("attefall-utf8.xml")
    route.run()
    bygglov, attefall = route.submission("bygglov-person.xml"), route.submission("attefall-utf8.xml")
    ledger = route.context().ledger
    for submission in (bygglov, attefall):
        assert submission.state == State.COMPLETED, ledger.quarantine_reasons(submission.id)
    assert (bygglov.case_type, attefall.case_type) == ("bygglov", "attefall")
    kinds = {case.dnr: (case.element.get("arendegrupp"), case.element.get("arendetyp"))
             for case in byggr.app.cases.values()}
    assert kinds == {bygglov.external_ref: ("LOV", "BL"), attefall.external_ref: ("ANM", "ATT")}


def test_an_e_service_no_mapping_accepts_is_quarantined_naming_it_and_the_route_that_takes_it(route, byggr):
    route.drop("felanmalan-gatlykta.xml")
    route.run()
    submission = route.submission("felanmalan-gatlykta.xml")
    assert submission.state == State.QUARANTINED
    assert route.context().ledger.quarantine_reasons(submission.id) == [
        "no mapping accepts Open ePlatform FamilyID 301, FlowID 3120, version 2 (Felanmälan gata och park); "
        "route kumla-bygglov has: mappings/open-eplatform/bygglov.yaml (FamilyID 412), "
        "mappings/open-eplatform/attefall.yaml (FamilyID 127); routes that accept it: kumla-felanmalan"]
    assert byggr.app.cases == {}


def test_a_route_without_a_case_system_archives_and_tells_the_resident(route, byggr, callback):
    felanmalan = route.other("kumla-felanmalan")
    felanmalan.drop("felanmalan-gatlykta.xml")
    felanmalan.run()
    submission = felanmalan.submission("felanmalan-gatlykta.xml")
    ledger = felanmalan.context().ledger
    assert submission.state == State.COMPLETED, ledger.quarantine_reasons(submission.id)
    assert submission.external_ref is None and byggr.app.cases == {}
    assert [(s.step, s.outcome) for s in ledger.steps(submission.id)] == [
        ("intake", "ok"), ("translate", "ok"), ("deliver", "skipped"), ("archive", "ok"), ("notify", "ok")]
    package = Path(submission.archive_location)
    assert verify_package(package) == [] and (package / "schemas" / "felanmalan.v1.schema.json").is_file()
    (message,) = callback.app.calls_for("addMessage")
    assert "Tack för din felanmälan" in str(message.fields) and "None" not in str(message.fields)
