"""A pushed submission goes the route's whole way: the next run's intake takes it from the ledger (the webhook
source polls nothing) and translate maps the landed JSON through mappings/webhook/felanmalan.yaml. The app also
describes itself (OpenAPI), answers /health, and refuses to take in for a route whose secret is not usable."""

from __future__ import annotations

import hashlib
import json

import pytest
import requests
from openapi_spec_validator import validate
from webhook_server import ROUTE, SECRET, WebhookRun

from brygga.admin import SearchQuery, search
from brygga.ledger import Ledger, State
from brygga.provenance import correlation_id
from brygga.settings import REPO_ROOT
from brygga_adapters.webhook import WebhookSource, sign

SAMPLE = REPO_ROOT / "samples" / "webhook" / "felanmalan-gatlykta.json"
PHOTO_SHA256 = "58ff1d6c8124bc4991e4fba43dcad2f5743972ef8572b1ff97bc98623cfb019a"


def test_the_next_run_translates_the_pushed_json_and_archives_it(intake: WebhookRun):
    accepted = intake.post(SAMPLE.read_bytes()).json()
    context, batch = intake.run_pipeline()
    assert batch == [accepted["submission_id"]]
    submission = intake.submission(accepted["submission_id"])
    assert submission.state == "completed", context.ledger.quarantine_reasons(submission.id)
    case = context.case(submission.id)
    assert case["caseType"] == "felanmalan"
    assert case["source"] == {"system": "webhook", "reference": "4711", "familyId": "301", "flowId": "3120",
                              "flowVersion": "2", "flowName": "Felanmälan gata och park"}
    assert case["details"]["felanmalan"]["location"]["northing"] == 6551234.5
    assert case["parties"][0]["givenName"] == "Elin"
    (photo,) = case["attachments"]
    assert photo["sha256"] == PHOTO_SHA256 and photo["name"] == "Gatlyktan.png"
    assert context.content.path_for(PHOTO_SHA256).is_file(), "the photo was decoded into the content store"
    steps = [(s.step, s.outcome) for s in intake.ledger().steps(submission.id)]
    assert steps[:2] == [("intake", "ok"), ("translate", "ok")]
    # Pushing the same bytes after the run: one submission still, already done, so no run is started for it.
    intake.trigger.wait()
    again = intake.post(SAMPLE.read_bytes()).json()
    assert again == {"submission_id": submission.id, "duplicate": True}
    context, batch = intake.run_pipeline()
    assert batch == [] and intake.trigger.calls == [(ROUTE, submission.id)]



def test_a_push_its_mapping_quarantines_is_found_by_its_reference_from_intake_on(intake: WebhookRun):
    """The reference is peeked when the push is landed, under the submission's correlation id, so the one the
    mapping refuses later is found by the id the e-service platform shows."""
    seen: list[tuple[str, str | None]] = []
    record_step = Ledger.record_step

    def noting(self, submission_id, step, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((step, correlation_id() == submission_id))
        return record_step(self, submission_id, step, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Ledger, "record_step", noting)
        accepted = intake.post(json.dumps({"flowInstance": {"id": "9999"}}).encode()).json()
    landed = intake.submission(accepted["submission_id"])
    assert landed.state == State.LANDED and landed.source_reference == "9999"
    assert seen == [("intake", True)]
    intake.trigger.wait()
    context, batch = intake.run_pipeline()
    assert batch == [landed.id]
    assert intake.submission(landed.id).state == State.QUARANTINED
    assert [row.id for row in search(context.ledger, SearchQuery(text="9999"))] == [landed.id]

def test_the_openapi_document_describes_the_endpoint_headers_and_answers(intake: WebhookRun):
    spec = requests.get(f"{intake.url}/openapi.json", timeout=30).json()
    validate(spec)
    operation = spec["paths"]["/routes/{route_id}/submissions"]["post"]
    headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
    assert set(headers) == {"X-Brygga-Timestamp", "X-Brygga-Signature"}
    assert all(h["required"] for h in headers.values())
    assert "HMAC-SHA256" in headers["X-Brygga-Signature"]["description"]
    assert set(operation["requestBody"]["content"]) == {"application/json"}
    answers = operation["responses"]
    assert set(answers) == {"202", "400", "401", "404", "413", "415", "422", "500", "503"}
    assert answers["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/SubmissionAccepted")
    for status in ("400", "401", "404", "413", "415", "422"):
        assert set(answers[status]["content"]) == {"application/problem+json"}, status
    accepted = spec["components"]["schemas"]["SubmissionAccepted"]
    assert set(accepted["required"]) == {"submission_id", "duplicate"}
    assert "/health" in spec["paths"]


def test_health_answers(intake: WebhookRun):
    answer = requests.get(f"{intake.url}/health", timeout=30)
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_a_route_whose_secret_is_too_short_takes_nothing_in(intake: WebhookRun):
    body = json.dumps({"flowInstance": {"id": 1}}).encode()
    headers = {"Content-Type": "application/json", **sign("short", body, route_id="kumla-weak-secret")}
    answer = requests.post(f"{intake.url}/routes/kumla-weak-secret/submissions", data=body, timeout=30,
                           headers=headers)
    assert answer.status_code == 500 and answer.headers["content-type"] == "application/problem+json"
    assert "short" not in answer.text and "kumla-weak-secret" in answer.json()["detail"]
    assert intake.ledger().by_content("kumla-weak-secret", hashlib.sha256(body).hexdigest()) is None


def test_the_source_polls_nothing_and_reads_its_limits_and_secret():
    from brygga.connections import Connection

    connection = Connection.from_uri("webhook_kumla", f"https://:{SECRET}@etjanster.kumla.example")
    source = WebhookSource({"window_seconds": 60}, connection)
    assert list(source.poll()) == [] and source.secret == SECRET
    assert (source.max_body_bytes, source.window_seconds) == (10 * 1024 * 1024, 60)
    assert SECRET not in repr(connection)
