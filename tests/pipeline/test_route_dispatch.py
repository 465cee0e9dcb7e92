"""Dispatch by e-service on the bundled routes, in-process over real HTTP to the simulators: one inbox takes two
e-services, each to its own mapping and its own ByggR registration; an e-service no mapping of the route accepts is
quarantined with a reason naming it and the route that would take it; a route without a case system archives and
answers the resident only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from routing import SAMPLES, dead_url, local

from brygga.archive import verify_package
from brygga.ledger import State
from brygga.settings import REPO_ROOT

# An answer added in a second export of the same FlowInstance: a revision.
REVISED_ANSWER = (b"<tillagg><QueryID>31099</QueryID><Name>Till\xc3\xa4gg</Name>"
                  b"<Value>Lampan blinkar nu ocks\xc3\xa5.</Value></tillagg></Values>")


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
        "route kumla-bygglov has: mappings/open-eplatform/bygglov.yaml (FamilyID 412; or FamilyID 640), "
        "mappings/open-eplatform/attefall.yaml (FamilyID 127); routes that accept it: kumla-felanmalan"]
    assert byggr.app.cases == {}


def test_a_route_without_a_case_system_archives_and_tells_the_resident(route, byggr, callback):
    felanmalan = route.without_work_orders()
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


def test_a_case_type_whose_target_was_taken_away_after_translate_is_quarantined_not_passed(route, byggr, callback):
    route.connect("byggr_kumla", dead_url("byggr"))
    route.drop("bygglov-person.xml")
    route.run()
    assert route.submission("bygglov-person.xml").state == State.TRANSLATED  # waiting for ByggR
    route.variant("          bygglov: byggr/bygglov.yaml\n", "")  # the routes file changes meanwhile
    route.connect("byggr_kumla", local(byggr))
    route.run()
    submission = route.submission("bygglov-person.xml")
    assert submission.state == State.QUARANTINED and submission.external_ref is None
    assert route.context().ledger.quarantine_reasons(submission.id) == [
        "route kumla-bygglov has no target for case type bygglov (its targets take: attefall)"]
    assert callback.app.calls == [], "the resident is never told of a diarienummer that does not exist"


def test_a_revision_on_a_route_without_a_case_system_gets_a_package_of_its_own(route, callback):
    felanmalan = route.without_work_orders()
    callback.app.faults.set([{"action": "soap_fault", "faultcode": "Client", "faultstring": "refused"}])
    felanmalan.drop("felanmalan-gatlykta.xml")
    felanmalan.run()
    first = felanmalan.submission("felanmalan-gatlykta.xml")
    assert first.state == State.QUARANTINED and first.archive_location is not None  # archived, then notify refused
    callback.app.faults.clear()
    revised = _revised("felanmalan-gatlykta.xml")
    felanmalan.drop("felanmalan-gatlykta.xml", as_name="revision.xml", data=revised)
    felanmalan.run()
    second = felanmalan.submission(revised)
    assert second.state == State.COMPLETED and (second.revision, second.amends) == (2, first.id)
    assert second.archive_location != first.archive_location
    archived = json.loads((Path(second.archive_location) / "representations" / "rep1" / "data" / "case.json")
                          .read_text(encoding="utf-8"))
    assert {"question": "tillagg", "label": "Tillägg", "value": "Lampan blinkar nu också."} in archived["formAnswers"]


def test_another_routes_broken_mapping_only_narrows_the_hint(route, byggr, monkeypatch):
    mappings = route.home / "mappings"
    shutil.copytree(REPO_ROOT / "mappings", mappings)
    (mappings / "open-eplatform" / "felanmalan.yaml").write_text("source: xml\noutput: {requird: true}\n")
    monkeypatch.setenv("BRYGGA_MAPPINGS", str(mappings))
    route.drop("felanmalan-gatlykta.xml")
    route.run()  # kumla-bygglov's run is not stopped by kumla-felanmalan's mapping
    submission = route.submission("felanmalan-gatlykta.xml")
    assert submission.state == State.QUARANTINED
    (reason,) = route.context().ledger.quarantine_reasons(submission.id)
    assert reason.startswith("no mapping accepts Open ePlatform FamilyID 301") and "routes that accept" not in reason


def test_one_inbox_with_a_case_system_for_one_e_service_and_none_for_another(route, byggr, callback):
    # Open ePlatform exports every e-service to one integration: the felanmälan comes through the bygglov inbox.
    route.variant("open-eplatform/attefall.yaml]",
                  "open-eplatform/attefall.yaml, open-eplatform/felanmalan.yaml]\n"
                  "    without_case_system: [felanmalan]")
    route.variant("      connection: oep_kumla\n      status: Under handläggning\n",
                  "      connection: oep_kumla\n      status: Under handläggning\n      case_types:\n"
                  "        felanmalan: {status: Mottagen, message: Tack för din felanmälan.}\n")
    route.drop("bygglov-person.xml")
    route.drop("felanmalan-gatlykta.xml")
    route.run()
    bygglov, felanmalan = route.submission("bygglov-person.xml"), route.submission("felanmalan-gatlykta.xml")
    assert (bygglov.state, felanmalan.state) == (State.COMPLETED, State.COMPLETED)
    assert bygglov.external_ref and felanmalan.external_ref is None
    assert [case.dnr for case in byggr.app.cases.values()] == [bygglov.external_ref]
    statuses = [str(c.fields) for c in callback.app.calls_for("setStatus")]
    messages = [str(c.fields) for c in callback.app.calls_for("addMessage")]
    assert any("Mottagen" in s for s in statuses) and any("Under handläggning" in s for s in statuses)
    assert any("Tack för din felanmälan." in m for m in messages)
    assert any(bygglov.external_ref in m for m in messages) and not any("None" in m for m in messages)


def _revised(sample: str) -> bytes:
    """The sample exported again with one more answer: revision 2 of the same reference."""
    return (SAMPLES / sample).read_bytes().replace(b"</Values>", REVISED_ANSWER)


def test_a_revision_after_its_case_type_got_a_case_system_still_gets_a_package_of_its_own(route, byggr):
    route.variant("open-eplatform/attefall.yaml]", "open-eplatform/attefall.yaml]\n    without_case_system: [bygglov]")
    route.variant("          bygglov: byggr/bygglov.yaml\n", "")
    route.drop("bygglov-person.xml")
    route.run()
    first = route.submission("bygglov-person.xml")
    assert first.state == State.COMPLETED and first.external_ref is None
    bundled = (REPO_ROOT / "routes" / "routes.yaml").read_text(encoding="utf-8")
    (route.home / "routes.yaml").write_text(bundled, encoding="utf-8")  # bygglov goes to ByggR again
    route.drop("bygglov-person.xml", as_name="revision.xml", data=_revised("bygglov-person.xml"))
    route.run()
    second = route.submission(_revised("bygglov-person.xml"))
    assert second.state == State.COMPLETED and second.revision == 2 and second.external_ref
    assert second.archive_location != first.archive_location, "the new content is in a package of its own"


def test_a_komplettering_of_a_case_whose_case_system_was_taken_away_is_quarantined(route, byggr, callback):
    route.drop("bygglov-person.xml")
    route.run()
    first = route.submission("bygglov-person.xml")
    assert first.state == State.COMPLETED and first.external_ref
    route.variant("open-eplatform/attefall.yaml]", "open-eplatform/attefall.yaml]\n    without_case_system: [bygglov]")
    route.variant("          bygglov: byggr/bygglov.yaml\n", "")
    route.drop("bygglov-person.xml", as_name="revision.xml", data=_revised("bygglov-person.xml"))
    route.run()
    second = route.submission(_revised("bygglov-person.xml"))
    assert second.state == State.QUARANTINED
    (reason,) = route.context().ledger.quarantine_reasons(second.id)
    assert "reached a case system, but case type bygglov has none on route kumla-bygglov now" in reason
    assert len(callback.app.calls_for("addMessage")) == 1, "the resident is not told of a komplettering nobody got"
