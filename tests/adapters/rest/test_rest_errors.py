"""How RestTarget maps the target's answers: refused (quarantine), unavailable (retry), credentials (fix the
connection); messages without personal data."""

from __future__ import annotations

import pytest
from rest_workorder import FELANMALAN, WORK_ORDER_CONFIG, connection_to, delivery, json_answer
from werkzeug.wrappers import Response

from brygga.connections import Connection
from brygga.errors import CredentialsRefused, TargetInDoubt, TargetRejected, TargetUnavailable
from brygga_adapters.rest import RestTarget
from brygga_adapters.rest.calls import MAX_ANSWER_BYTES

SIMPLE = {"create": {"path": "/cases"}, "reference": {"json": "/id"}}


def _basic(running) -> Connection:
    return connection_to(running, "api", auth="basic", token_url=None)


def test_an_invalid_body_is_refused_naming_fields_and_rules_but_no_values(target, work_orders):
    payload = {**FELANMALAN, "title": "", "reporter": {"email": "anna-karin.strom@example.se x",
                                                        "personalNumber": "19800512-2380"}}
    payload.pop("category")

    with pytest.raises(TargetRejected, match=r"rest workorder-kumla\.create: HTTP 422 ") as refused:
        target.deliver(delivery(payload=payload))

    message = str(refused.value)
    assert "body.category (missing)" in message
    assert "body.title" in message and "body.reporter.email" in message
    for value in ("anna-karin", "19800512", "Storgatan", "Gatlykta"):
        assert value not in message
    assert work_orders.app.counts()["orders"] == 0


def test_problem_detail_is_left_out_and_the_title_redacted(recorder):
    app, running = recorder
    app.answer = lambda request: json_answer(
        {"title": "Ogiltig anmälare 19800512-2380", "status": 400, "detail": "Anna-Karin Ström finns inte"},
        400, content_type="application/problem+json",
    )

    with pytest.raises(TargetRejected) as refused:
        RestTarget(SIMPLE, _basic(running)).deliver(delivery())

    message = str(refused.value)
    assert message.startswith("rest api.create: HTTP 400 Ogiltig anmälare [redacted]")
    assert "Anna-Karin" not in message and "19800512" not in message


def test_503_is_unavailable(target, work_orders):
    work_orders.app.faults.set([{"operation": "*", "action": "http_status", "status": 503}])

    with pytest.raises(TargetUnavailable, match=r"HTTP 503") as unavailable:
        target.deliver(delivery())
    assert not isinstance(unavailable.value, TargetInDoubt)


def test_retry_after_is_kept_with_the_fault(recorder):
    app, running = recorder
    app.answer = lambda request: Response("busy", status=429, headers={"Retry-After": "120"})

    with pytest.raises(TargetUnavailable, match="the target asks to wait 120 s") as unavailable:
        RestTarget(SIMPLE, _basic(running)).deliver(delivery())
    assert unavailable.value.retry_after == 120.0


def test_a_gateway_timeout_on_create_is_in_doubt(recorder):
    app, running = recorder
    app.answer = lambda request: Response("upstream timed out", status=504)

    with pytest.raises(TargetInDoubt, match=r"HTTP 504 from a gateway"):
        RestTarget(SIMPLE, _basic(running)).deliver(delivery())


def test_a_maintenance_page_is_transient(target, work_orders):
    work_orders.app.faults.set([{"operation": "/orders", "action": "html_200"}])

    with pytest.raises(TargetUnavailable, match=r"search: answered HTML"):
        target.deliver(delivery())
    assert work_orders.app.counts()["orders"] == 0


def test_nobody_listening_is_unavailable_not_in_doubt(free_port):
    connection = Connection.from_uri("api", f"http://u:p@127.0.0.1:{free_port}/api?allow_http=true&connect_timeout=2")

    with pytest.raises(TargetUnavailable, match=r"rest api\.create: could not connect") as unavailable:
        RestTarget(SIMPLE, connection).deliver(delivery())
    assert not isinstance(unavailable.value, TargetInDoubt)


@pytest.mark.parametrize(("status", "error"), [(403, CredentialsRefused), (302, TargetRejected),
                                                 (404, TargetRejected), (413, TargetRejected)])
def test_other_answers(recorder, status, error):
    app, running = recorder
    app.answer = lambda request: Response("", status=status, headers={"Location": "https://login.example/"})

    with pytest.raises(error, match=rf"rest api\.create: (HTTP {status}|answered with a redirect)"):
        RestTarget(SIMPLE, _basic(running)).deliver(delivery())
    assert len(app.seen) == 1  # a redirect is not followed


def test_a_create_answer_without_the_reference_is_in_doubt_naming_the_config(recorder):
    # The target said 201: the case exists, only its id is not where the config says. Quarantine would lose it.
    app, running = recorder
    app.answer = lambda request: json_answer({"number": 7}, 201)

    with pytest.raises(TargetInDoubt, match=r"nothing at config reference/json"):
        RestTarget(SIMPLE, _basic(running)).deliver(delivery())


def test_a_create_answer_without_the_reference_header_is_in_doubt(recorder):
    app, running = recorder
    app.answer = lambda request: json_answer({}, 201)

    with pytest.raises(TargetInDoubt, match=r"config reference/header Location is not a usable case reference"):
        RestTarget({**SIMPLE, "reference": {"header": "Location"}}, _basic(running)).deliver(delivery())


def test_a_create_answer_that_is_not_json_is_in_doubt(recorder):
    app, running = recorder
    app.answer = lambda request: Response("created, thanks", status=201, content_type="text/plain")

    with pytest.raises(TargetInDoubt, match=r"rest api\.create: HTTP 201 but the answer is not JSON"):
        RestTarget(SIMPLE, _basic(running)).deliver(delivery())


def test_a_create_answer_over_the_size_cap_is_in_doubt(recorder):
    app, running = recorder
    app.answer = lambda request: json_answer({"id": "C-1", "echo": "x" * (MAX_ANSWER_BYTES + 1)}, 201)

    with pytest.raises(TargetInDoubt, match=r"larger than \d+ bytes \(rule: in doubt"):
        RestTarget(SIMPLE, _basic(running)).deliver(delivery())


def test_a_refusal_over_the_size_cap_is_still_refused(recorder):
    app, running = recorder
    app.answer = lambda request: json_answer({"title": "x" * (MAX_ANSWER_BYTES + 1)}, 422)

    with pytest.raises(TargetRejected, match=r"larger than \d+ bytes \(rule: answer size\)"):
        RestTarget(SIMPLE, _basic(running)).deliver(delivery())


def test_a_case_id_cannot_walk_the_upload_path(recorder, store_document):
    app, running = recorder
    app.answer = lambda request: json_answer({"id": ".."}, 201)
    config = {**SIMPLE, "attachments": {"mode": "upload", "path": "/cases/{reference}/files"}}

    with pytest.raises(TargetRejected, match=r"placeholder \{reference\}"):
        RestTarget(config, _basic(running)).deliver(delivery([store_document("a.pdf", b"%PDF")]))
    assert [seen.path for seen in app.seen] == ["/cases"]


def test_a_409_on_create_is_answered_by_searching(recorder):
    app, running = recorder
    searches = []

    def answer(request):
        if request.method == "GET":
            searches.append(request.args.get("ref"))
            items = [{"nr": "C-9", "ref": "brygga:sub-0001"}] if len(searches) > 1 else []
            return json_answer(items)
        return json_answer({"title": "Conflict", "status": 409}, 409, content_type="application/problem+json")

    app.answer = answer
    config = {**SIMPLE, "extern_ref_field": "/ref",
              "search": {"path": "/cases", "query": {"ref": "{extern_ref}"}, "reference": "/nr"}}

    receipt = RestTarget(config, _basic(running)).deliver(delivery())

    assert (receipt.external_ref, receipt.created) == ("C-9", False)
    assert searches == ["brygga:sub-0001", "brygga:sub-0001"]


SEARCHED = {**SIMPLE, "extern_ref_field": "/ref",
            "search": {"path": "/cases", "query": {"ref": "{extern_ref}"}, "reference": "/nr"}}


def _conflict_then(status: int, found_after: int):
    """Create answers ``status`` (problem+json); a search finds the case from its ``found_after``-th call on."""
    searches: list[str | None] = []

    def answer(request):
        if request.method == "GET":
            searches.append(request.args.get("ref"))
            return json_answer([{"nr": "C-9", "ref": "brygga:sub-0001"}] if len(searches) >= found_after else [])
        return json_answer({"title": "Bad Request", "status": status}, status, content_type="application/problem+json")

    return answer, searches


def test_a_conflict_the_search_does_not_find_yet_is_in_doubt_and_found_later(recorder):
    # An API that creates asynchronously: the retry after a lost reply gets the conflict before the case shows.
    app, running = recorder
    app.answer, searches = _conflict_then(409, found_after=3)
    target = RestTarget(SEARCHED, _basic(running))

    with pytest.raises(TargetInDoubt, match=r"HTTP 409 \(config create/conflict\) and no case carries"):
        target.deliver(delivery())
    receipt = target.deliver(delivery())  # the pipeline's next attempt, after the in-doubt delay

    assert (receipt.external_ref, receipt.created) == ("C-9", False)
    assert [seen.method for seen in app.seen] == ["GET", "POST", "GET", "GET"]
    assert len(searches) == 3


def test_create_conflict_names_the_statuses_an_api_uses_for_a_taken_extern_ref(recorder):
    app, running = recorder
    app.answer, _searches = _conflict_then(400, found_after=2)
    config = {**SEARCHED, "create": {"path": "/cases", "conflict": [400, 409]}}

    receipt = RestTarget(config, _basic(running)).deliver(delivery())

    assert (receipt.external_ref, receipt.created) == ("C-9", False)


def test_a_400_outside_create_conflict_is_refused(recorder):
    app, running = recorder
    app.answer, searches = _conflict_then(400, found_after=2)

    with pytest.raises(TargetRejected, match=r"HTTP 400 Bad Request"):
        RestTarget(SEARCHED, _basic(running)).deliver(delivery())
    assert len(searches) == 1  # only the check before create


def test_search_hits_for_other_extern_refs_are_other_cases(recorder):
    app, running = recorder
    app.answer = lambda request: (
        json_answer({"hits": [{"nr": "C-1", "ref": "brygga:sub-00010"}, {"nr": "C-2", "ref": "brygga:sub-0001"},
                              {"nr": "C-2", "ref": "brygga:sub-0001"}]})
        if request.method == "GET" else json_answer({"id": "C-3"}, 201)
    )
    config = {**SIMPLE, "extern_ref_field": "/ref",
              "search": {"path": "/cases", "query": {"q": "{extern_ref}"}, "items": "/hits", "reference": "/nr"}}

    assert RestTarget(config, _basic(running)).deliver(delivery()).external_ref == "C-2"
    assert [seen.method for seen in app.seen] == ["GET"]


def test_unchanged_payload_is_not_mutated(recorder):
    _app, running = recorder
    request = delivery(payload={"rubrik": "x"})
    RestTarget({**SIMPLE, "extern_ref_field": "/meta/ref"}, _basic(running)).deliver(request)
    assert request.payload == {"rubrik": "x"}
    assert _app.seen[0].body == b'{"rubrik": "x", "meta": {"ref": "brygga:sub-0001"}}'


def test_sanity_of_the_work_order_config(work_orders):
    # The config the other tests use is accepted as it is written in a route file.
    assert RestTarget(WORK_ORDER_CONFIG, connection_to(work_orders)).mode == "upload"


@pytest.mark.parametrize(("header", "seconds"), [("120", 120.0), ("99999999999999999", 86400.0), ("²", None),
                                                 ("soon", None), ("", None)])
def test_a_retry_after_header_is_read_within_a_day_and_never_breaks_the_call(header, seconds):
    from brygga_adapters.rest.calls import retry_after

    assert retry_after(header) == seconds
