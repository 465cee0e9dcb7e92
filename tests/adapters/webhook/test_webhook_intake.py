"""The webhook intake over a real socket: signed JSON is landed before the 202, the same body twice is one
submission, every refusal is a problem+json that names the rule and never the content, a run is started after
the answer (and a failing start changes nothing), and the route's pipeline translates what was landed."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from pathlib import Path

import pytest
import requests
from webhook_server import ROUTE, SECRET, SIBLING, WebhookRun

from brygga.settings import REPO_ROOT
from brygga_adapters.webhook import sign

SAMPLE = REPO_ROOT / "samples" / "webhook" / "felanmalan-gatlykta.json"
REPORTER = "Björk"  # personal data in the sample: never in an answer or a log


def small_report(reference: int) -> bytes:
    """The sample without its photo (the test route takes at most 4096 bytes), under its own reference."""
    document = json.loads(SAMPLE.read_bytes())
    document["flowInstance"]["id"] = reference
    del document["files"]
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def assert_problem(answer: requests.Response, status: int, *phrases: str) -> dict:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == status and problem["type"] == "about:blank"
    for phrase in phrases:
        assert phrase in problem["detail"]
    return problem


def test_a_signed_submission_is_landed_before_the_202_and_a_run_is_started(intake: WebhookRun):
    body = SAMPLE.read_bytes()
    headers = {"Content-Type": "application/json; charset=utf-8", **sign(SECRET, body, route_id=ROUTE)}
    answer = requests.post(f"{intake.url}/routes/{ROUTE}/submissions", data=body, timeout=30, headers=headers)
    assert answer.status_code == 202, answer.text
    accepted = answer.json()
    assert accepted["duplicate"] is False
    # Read as soon as the answer is in: the landing happened before it.
    landed = intake.submission(accepted["submission_id"])
    assert landed.route_id == ROUTE and landed.state == "landed" and landed.tenant == "1881"
    assert landed.content_sha256 == hashlib.sha256(body).hexdigest()
    assert Path(landed.raw_path).read_bytes() == body
    assert Path(landed.raw_path).is_relative_to(intake.home / "landing")
    assert landed.source_name.startswith("webhook:") and len(landed.source_name) == len("webhook:") + 12
    steps = [(s.step, s.outcome) for s in intake.ledger().steps(landed.id)]
    assert steps == [("intake", "ok")]
    assert intake.trigger.wait() == [(ROUTE, accepted["submission_id"])]


def test_the_same_body_twice_is_one_submission(intake: WebhookRun):
    body = small_report(4720)
    first = intake.post(body)
    again = intake.post(body, timestamp=int(time.time()) - 10)  # a retry, signed a little earlier
    assert first.status_code == again.status_code == 202
    assert again.json() == {"submission_id": first.json()["submission_id"], "duplicate": True}
    steps = [(s.step, s.outcome) for s in intake.ledger().steps(first.json()["submission_id"])]
    assert steps == [("intake", "ok"), ("intake", "duplicate")]
    # Not finished yet, so the duplicate starts a run too: harmless, the run takes the backlog.
    assert intake.trigger.wait(2) == [(ROUTE, first.json()["submission_id"])] * 2


class Captured(logging.Handler):
    """Every record of the webhook's logger; ``warned`` is set by the first warning (logged after the answer)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self.warned = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if record.levelno >= logging.WARNING:
            self.warned.set()


def test_a_failing_trigger_still_answers_202_and_logs_ids_only(intake: WebhookRun):
    intake.trigger.fail = True
    logger = logging.getLogger("brygga.adapters.webhook")
    captured, level = Captured(), logger.level
    logger.addHandler(captured)
    logger.setLevel(logging.INFO)
    try:
        answer = intake.post(small_report(4721))
        assert answer.status_code == 202 and answer.json()["duplicate"] is False
        submission_id = answer.json()["submission_id"]
        assert intake.trigger.wait() == [(ROUTE, submission_id)]
        assert captured.warned.wait(timeout=30)
    finally:
        logger.removeHandler(captured)
        logger.setLevel(level)
    assert intake.submission(submission_id).state == "landed"
    (warning,) = [r.getMessage() for r in captured.records if r.levelno >= logging.WARNING]
    assert submission_id in warning and ROUTE in warning and "ConnectionRefusedError" in warning
    assert "schedule" in warning
    messages = " ".join(r.getMessage() for r in captured.records)
    assert REPORTER not in messages and "Gatlyktan" not in messages and "Airflow API" not in messages


def test_unknown_routes_and_routes_without_a_webhook_source_are_404(intake: WebhookRun):
    body = small_report(4722)
    assert_problem(intake.post(body, route="kumla-nowhere"), 404, "'kumla-nowhere'", "webhook")
    assert_problem(intake.post(body, route="kumla-felanmalan"), 404, "'kumla-felanmalan'")
    assert intake.trigger.calls == []


@pytest.mark.parametrize("route", ["kumla-" + "x" * 2000, "Kumla<script>alert(1)<script>", "kumla-%E2%80%AEfel",
                                   "kumla%0Anowhere"])
def test_a_404_names_no_route_id_that_could_not_be_one(intake: WebhookRun, route: str):
    problem = assert_problem(intake.post(small_report(4722), route=route), 404, "not one (lower-case letters")
    assert len(problem["detail"]) < 300
    for fragment in ("xxxxxxxx", "script", "\u202e", "\n", "nowhere", "fel"):
        assert fragment not in json.dumps(problem), fragment


def test_a_request_signed_for_one_route_is_refused_by_another_with_the_same_secret(intake: WebhookRun):
    body = small_report(4728)
    assert_problem(intake.post(body, route=SIBLING, signed_for=ROUTE), 401, "route id")
    assert intake.ledger().by_content(SIBLING, hashlib.sha256(body).hexdigest()) is None
    assert intake.post(body, route=SIBLING).status_code == 202  # signed for it, the same body is taken


@pytest.mark.parametrize(("body", "phrase"), [
    (b'{"flowInstance": {"id": ' + b"7" * 4301 + b"}}", "an integer has more than 4300 digits"),
    (b'{"northing": 1e999999}', "finite number"),
    (b'{"northing": -1e400}', "finite number"),
])
def test_numbers_python_cannot_hold_are_400_not_500(intake: WebhookRun, body: bytes, phrase: str):
    # The sibling route takes the default 10 MiB: the test route's 4096 bytes would refuse the long integer as 413.
    assert_problem(intake.post(body, route=SIBLING), 400, "not valid JSON", phrase)
    assert intake.ledger().unfinished(SIBLING) == []


@pytest.mark.parametrize(("headers", "phrase"), [
    ({"X-Brygga-Signature": None}, "X-Brygga-Signature header is missing"),
    ({"X-Brygga-Timestamp": None}, "X-Brygga-Timestamp header is missing"),
    ({"X-Brygga-Signature": "sha1=abc"}, "not sha256=<64 hex digits>"),
    ({"X-Brygga-Timestamp": "yesterday"}, "not a time in unix seconds"),
])
def test_missing_or_malformed_signature_headers_are_401(intake: WebhookRun, headers: dict, phrase: str):
    body = small_report(4723)
    sent = {"Content-Type": "application/json", **sign(SECRET, body, route_id=ROUTE), **headers}
    answer = requests.post(f"{intake.url}/routes/{ROUTE}/submissions", data=body, timeout=30,
                           headers={k: v for k, v in sent.items() if v is not None})
    assert_problem(answer, 401, phrase)
    assert answer.headers["www-authenticate"].startswith("HMAC-SHA256")


def test_a_signature_over_another_body_timestamp_or_secret_is_refused(intake: WebhookRun):
    body, other = small_report(4724), small_report(4725)
    now = int(time.time())
    cases = {
        "another body": {**sign(SECRET, other, now, route_id=ROUTE)},
        "another timestamp": {**sign(SECRET, body, now, route_id=ROUTE), "X-Brygga-Timestamp": str(now - 1)},
        "another secret": {**sign(SECRET[::-1], body, now, route_id=ROUTE)},
        "another route": {**sign(SECRET, body, now, route_id=SIBLING)},
    }
    for name, headers in cases.items():
        answer = requests.post(f"{intake.url}/routes/{ROUTE}/submissions", data=body, timeout=30,
                               headers={"Content-Type": "application/json", **headers})
        problem = assert_problem(answer, 401, "does not match the body, timestamp and route id")
        assert headers["X-Brygga-Signature"].removeprefix("sha256=") not in json.dumps(problem), name
    assert intake.ledger().by_content(ROUTE, hashlib.sha256(body).hexdigest()) is None
    assert intake.trigger.calls == []


def test_a_timestamp_outside_the_window_is_401_even_when_signed(intake: WebhookRun):
    body = small_report(4726)
    for skew in (-301, 301):
        assert_problem(intake.post(body, timestamp=int(time.time()) + skew), 401, "outside the replay window")
    assert intake.post(body, timestamp=int(time.time()) - 290).status_code == 202


def test_a_body_over_the_cap_is_413_whether_or_not_content_length_says_so(intake: WebhookRun):
    body = json.dumps({"padding": "x" * 5000}).encode()
    assert_problem(intake.post(body), 413, "4,096 bytes", "max_body_bytes")

    def chunks():  # no Content-Length at all: chunked transfer, the cap is counted as it arrives
        yield body[:100]
        yield body[100:]

    assert_problem(intake.post(body, data=chunks()), 413, "4,096 bytes")
    assert not any(path.is_file() for path in (intake.home / "landing").rglob("*"))
    assert intake.ledger().unfinished(ROUTE) == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=iso-8859-1", ""])
def test_other_content_types_are_415(intake: WebhookRun, content_type: str):
    assert_problem(intake.post(small_report(4727), headers={"Content-Type": content_type}), 415,
                   "application/json")


def test_malformed_json_is_400_naming_line_and_column_never_content(intake: WebhookRun):
    body = '{\n  "reporter": {"lastName": "Björk"},\n  "answers": {"category": Belysning}\n}'.encode()
    problem = assert_problem(intake.post(body), 400, "line 3, column 27", "not valid JSON")
    assert "Björk" not in json.dumps(problem, ensure_ascii=False) and "Belysning" not in problem["detail"]


@pytest.mark.parametrize(("body", "phrase"), [
    ("Björk".encode("latin-1"), "not UTF-8"),
    (b'{"a": 1, "a": 2}', "the same key twice"),
    (b'{"northing": NaN}', "NaN is not a JSON number"),
    (b"[" * 4000, "nested too deeply"),
])
def test_what_is_not_strict_json_is_400(intake: WebhookRun, body: bytes, phrase: str):
    assert_problem(intake.post(body), 400, phrase)


@pytest.mark.parametrize(("body", "kind"), [(b"[1, 2]", "an array"), (b'"a report"', "a single value"),
                                            (b"null", "a single value")])
def test_json_that_is_not_an_object_is_422(intake: WebhookRun, body: bytes, kind: str):
    assert_problem(intake.post(body), 422, kind, "not a JSON object")
    assert intake.trigger.calls == []
