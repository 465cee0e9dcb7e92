"""The REST target as a status feed (config ``changes``), against the work-order simulator over HTTP with OAuth2:
orders created through the target, moved by the simulator's set_status, read back through GET /changes?since=."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from openapi_core import OpenAPI
from openapi_core.configurations import Config
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from rest_workorder import WORK_ORDER_CONFIG, calls_to, connection_to, delivery, json_answer

from brygga.errors import ConfigError, CredentialsRefused, TargetRejected, TargetUnavailable
from brygga.status.changes import DocumentRef, StatusFeed
from brygga_adapters.rest import RestTarget

# openapi-core checks http security schemes but only warns about oauth2 ones (the service checks those itself).
pytestmark = pytest.mark.filterwarnings("ignore:Unsupported scheme type:UserWarning")

FEED: dict[str, Any] = {
    "path": "/changes",
    "since_param": "since",
    "items": "/changes",
    "until": "/until",
    "case_ref": "/orderNumber",
    "extern_ref": "/externalRef",
    "at": "/changedAt",
    "id": "/id",
    "facts": {"status": "/status"},
}
CONFIG = {**WORK_ORDER_CONFIG, "changes": FEED}
T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # the conftest clock's start
START = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def at(seconds: float, microseconds: int = 0) -> datetime:
    return T0 + timedelta(seconds=seconds, microseconds=microseconds)


def since_sent(running: Any) -> list[str]:
    return [value for entry in running.app.recorded if entry.path.endswith("/changes")
            for value in entry.query.get("since", [])]


@pytest.fixture
def checked(work_orders) -> Iterator[Callable[[RestTarget], RestTarget]]:
    """``checked(target)``: every exchange of the target's session is checked against the simulator's OpenAPI."""
    document = requests.get(f"{work_orders.url}/openapi.json", timeout=10).json()
    spec = OpenAPI.from_dict(document, config=Config(
        extra_media_type_deserializers={"application/problem+json": json.loads}))
    exchanges: list[requests.Response] = []

    def keep(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        _ = response.content  # read here, so the check has the body; the adapter then reads these same bytes
        exchanges.append(response)

    def attach(target: RestTarget) -> RestTarget:
        target.calls.session.hooks["response"].append(keep)
        return target

    yield attach
    problems = []
    for response in exchanges:
        request = RequestsOpenAPIRequest(response.request)
        where = f"{response.request.method} {response.request.path_url.split('?')[0]} -> {response.status_code}"
        problems += [f"request {where}: {error!r} {error.__cause__!r}" for error in spec.iter_request_errors(request)]
        problems += [f"answer {where}: {error!r} {error.__cause__!r}"
                     for error in spec.iter_response_errors(request, RequestsOpenAPIResponse(response))]
    assert any(r.request.path_url.split("?")[0].endswith("/changes") for r in exchanges), "no /changes was checked"
    assert not problems, "\n".join(problems)


def test_changes_come_oldest_first_with_stable_ids_facts_and_the_until_to_poll_from(work_orders, clock, checked):
    target = checked(RestTarget(CONFIG, connection_to(work_orders)))
    first = target.deliver(delivery(submission="sub-0001")).external_ref
    clock.advance(60)
    second = target.deliver(delivery(submission="sub-0002")).external_ref
    for status, order in (("assigned", first), ("waiting", second), ("closed", first)):
        clock.advance(60)
        work_orders.app.set_status(order, status)

    batch = target.changes(START)
    again = target.changes(START)
    nothing = target.changes(batch.until)
    clock.advance(60)
    work_orders.app.set_status(second, "closed")
    later = target.changes(nothing.until)

    assert isinstance(target, StatusFeed)
    assert [(c.case_ref, c.extern_ref, dict(c.facts), c.occurred_at) for c in batch.changes] == [
        (first, "brygga:sub-0001", {"status": "registered", "change": "status"}, at(0)),
        (second, "brygga:sub-0002", {"status": "registered", "change": "status"}, at(60)),
        (first, "brygga:sub-0001", {"status": "assigned", "change": "status"}, at(120)),
        (second, "brygga:sub-0002", {"status": "waiting", "change": "status"}, at(180)),
        (first, "brygga:sub-0001", {"status": "closed", "change": "status"}, at(240)),
    ]
    ids = [change.change_id for change in batch.changes]
    assert [change.change_id for change in again.changes] == ids  # the system's own id, the same on every read
    assert len(set(ids)) == 5 and all(uuid.UUID(change_id) for change_id in ids)
    assert batch.until == at(240, 1)  # the system's "until": just after its last stamp
    assert batch.facts_seen == {"status=registered": 2, "status=assigned": 1, "status=waiting": 1,
                                "status=closed": 1, "change=status": 5}
    assert nothing.changes == [] and nothing.until > batch.until
    assert [(c.case_ref, c.facts["status"], c.occurred_at) for c in later.changes] == [(second, "closed", at(300))]
    assert since_sent(work_orders) == ["2026-11-30T07:00:00Z", "2026-11-30T07:00:00Z",
                                       "2026-11-30T08:04:00.000001Z", "2026-11-30T08:04:00.000003Z"]


def test_without_an_id_or_until_pointer_the_ids_are_case_facts_and_time(work_orders, clock):
    feed = {key: value for key, value in FEED.items() if key not in ("id", "until")}
    target = RestTarget({**WORK_ORDER_CONFIG, "changes": feed}, connection_to(work_orders))
    order = target.deliver(delivery()).external_ref
    clock.advance(90)
    work_orders.app.set_status(order, "assigned")

    batch = target.changes(START)
    again = target.changes(START)
    empty = target.changes(batch.until)

    assert [change.change_id for change in batch.changes] == [
        f"{order}:status=registered:2026-11-30T08:00:00Z", f"{order}:status=assigned:2026-11-30T08:01:30Z"]
    assert [change.change_id for change in again.changes] == [change.change_id for change in batch.changes]
    assert batch.until == at(90)  # the newest change's time
    assert empty.changes == [] and empty.until == batch.until  # nothing newer: the watermark stays


def test_another_clients_orders_are_not_seen(work_orders, clock, checked):
    kumla = checked(RestTarget(CONFIG, connection_to(work_orders)))
    orebro = RestTarget(CONFIG, connection_to(work_orders, "workorder-orebro", login="orebro", password="0ther"))
    ours = kumla.deliver(delivery(submission="sub-0001")).external_ref
    theirs = orebro.deliver(delivery(submission="sub-0001")).external_ref  # the same extern ref, another client
    clock.advance(60)
    work_orders.app.set_status(theirs, "closed")

    assert [(c.case_ref, c.facts["status"]) for c in kumla.changes(START).changes] == [(ours, "registered")]
    assert [(c.case_ref, c.facts["status"]) for c in orebro.changes(START).changes] == [
        (theirs, "registered"), (theirs, "closed")]


def test_an_expired_token_is_renewed_once(work_orders, clock):
    target = RestTarget(CONFIG, connection_to(work_orders))
    target.deliver(delivery())
    clock.advance(3601)  # the simulator now refuses the cached token: 401, a new token, the call again

    batch = target.changes(START)

    assert [change.facts["status"] for change in batch.changes] == ["registered"]
    assert calls_to(work_orders, "/oauth2/token", "POST") == 2
    assert [entry.status for entry in work_orders.app.recorded if entry.path.endswith("/changes")] == [401, 200]


def test_refused_credentials_are_the_connections_problem(work_orders):
    target = RestTarget(CONFIG, connection_to(work_orders, password="wrong"))

    with pytest.raises(CredentialsRefused) as refused:
        target.changes(START)
    assert "wrong" not in str(refused.value)


@pytest.mark.parametrize("fault", [
    {"action": "http_status", "status": 503},
    {"action": "reset"},
    {"action": "html_200"},
])
def test_an_outage_is_unavailable(work_orders, fault):
    target = RestTarget(CONFIG, connection_to(work_orders))
    target.deliver(delivery())
    work_orders.app.faults.set([{"operation": "/changes", **fault}])

    with pytest.raises(TargetUnavailable, match=r"rest workorder-kumla\.changes: "):
        target.changes(START)


def test_a_pointer_the_answer_lacks_skips_every_item_naming_item_and_pointer(work_orders, caplog):
    feed = {**FEED, "at": "/changedOn"}
    target = RestTarget({**WORK_ORDER_CONFIG, "changes": feed}, connection_to(work_orders))
    target.deliver(delivery())

    with caplog.at_level(logging.WARNING, logger="brygga.adapters.rest.status"):
        batch = target.changes(START)

    assert batch.changes == [] and batch.facts_seen == {"unreadable": 1}
    assert ("rest workorder-kumla.changes: item 0 has no usable value at config changes/at '/changedOn' "
            "(rule: changes); it is skipped") in caplog.text


GOOD = {"orderNumber": "AO-1", "externalRef": "brygga:x", "changedAt": "2026-11-30T09:00:00Z", "id": "c-1",
        "status": "closed"}


@pytest.mark.parametrize(("broken", "named"), [
    ({"changedAt": "19800512-2380"}, "changes/at '/changedAt'"),
    ({"changedAt": "2026-11-30T09:00:00"}, "changes/at '/changedAt'"),  # no offset: ambiguous
    ({"orderNumber": None}, "changes/case_ref '/orderNumber'"),
    ({"orderNumber": ["Anna-Karin Ström"]}, "changes/case_ref '/orderNumber'"),
    ({"status": {"name": "Anna-Karin Ström"}}, "changes/facts/status '/status'"),
    ({"externalRef": 12.5}, "changes/extern_ref '/externalRef'"),
    ({"id": ""}, "changes/id '/id'"),
])
def test_a_broken_item_is_skipped_and_counted_naming_its_index_and_pointer_never_the_value(
        recorder, broken, named, caplog):
    app, running = recorder
    later = {**GOOD, "id": "c-3", "changedAt": "2026-11-30T09:30:00Z"}
    items = [GOOD, {**GOOD, **broken}, later]
    app.answer = lambda request: json_answer({"changes": items, "until": "2026-11-30T10:00:00Z"})
    target = RestTarget({**WORK_ORDER_CONFIG, "changes": FEED}, connection_to(running, "api", auth="basic",
                                                                                token_url=None))

    with caplog.at_level(logging.WARNING, logger="brygga.adapters.rest.status"):
        batch = target.changes(START)

    assert [change.change_id for change in batch.changes] == ["c-1", "c-3"]  # the feed goes on past it
    assert batch.facts_seen["unreadable"] == 1
    assert batch.until == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert f"rest api.changes: item 1 has no usable value at config {named}" in caplog.text
    for value in ("19800512", "Ström", "12.5"):
        assert value not in caplog.text


@pytest.mark.parametrize("answer", [
    json_answer({"changes": {"not": "a list"}, "until": "2026-11-30T10:00:00Z"}),
    json_answer({"changes": [GOOD], "until": "soon"}),
])
def test_an_answer_unreadable_as_a_whole_is_still_refused(recorder, answer):
    app, running = recorder
    app.answer = lambda request: answer
    target = RestTarget({**WORK_ORDER_CONFIG, "changes": FEED}, connection_to(running, "api", auth="basic",
                                                                                token_url=None))

    with pytest.raises(TargetRejected, match=r"rest api\.changes: the answer has no (list|usable moment)"):
        target.changes(START)


WITHOUT_UNTIL = {key: value for key, value in FEED.items() if key != "until"}


def test_without_until_a_change_dated_in_the_future_does_not_carry_the_watermark_past_the_answer(recorder):
    app, running = recorder
    future = {**GOOD, "id": "c-2", "changedAt": (datetime.now(UTC) + timedelta(days=365)).isoformat()}
    app.answer = lambda request: json_answer({"changes": [GOOD, future]})
    target = RestTarget({**WORK_ORDER_CONFIG, "changes": WITHOUT_UNTIL},
                        connection_to(running, "api", auth="basic", token_url=None))

    before = datetime.now(UTC).replace(microsecond=0)  # the server's Date header has whole seconds
    batch = target.changes(START)
    after = datetime.now(UTC)

    assert [change.change_id for change in batch.changes] == ["c-1", "c-2"]
    assert before <= batch.until <= after  # the moment the system answered, not the future change's time
    # The next poll reads the future change again (it keeps its id) and any change recorded meanwhile.
    assert [change.change_id for change in target.changes(batch.until).changes] == ["c-1", "c-2"]


@pytest.mark.parametrize(("date", "expected"), [
    ("Mon, 30 Nov 2026 09:30:00 GMT", datetime(2026, 11, 30, 9, 30, tzinfo=UTC)),  # the system's clock
    ("Mon, 30 Nov 2026 09:30:00 +0100", datetime(2026, 11, 30, 8, 30, tzinfo=UTC)),
    ("not a date", None),  # else Brygga's
    (None, None),
])
def test_the_moment_an_answer_was_given_is_its_date_header_else_now(date, expected):
    from requests.structures import CaseInsensitiveDict

    from brygga_adapters.rest.calls import Answer
    from brygga_adapters.rest.status_feed import _answered_at

    answer = Answer(status=200, headers=CaseInsensitiveDict({"Date": date} if date else {}), body=b"[]")
    before = datetime.now(UTC)
    answered = _answered_at(answer)
    if expected is None:
        assert before <= answered <= datetime.now(UTC)
    else:
        assert answered == expected


def test_without_until_the_newest_change_is_the_watermark_and_it_never_moves_back(recorder):
    app, running = recorder
    app.answer = lambda request: json_answer({"changes": [GOOD]})
    target = RestTarget({**WORK_ORDER_CONFIG, "changes": WITHOUT_UNTIL},
                        connection_to(running, "api", auth="basic", token_url=None))

    assert target.changes(START).until == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # GOOD's changedAt
    ahead = datetime.now(UTC) + timedelta(hours=1)  # a watermark past the system's clock stays where it is
    assert target.changes(ahead).until == ahead


def test_a_case_keeps_its_own_changes_in_time_order_and_the_answer_order_across_cases(recorder):
    app, running = recorder
    answer = [
        {"n": 7, "at": "2026-11-30T10:05:00+01:00", "s": "closed", "kind": "status"},
        {"n": "B-2", "at": "2026-11-30T09:00:00Z", "s": "registered", "kind": "status", "ext": None},
        {"n": 7, "at": "2026-11-30T09:01:00Z", "s": "registered", "kind": "status"},
        {"n": 7, "at": "2026-11-30T09:03:00Z", "s": "note", "kind": "comment"},
    ]
    app.answer = lambda request: json_answer(answer)
    feed = {"path": "/feed", "since_param": "after", "case_ref": "/n", "extern_ref": "/ext", "at": "/at",
            "facts": {"status": "/s", "change": "/kind"}}
    target = RestTarget({"create": {"path": "/cases"}, "reference": {"json": "/id"}, "changes": feed},
                        connection_to(running, "api", auth="basic", token_url=None))

    batch = target.changes(T0)

    assert [(c.case_ref, c.facts["status"], c.facts["change"], c.extern_ref) for c in batch.changes] == [
        ("7", "registered", "status", None), ("B-2", "registered", "status", None),
        ("7", "note", "comment", None), ("7", "closed", "status", None)]
    assert batch.changes[0].change_id == "7:status=registered,change=status:2026-11-30T09:01:00Z"
    assert batch.until == datetime(2026, 11, 30, 9, 5, tzinfo=UTC)  # the newest change's time
    assert [(seen.method, seen.path) for seen in app.seen] == [("GET", "/feed")]

    app.answer = lambda request: json_answer([])
    assert target.changes(batch.until).until == batch.until  # nothing: the watermark stays where it was


def test_a_target_without_a_changes_config_has_no_feed_and_no_document_download(work_orders):
    target = RestTarget(WORK_ORDER_CONFIG, connection_to(work_orders))
    with_feed = RestTarget(CONFIG, connection_to(work_orders))

    with pytest.raises(ConfigError, match=r"rest workorder-kumla: no status feed: .*has no 'changes'"):
        target.changes(START)
    with pytest.raises(TargetRejected, match="has no document download configured"):
        with_feed.fetch_document(DocumentRef("580001"))
    with pytest.raises(ValueError, match="timezone-aware"):
        with_feed.changes(datetime(2026, 11, 30, 7, 0))
    assert work_orders.app.recorded == []


@pytest.mark.parametrize(("changes", "where", "rule"), [
    ({**FEED, "path": "/changes/{extern_ref}"}, "rest config/changes/path: placeholder {extern_ref}", "placeholders"),
    ({**FEED, "facts": {}}, "config/changes/facts: ", "minProperties"),
    ({**FEED, "facts": {"status code": "/status"}}, "config/changes/facts: ", "pattern"),
    ({**FEED, "at": "changedAt"}, "config/changes/at: ", "pattern"),
    ({key: value for key, value in FEED.items() if key != "case_ref"}, "config/changes: ", "required"),
])
def test_a_wrong_changes_config_is_refused_before_anything_runs(work_orders, changes, where, rule):
    with pytest.raises(ConfigError) as refused:
        RestTarget({**WORK_ORDER_CONFIG, "changes": changes}, connection_to(work_orders))
    assert where in str(refused.value) and f"(rule: {rule}" in str(refused.value)
