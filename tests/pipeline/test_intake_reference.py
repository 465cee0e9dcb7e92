"""A submission is found by its source reference (Open ePlatform's FlowInstanceID, a webhook's id) from intake on,
also when it never translates: a mapping that fails on it, XML the run refuses, a file over the size limit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from routing import RouteRun

from brygga.admin import SearchQuery, replay, search
from brygga.ledger import Ledger, State
from brygga.observability import metrics
from brygga.pipeline import intake
from brygga.provenance import correlation_id
from brygga.settings import REPO_ROOT

LIMIT_LINE = '    schedule: "*/1'
WEBHOOK_SOURCE = "      adapter: webhook\n      connection: webhook_kumla   # its password is the shared HMAC secret\n"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RouteRun:
    """The bundled routes with a home of their own, for runs of intake alone (no target is called)."""
    monkeypatch.setenv("BRYGGA_HOME", str(tmp_path))
    return RouteRun(tmp_path, monkeypatch)


def own_mappings(run: RouteRun) -> Path:
    """A copy of the bundled mappings the test may break, used from now on."""
    mappings = run.home / "mappings"
    if not mappings.exists():
        shutil.copytree(REPO_ROOT / "mappings", mappings)
        run.monkeypatch.setenv("BRYGGA_MAPPINGS", str(mappings))
    return mappings


def only(ledger: Ledger, reference: str):  # type: ignore[no-untyped-def]
    (row,) = search(ledger, SearchQuery(text=reference))
    found = ledger.get(row.id)
    assert found.source_reference == reference
    return found


# -- intake alone ----------------------------------------------------------------------------------------------
def test_a_landed_submission_is_found_by_its_flowinstanceid_before_translate(home):
    data = home.drop("bygglov-person.xml")
    intake(home.context())
    ledger = home.context().ledger
    landed = only(ledger, "2001")
    assert landed.id == home.submission(data).id
    assert landed.state == State.LANDED and landed.revision is None and landed.content_fingerprint is None
    assert [(s.step, s.outcome) for s in ledger.steps(landed.id)] == [("intake", "ok")]


def test_a_file_over_the_size_limit_is_found_by_its_flowinstanceid(home):
    home.variant(LIMIT_LINE, "    limits: {max_file_bytes: 1000}\n" + LIMIT_LINE)
    home.drop("bygglov-person.xml")
    intake(home.context())
    ledger = home.context().ledger
    quarantined = only(ledger, "2001")
    assert quarantined.state == State.QUARANTINED
    assert [q.step for q in ledger.quarantines(quarantined.id)] == ["intake"]


def test_a_json_file_over_the_size_limit_is_found_by_its_id(home):
    home.variant(WEBHOOK_SOURCE, "      adapter: file-inbox\n"
                                 '      config: {path: inbox/kumla-felanmalan-webhook, pattern: "*.json"}\n')
    webhook = home.other("kumla-felanmalan-webhook")
    webhook.variant("    mappings: [webhook/felanmalan.yaml]\n",
                    "    mappings: [webhook/felanmalan.yaml]\n    limits: {max_file_bytes: 100}\n")
    sample = (REPO_ROOT / "samples" / "webhook" / "felanmalan-gatlykta.json").read_bytes()
    assert len(sample) > 100 and json.loads(sample)["flowInstance"]["id"] == 4711
    webhook.drop("gatlykta.json", data=sample)
    intake(webhook.context())
    assert only(webhook.context().ledger, "4711").state == State.QUARANTINED


def test_the_routes_own_mapping_that_does_not_compile_does_not_stop_intake(home):
    mappings = own_mappings(home)
    (mappings / "open-eplatform" / "bygglov.yaml").write_text("source: xml\noutput: {requird: true}\n")
    home.drop("bygglov-person.xml")
    intake(home.context())  # attefall.yaml, the route's other mapping, reads the FlowInstanceID the same way
    assert only(home.context().ledger, "2001").state == State.LANDED
    (mappings / "open-eplatform" / "attefall.yaml").write_text("source: xml\noutput: {requird: true}\n")
    other = home.drop("attefall-utf8.xml")
    intake(home.context())  # no mapping compiles: landed all the same, without a reference
    landed = home.submission(other)
    assert landed.state == State.LANDED and landed.source_reference is None


def test_a_duplicate_keeps_the_one_submission_and_its_reference(home):
    data = home.drop("bygglov-person.xml")
    intake(home.context())
    home.drop("bygglov-person.xml", "again.xml", data=data)
    intake(home.context())
    ledger = home.context().ledger
    landed = only(ledger, "2001")
    assert [s.outcome for s in ledger.steps(landed.id)] == ["ok", "duplicate"]


def test_a_reference_shaped_like_a_personnummer_is_not_recorded_at_intake(home):
    raw = (REPO_ROOT / "samples" / "open-eplatform" / "bygglov-person.xml").read_bytes()
    data = home.drop("x.xml", data=raw.replace(b"<FlowInstanceID>2001<", b"<FlowInstanceID>198503142385<"))
    intake(home.context())
    assert home.submission(data).source_reference is None


def test_the_work_on_each_submission_carries_its_correlation_id_and_is_counted(home, monkeypatch):
    seen: list[tuple[str, str | None]] = []
    record_step = Ledger.record_step

    def noting(self, submission_id, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((submission_id, correlation_id()))
        return record_step(self, submission_id, *args, **kwargs)

    monkeypatch.setattr(Ledger, "record_step", noting)
    reader = InMemoryMetricReader()
    metrics.use_meter_provider(MeterProvider(metric_readers=[reader]))
    try:
        data = home.drop("bygglov-person.xml")
        home.drop("attefall-utf8.xml")
        intake(home.context())
        home.drop("bygglov-person.xml", "again.xml", data=data)
        intake(home.context())
        points = reader.get_metrics_data().resource_metrics[0].scope_metrics[0].metrics
    finally:
        metrics.use_meter_provider(None)
    assert len(seen) == 3 and all(sid == correlation for sid, correlation in seen)
    assert correlation_id() is None
    (steps,) = [m for m in points if m.name == "brygga.steps"]
    counted = {(p.attributes["route"], p.attributes["step"], p.attributes["outcome"]): p.value
               for p in steps.data.data_points}
    assert counted == {("kumla-bygglov", "intake", "ok"): 2, ("kumla-bygglov", "intake", "duplicate"): 1}


# -- whole runs ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("byggr", ["contract"], indirect=True)
def test_a_submission_its_broken_mapping_quarantined_is_found_and_replayed_after_the_fix(route, byggr):
    mappings = own_mappings(route)
    bygglov = mappings / "open-eplatform" / "bygglov.yaml"
    fixed = bygglov.read_text(encoding="utf-8")
    assert "receivedAt: {path: fi:Header/fi:Posted," in fixed
    bygglov.write_text(fixed.replace("receivedAt: {path: fi:Header/fi:Posted,",
                                     "receivedAt: {path: fi:Header/fi:PostedAt,"), encoding="utf-8")
    route.drop("bygglov-person.xml")
    intake(route.context())
    peeked = only(route.context().ledger, "2001")
    route.run()
    ledger = route.context().ledger
    quarantined = only(ledger, "2001")
    assert quarantined.id == peeked.id and quarantined.state == State.QUARANTINED
    assert [q.step for q in ledger.quarantines(quarantined.id)] == ["translate"]
    assert "receivedAt" in " ".join(ledger.quarantine_reasons(quarantined.id))

    bygglov.write_text(fixed, encoding="utf-8")
    replay(ledger, quarantined.id, actor="test")
    route.run()
    completed = only(ledger, "2001")  # translate stored the mapping's reference: the one intake peeked
    assert completed.id == peeked.id and completed.state == State.COMPLETED and completed.revision == 1
    assert len(byggr.app.cases) == 1


@pytest.mark.parametrize("byggr", ["contract"], indirect=True)
def test_xml_refused_after_a_readable_header_is_found_by_its_flowinstanceid(route, byggr):
    route.drop("bygglov-malformed.xml")
    route.run()
    ledger = route.context().ledger
    refused = only(ledger, "2007")
    assert refused.state == State.QUARANTINED
    assert "not well-formed" in " ".join(ledger.quarantine_reasons(refused.id))


@pytest.mark.parametrize("byggr", ["contract"], indirect=True)
def test_a_version_quarantined_at_intake_is_no_version_until_it_translates(route, byggr):
    original = (REPO_ROOT / "samples" / "open-eplatform" / "bygglov-person.xml").read_bytes()
    amended = original.replace(b"Nybyggnad av enbostadshus med carport.",
                               b"Nybyggnad av enbostadshus och garage." + b" " * 4000)
    assert amended != original
    limit = len(original) + 1000
    route.variant(LIMIT_LINE, f"    limits: {{max_file_bytes: {limit}}}\n" + LIMIT_LINE)
    route.drop("amended.xml", data=amended)
    route.drop("bygglov-person.xml")
    route.run()
    ledger = route.context().ledger
    too_large, first = route.submission(amended), route.submission(original)
    assert too_large.state == State.QUARANTINED and too_large.source_reference == "2001"
    assert first.state == State.COMPLETED, ledger.quarantine_reasons(first.id)
    assert first.revision == 1, "the version waiting at intake is not counted"
    assert ledger.versions(route.route_id, "2001", besides=first.id) == []
    assert ledger.earlier_versions(first) == []

    route.variant(f"max_file_bytes: {limit}}}", f"max_file_bytes: {10 * limit}}}")
    replay(ledger, too_large.id, actor="test")
    route.run()
    second = ledger.get(too_large.id)
    assert second.state == State.COMPLETED, ledger.quarantine_reasons(second.id)
    assert second.revision == 2 and second.external_ref == first.external_ref
    assert {s.id for s in search(ledger, SearchQuery(text="2001"))} == {first.id, second.id}
    assert len(byggr.app.cases) == 1
