"""The fault plan: rules matched by operation and call count or time window, over real sockets (SOAP and REST),
set at start, in Python and over HTTP; and the views a fault harness counts with."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time

import pytest
import requests

from brygga_simulators import start_simulator
from brygga_simulators.faults import MAINTENANCE_HTML, FaultPlan, FaultRule, parse_rules

ARENDE = (
    '<SaveNewArende xmlns="www.tekis.se/ServiceContract"><message><Arende arendegrupp="LOV" arendetyp="BL">'
    '<ankomstDatum xmlns="www.tekis.se/arende">2026-01-01</ankomstDatum>'
    '<intressentLista xmlns="www.tekis.se/arende"><intressent><rollLista><roll>SOK</roll></rollLista>'
    "</intressent></intressentLista>"
    '<externRef xmlns="www.tekis.se/arende">{ref}</externRef></Arende>'
    "<AnkomststamplaHandlingar>false</AnkomststamplaHandlingar></message></SaveNewArende>"
)
HANDELSE = (
    '<SaveNewHandelse xmlns="www.tekis.se/ServiceContract"><message><Dnr>{dnr}</Dnr>'
    '<Handelse handelseId="0"><riktning xmlns="www.tekis.se/arende">In</riktning>'
    '<rubrik xmlns="www.tekis.se/arende">Handlingar</rubrik>'
    '<startDatum xmlns="www.tekis.se/arende">2026-01-01T00:00:00</startDatum>'
    '<anteckning xmlns="www.tekis.se/arende">brygga-ref:{ref}</anteckning>'
    '<sekretess xmlns="www.tekis.se/arende">false</sekretess><makulerad xmlns="www.tekis.se/arende">false</makulerad>'
    '<arbetsmaterial xmlns="www.tekis.se/arende">false</arbetsmaterial></Handelse>'
    '<Handlingar><handling handlingId="0"><typ xmlns="www.tekis.se/arende">BIL</typ>'
    '<handlingDatum xmlns="www.tekis.se/arende">2026-01-01</handlingDatum>'
    '<makulerad xmlns="www.tekis.se/arende">false</makulerad>'
    '<dokument xmlns="www.tekis.se/arende"><namn>a.pdf</namn><fil><filBuffer>{data}</filBuffer></fil></dokument>'
    "</handling></Handlingar>"
    "<BesvaradHandelseId xsi:nil=\"true\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"/>"
    "<AnkomststamplaHandlingar>false</AnkomststamplaHandlingar><AutoGenereraBeslutNr>false</AutoGenereraBeslutNr>"
    "</message></SaveNewHandelse>"
)
ADD_MESSAGE = (
    '<addMessage xmlns="http://www.oeplatform.org/version/1.0/schemas/integration/callback">'
    "<flowInstanceID>{flow}</flowInstanceID><message><added>2026-01-01T00:00:00</added><message>Hej</message>"
    "<userID>brygga</userID></message></addMessage>"
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# --- the rules on their own -----------------------------------------------------------------------


def test_nth_times_and_both():
    plan = FaultPlan([{"operation": "A", "action": "http_status", "nth": 2},
                      {"operation": "B", "action": "reset", "times": 2},
                      {"operation": "C", "action": "html_200", "nth": 2, "times": 2}])
    fired = {op: [plan.match(op) is not None for _ in range(5)] for op in "ABC"}
    assert fired == {"A": [False, True, False, False, False],
                     "B": [True, True, False, False, False],
                     "C": [False, True, True, False, False]}


def test_time_window_counts_from_when_the_rule_was_set():
    clock = Clock()
    plan = FaultPlan([{"action": "http_status", "after": 5, "until": 10}], clock=clock)
    hits = []
    for moment in (100, 104.9, 105, 110, 110.1):
        clock.now = moment
        hits.append(plan.match("X") is not None)
    assert hits == [False, False, True, True, False]


def test_glob_first_firing_rule_wins_and_every_rule_counts():
    plan = FaultPlan([{"operation": "SaveNew*", "action": "soap_fault", "nth": 2},
                      {"operation": "*", "action": "http_status", "status": 500}])
    assert plan.match("SaveNewArende").action == "http_status"  # the first rule saw call 1 and let it pass
    assert plan.match("SaveNewHandelse").action == "soap_fault"  # call 2 of SaveNew*
    assert plan.match("GetArende").action == "http_status"
    counters = {rule["action"]: (rule["seen"], rule["fired"]) for rule in plan.snapshot()["rules"]}
    assert counters == {"soap_fault": (2, 1), "http_status": (3, 2)}
    assert [entry["operation"] for entry in plan.received()] == ["SaveNewArende", "SaveNewHandelse", "GetArende"]


def test_no_rules_no_fault_and_clear():
    plan = FaultPlan('[{"action": "reset"}]')
    assert plan.match("X") is not None
    plan.clear()
    assert plan.match("X") is None
    assert len(plan.received()) == 2  # clearing the rules keeps the record of what came in


@pytest.mark.parametrize("raw, message", [
    ('[{"action": "explode"}]', "unknown fault action"),
    ('[{"action": "reset", "nth": 0}]', "nth"),
    ('[{"action": "delay"}]', "needs seconds"),
    ('[{"action": "reset", "colour": "red"}]', "unknown fault rule key"),
    ('[{"operation": "X"}]', "needs an action"),
    ('{"action": ', "is JSON"),
    ('[{"action": "http_status", "status": 99}]', "status"),
    ('[{"action": "delay", "seconds": 1, "phase": "during"}]', "phase"),
])
def test_bad_plans_are_refused_with_a_reason(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_rules(raw)


def test_plan_forms():
    assert parse_rules({"rules": [{"action": "reset"}]}) == [FaultRule(action="reset")]
    assert parse_rules({"action": "reset"}) == [FaultRule(action="reset")]
    assert parse_rules("") == []


# --- SOAP, over a real socket ---------------------------------------------------------------------


def test_http_status_then_normal_again(byggr, post_soap):
    byggr.app.faults.set([{"operation": "SaveNewArende", "action": "http_status", "status": 503, "times": 2}])
    statuses = [post_soap(byggr, ARENDE.format(ref=f"r{i}")).status_code for i in range(3)]
    assert statuses == [503, 503, 200]
    assert len(byggr.app.cases) == 1  # an outage does no work


def test_html_200_and_soap_fault(byggr, post_soap):
    byggr.app.faults.set([
        {"operation": "SaveNewArende", "action": "html_200", "nth": 1},
        {"operation": "SaveNewArende", "action": "soap_fault", "nth": 2, "faultcode": "Client",
         "faultstring": "Ogiltig sökande 198503142385 i begäran"},
    ])
    page = post_soap(byggr, ARENDE.format(ref="a"))
    fault = post_soap(byggr, ARENDE.format(ref="a"))
    assert page.status_code == 200 and page.text == MAINTENANCE_HTML
    assert page.headers["Content-Type"].startswith("text/html")
    assert fault.status_code == 500
    assert b"<faultcode>s:Client</faultcode>" in fault.content
    assert "198503142385" in fault.text  # a fault may quote anything: what a client does with it is its business
    assert byggr.app.cases == {}


def test_reset_closes_without_answer_and_does_nothing(byggr, post_soap):
    byggr.app.faults.set([{"operation": "SaveNewArende", "action": "reset", "nth": 1}])
    with pytest.raises(requests.ConnectionError):
        post_soap(byggr, ARENDE.format(ref="a"))
    assert byggr.app.cases == {}
    assert post_soap(byggr, ARENDE.format(ref="a")).status_code == 200


def test_lose_reply_does_the_work_then_drops_the_connection(byggr, post_soap):
    byggr.app.faults.set([{"operation": "SaveNew*", "action": "lose_reply", "times": 2}])
    with pytest.raises(requests.ConnectionError):
        post_soap(byggr, ARENDE.format(ref="lost"))
    (dnr,) = byggr.app.cases
    data = base64.b64encode(b"%PDF-1.4 x").decode()
    with pytest.raises(requests.ConnectionError):
        post_soap(byggr, HANDELSE.format(dnr=dnr, ref="lost", data=data))
    counts = requests.get(byggr.base_url + "/_sim/counts", timeout=10).json()
    assert counts["cases_per_extern_ref"] == {"lost": 1}
    assert counts["cases_per_marker"] == {"brygga-ref:lost": 1}
    assert counts["documents_per_case"] == {dnr: 1}


def test_commit_after_answers_nothing_and_commits_later(byggr, post_soap):
    byggr.app.faults.set([{"operation": "SaveNewArende", "action": "commit_after", "seconds": 0.3, "nth": 1}])
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):  # no timeout on our side: the server closes after committing
        post_soap(byggr, ARENDE.format(ref="late"))
    assert time.monotonic() - started >= 0.3
    assert [case.extern_ref for case in byggr.app.cases.values()] == ["late"]


def test_commit_after_beyond_the_read_timeout_looks_like_a_timeout(byggr):
    byggr.app.faults.set([{"operation": "SaveNewArende", "action": "commit_after", "seconds": 0.5}])
    with pytest.raises(requests.Timeout):
        requests.post(byggr.url, data=_envelope(ARENDE.format(ref="t")), timeout=(2, 0.1),
                      headers={"Content-Type": "text/xml; charset=utf-8"})


def test_delay_after_the_work(byggr, post_soap):
    byggr.app.faults.set([{"operation": "SaveNewArende", "action": "delay", "seconds": 0.3, "phase": "after"}])
    started = time.monotonic()
    assert post_soap(byggr, ARENDE.format(ref="slow")).status_code == 200
    assert time.monotonic() - started >= 0.3
    received = requests.get(byggr.base_url + "/_sim/received", params={"operation": "SaveNewArende"},
                            timeout=10).json()
    assert [(entry["operation"], entry["action"]) for entry in received] == [("SaveNewArende", "delay")]


def test_fault_plan_over_http(byggr, post_soap):
    url = byggr.base_url + "/_sim/faults"
    assert requests.post(url, json=[{"action": "http_status", "status": 500}], timeout=10).status_code == 200
    assert post_soap(byggr, ARENDE.format(ref="a")).status_code == 500
    requests.post(url, json={"append": True, "rules": [{"action": "reset"}]}, timeout=10)
    shown = requests.get(url, timeout=10).json()
    assert [(r["action"], r["seen"], r["fired"]) for r in shown["rules"]] == [("http_status", 1, 1), ("reset", 0, 0)]
    assert requests.post(url, data="[{", timeout=10).status_code == 400
    assert requests.delete(url, timeout=10).json()["rules"] == []
    assert post_soap(byggr, ARENDE.format(ref="a")).status_code == 200


def test_callbacks_per_flow_instance(callback, post_soap):
    callback.app.faults.set([{"operation": "addMessage", "action": "lose_reply", "nth": 1}])
    with pytest.raises(requests.ConnectionError):
        post_soap(callback, ADD_MESSAGE.format(flow=7))
    assert post_soap(callback, ADD_MESSAGE.format(flow=7)).status_code == 200
    assert post_soap(callback, ADD_MESSAGE.format(flow=8)).status_code == 200
    view = requests.get(callback.base_url + "/_sim/callbacks", timeout=10).json()
    assert view == {"7": {"addMessage": 2}, "8": {"addMessage": 1}}


def test_fault_plan_at_start():
    plan = json.dumps([{"operation": "addMessage", "action": "http_status", "status": 503}])
    with start_simulator("oep-callback", fault_plan=plan) as sim:
        assert [rule.action for rule in sim.app.faults.rules] == ["http_status"]


def test_fault_plan_from_the_command_line():
    plan = json.dumps([{"action": "http_status", "status": 418}])
    process = subprocess.Popen([sys.executable, "-m", "brygga_simulators", "byggr", "--option", f"fault_plan={plan}"],
                               stdout=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()  # "byggr simulator: http://127.0.0.1:PORT/..."
        url = first.split(": ", 1)[1].strip()
        answer = requests.post(url, data=_envelope(ARENDE.format(ref="a")), timeout=10)
        assert answer.status_code == 418
    finally:
        process.terminate()
        process.wait(timeout=30)  # a deadline for a clean exit, not a speed: a loaded CI host is slow to stop


def test_a_bad_plan_on_the_command_line_is_refused():
    done = subprocess.run([sys.executable, "-m", "brygga_simulators", "byggr", "--option", "fault_plan=[{]"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "fault plan is JSON" in done.stderr


# --- REST, matched by path ------------------------------------------------------------------------


def test_rest_rules_match_by_path():
    with start_simulator("property-register") as sim:
        search = sim.url + "/fastigheter"
        sim.app.faults.set([{"operation": "/fastigheter", "action": "html_200", "nth": 1},
                            {"operation": "*/fastigheter", "action": "reset", "nth": 2},
                            {"operation": "/openapi.json", "action": "http_status", "status": 500}])
        assert requests.get(search, params={"beteckning": "KUMLA"}, timeout=10).text == MAINTENANCE_HTML
        with pytest.raises(requests.ConnectionError):
            requests.get(search, params={"beteckning": "KUMLA"}, timeout=10)
        assert requests.get(search, params={"beteckning": "KUMLA"}, timeout=10).status_code == 200
        assert requests.get(sim.url + "/openapi.json", timeout=10).status_code == 500
        soap_fault = {"action": "soap_fault", "faultcode": "Server", "faultstring": "nere"}
        requests.post(sim.base_url + "/_sim/faults", json=[soap_fault], timeout=10)
        answer = requests.get(search, params={"beteckning": "KUMLA"}, timeout=10)
        assert answer.status_code == 500 and answer.json()["detail"] == "nere"


def _envelope(body: str) -> bytes:
    return (f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{body}</s:Body>'
            "</s:Envelope>").encode()
