"""The admin view in a real `airflow api-server`, behind Airflow's SimpleAuthManager: every endpoint refuses an
anonymous (or expired) caller before reading a body, each role gets what its permission floor allows (viewer: see;
op: also replay and discard; admin: also personal data in clear, audited), a cross-site state change is refused
whatever carries the token, searches by personnummer are audited and nothing typed reaches a URL unchecked, and
the default pages hold no personal data. The ledger is real: the bundled kumla-bygglov route run here on
simulators. The last tests give the app an authorizer of their own, for what SimpleAuthManager cannot express.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any, ClassVar

import jwt
import pytest
import requests
from airflow_api_server import ApiServer, User, airflow_api_server
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from simulated_route import SAMPLES, LocalRoute, simulated_connections

from brygga.ledger import Ledger, State
from brygga.provenance import AirflowRun, bind_airflow_run
from brygga.settings import Settings
from brygga_airflow.admin_view import URL_PREFIX, create_app
from brygga_airflow.admin_view.access import Permission

pytestmark = pytest.mark.airflow

ROUTE = "kumla-bygglov"
PERSON_SECRET = secrets.token_hex(32)
JWT_SECRET = secrets.token_hex(32)  # the test's Airflow signs its tokens with it, so a test can make an expired one
USERS = [User("admin", "admin", "admin-password"), User("op", "op", "op-password"),
         User("viewer", "viewer", "viewer-password")]
MALFORMED = (SAMPLES / "bygglov-malformed.xml").read_bytes()
_fresh = count()


@dataclass(frozen=True)
class World:
    server: ApiServer
    route: LocalRoute
    person_id: str  # bygglov-person.xml, delivered to ByggR
    personal: list[str]  # its applicant's personnummer, names, address, e-mail and phone, as the case holds them

    @property
    def admin(self) -> str:
        return f"{self.server.url}{URL_PREFIX}"

    def ledger(self) -> Ledger:
        return Ledger(Settings.from_env().database_url)

    def browser(self, user: str) -> requests.Session:
        """A session signed in the way the browser is: Airflow's JWT in its cookie."""
        session = requests.Session()
        session.cookies.set("_token", self.server.token(user))
        return session

    def bearer(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.server.token(user)}"}

    def expired_token(self, user: str) -> str:
        """The user's token as Airflow issued it, but with its hour over: signed with the server's own secret."""
        token = self.server.token(user)
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
        past = datetime.now(UTC) - timedelta(hours=2)
        claims.update(iat=past, nbf=past, exp=past + timedelta(minutes=5))
        return jwt.encode(claims, JWT_SECRET, algorithm=header["alg"], headers={"kid": header["kid"]}
                          if "kid" in header else None)

    def person_searches(self) -> list[Any]:
        return [a for a in self.ledger().audit_log() if a.action == "person_search"]

    def quarantined(self) -> str:
        """A new submission in quarantine (a FlowInstance cut short), for a test of its own."""
        tag = f"fresh-{next(_fresh)}-{secrets.token_hex(4)}"
        raw = self.route.drop("bygglov-malformed.xml", data=MALFORMED + f"<!-- {tag} -->".encode(),
                              as_name=f"{tag}.xml")
        self.route.run()
        submission = self.route.submission(raw)
        assert submission.state == State.QUARANTINED
        return submission.id


def _personal_values(case: dict) -> list[str]:
    (party,) = case["parties"]
    number = party["personnummer"]
    return [number, f"{number[:8]}-{number[8:]}", f"{number[2:8]}-{number[8:]}", party["givenName"],
            party["familyName"], party["address"]["street"], party["email"], party["phone"]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("admin-view")
    with pytest.MonkeyPatch.context() as env:
        for name in [n for n in os.environ if n.startswith(("BRYGGA", "AIRFLOW"))]:
            env.delenv(name)
        env.setenv("BRYGGA_HOME", str(tmp / "brygga"))
        # The personnummer search's secret: the pipeline keys each party's number with it, the view a searched one.
        env.setenv("BRYGGA_CONN_BRYGGA_PERSON_KEY", f"https://:{PERSON_SECRET}@person-key.invalid")
        route = LocalRoute(ROUTE)
        with simulated_connections(ROUTE, tmp / "simulated") as connections:
            for name, uri in connections.items():
                env.setenv(name, uri)
            person = route.drop("bygglov-person.xml")
            route.drop("bygglov-bad-personnummer.xml")
            route.run()
            submission = route.submission(person)
            assert submission.state == State.COMPLETED and submission.external_ref
            personal = _personal_values(json.loads(submission.canonical_json or "{}"))
            server_env = {"BRYGGA_HOME": str(tmp / "brygga"), "AIRFLOW__API_AUTH__JWT_SECRET": JWT_SECRET,
                          "AIRFLOW_CONN_BRYGGA_PERSON_KEY": f"generic://:{PERSON_SECRET}@person-key.invalid"}
            with airflow_api_server(tmp / "airflow", USERS, server_env, with_dags=True) as server:
                yield World(server, route, submission.id, personal)


def _path(route: APIRoute) -> str:
    return URL_PREFIX + re.sub(r"\{[^}]+\}", "x", route.path)


def test_every_endpoint_refuses_an_anonymous_caller(world: World) -> None:
    routes = [r for r in create_app().routes if isinstance(r, APIRoute)]
    assert len(routes) >= 15 and all(isinstance(r, APIRoute) for r in create_app().routes)
    same_site = {"Origin": world.server.url}
    expired = {"Authorization": f"Bearer {world.expired_token('admin')}"}
    # A body that is not JSON: still "not signed in", never a 422 telling what the body should have been.
    broken = {"Content-Type": "application/json"}
    for route in routes:
        for method in route.methods:
            for credentials in ({}, {"Authorization": "Bearer not-a-token"}, expired, broken):
                answer = requests.request(method, world.server.url + _path(route), headers=same_site | credentials,
                                          data=b"{not json" if credentials is broken else None,
                                          allow_redirects=False, timeout=60)
                where = f"{method} {route.path} with {credentials or 'nothing'}"
                if route.path.startswith("/api/"):
                    assert answer.status_code == 401, where
                else:  # a page sends the browser to Airflow's login, and back here after it
                    assert answer.status_code == 303, where
                    assert answer.headers["location"].startswith("/auth/login?next="), where


def test_an_expired_token_is_not_signed_in(world: World) -> None:
    expired = world.expired_token("admin")
    assert requests.get(f"{world.admin}/api/health", headers=world.bearer("admin"), timeout=60).status_code == 200
    answer = requests.get(f"{world.admin}/api/health", headers={"Authorization": f"Bearer {expired}"}, timeout=60)
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    session = requests.Session()
    session.cookies.set("_token", expired)
    page = session.get(f"{world.admin}/health", allow_redirects=False, timeout=60)
    assert page.status_code == 303 and page.headers["location"].startswith("/auth/login?next=")


def test_a_viewer_searches_and_traces_but_neither_replays_nor_reveals(world: World) -> None:
    viewer = world.browser("viewer")
    page = viewer.get(f"{world.admin}/", params={"text": "2001"}, timeout=60)
    assert page.status_code == 200 and world.person_id in page.text
    found = requests.get(f"{world.admin}/api/submissions", params={"text": "2001"}, headers=world.bearer("viewer"),
                         timeout=60).json()
    assert found["count"] == 1 and found["submissions"][0]["id"] == world.person_id
    trace = viewer.get(f"{world.admin}/submissions/{world.person_id}", timeout=60)
    assert trace.status_code == 200 and "Show personal data" not in trace.text

    waiting = world.quarantined()
    listed = viewer.get(f"{world.admin}/quarantine", timeout=60)
    assert waiting in listed.text and "Replay selected" not in listed.text
    same_site = {"Origin": world.server.url}
    replayed = viewer.post(f"{world.admin}/quarantine/replay", data={"submission_id": waiting}, headers=same_site,
                           allow_redirects=False, timeout=60)
    assert replayed.status_code == 403
    assert requests.post(f"{world.admin}/api/quarantine/replay", json={"submission_ids": [waiting]},
                         headers=world.bearer("viewer"), timeout=60).status_code == 403
    assert world.ledger().get(waiting).state == State.QUARANTINED
    revealed = viewer.post(f"{world.admin}/submissions/{world.person_id}/reveal", headers=same_site, timeout=60)
    assert revealed.status_code == 403 and world.personal[0] not in revealed.text
    assert requests.post(f"{world.admin}/api/submissions/{world.person_id}/reveal", headers=world.bearer("viewer"),
                         timeout=60).status_code == 403
    assert not [a for a in world.ledger().audit_log(world.person_id) if a.action == "reveal" and a.actor == "viewer"]


def test_an_op_replays_and_discards_with_history_kept_but_cannot_reveal(world: World) -> None:
    op = world.browser("op")
    same_site = {"Origin": world.server.url}
    first, second = world.quarantined(), world.quarantined()
    runs_url = f"{world.server.url}/api/v2/dags/brygga_route_kumla_bygglov/dagRuns"
    for earlier in requests.get(runs_url, headers=world.bearer("admin"), timeout=60).json()["dag_runs"]:
        # A run queued by another test's replay would take this one's submissions too: none is queued to begin with.
        deleted = requests.delete(f"{runs_url}/{earlier['dag_run_id']}", headers=world.bearer("admin"), timeout=60)
        assert deleted.status_code == 204
    page = op.get(f"{world.admin}/quarantine", timeout=60)
    assert page.status_code == 200 and first in page.text and "Replay selected" in page.text

    replayed = op.post(f"{world.admin}/quarantine/replay", data={"submission_id": first}, headers=same_site,
                       allow_redirects=False, timeout=60)
    assert replayed.status_code == 303 and "notice=replayed&n=1" in replayed.headers["location"]
    assert "queued=1" in replayed.headers["location"]
    assert world.ledger().get(first).state == State.LANDED
    # The route's DAG got a run to take it, queued in Airflow by the one who replayed.
    runs = requests.get(runs_url, headers=world.bearer("admin"), timeout=60).json()["dag_runs"]
    assert [(r["state"], r["triggering_user_name"]) for r in runs if r["dag_run_id"].startswith("brygga_replay__")] \
        == [("queued", "op")]
    (history,) = world.ledger().quarantines(first)
    assert (history.resolution, history.resolved_by) == ("replayed", "op") and history.reasons
    trace = op.get(f"{world.admin}/submissions/{first}", timeout=60).text
    assert "replayed" in trace and ">op<" in trace  # the quarantine and who replayed it stay visible

    blank = op.post(f"{world.admin}/quarantine/discard", data={"submission_id": second, "reason": " "},
                    headers=same_site, allow_redirects=False, timeout=60)
    assert blank.status_code == 400 and world.ledger().get(second).state == State.QUARANTINED
    discarded = requests.post(f"{world.admin}/api/quarantine/discard", headers=world.bearer("op"), timeout=60,
                              json={"submission_ids": [second], "reason": "a test file, sent by mistake"})
    assert discarded.status_code == 200 and discarded.json()["discarded"] == [second]
    assert world.ledger().get(second).state == State.DISCARDED

    assert op.post(f"{world.admin}/submissions/{world.person_id}/reveal", headers=same_site,
                   timeout=60).status_code == 403
    assert requests.post(f"{world.admin}/api/submissions/{world.person_id}/reveal", headers=world.bearer("op"),
                         timeout=60).status_code == 403


def test_replay_by_filter_takes_every_match_of_a_route_step_and_reason(world: World) -> None:
    op = world.browser("op")
    waiting = {world.quarantined(), world.quarantined()}
    answer = op.post(f"{world.admin}/quarantine/replay-by-filter", headers={"Origin": world.server.url},
                     data={"route": ROUTE, "step": "translate", "reason": "NOT WELL-FORMED"}, allow_redirects=False,
                     timeout=60)
    assert answer.status_code == 303 and "notice=replayed" in answer.headers["location"]
    assert {world.ledger().get(i).state for i in waiting} == {State.LANDED}
    # The bad personnummer's quarantine has another reason: it stays.
    left = requests.get(f"{world.admin}/api/quarantine", params={"route": ROUTE}, headers=world.bearer("op"),
                        timeout=60).json()["submissions"]
    assert not waiting & {row["submission"]["id"] for row in left}
    assert any("personnummer" in reason for row in left for reason in row["reasons"])


def test_each_step_links_to_the_airflow_task_instance_that_ran_it(world: World) -> None:
    task = AirflowRun("brygga_route_kumla_bygglov", "scheduled__2026-01-20T10:00:00+00:00", "translate", 2)
    bind_airflow_run(task)  # as the route's Airflow task does
    try:
        waiting = world.quarantined()
    finally:
        bind_airflow_run(None)
    trace = world.browser("viewer").get(f"{world.admin}/submissions/{waiting}", timeout=60).text
    assert f'<a href="{task.ui_path()}" target="_top">translate (try 2)' in trace
    steps = requests.get(f"{world.admin}/api/submissions/{waiting}", headers=world.bearer("viewer"),
                         timeout=60).json()["steps"]
    assert [s["airflow"]["ui_path"] for s in steps if s["step"] == "translate"] == [task.ui_path()]


def test_an_admin_reveals_personal_data_once_and_the_reveal_is_audited(world: World) -> None:
    admin = world.browser("admin")
    trace = admin.get(f"{world.admin}/submissions/{world.person_id}", timeout=60)
    assert "Show personal data" in trace.text and world.personal[3] not in trace.text
    revealed = admin.post(f"{world.admin}/submissions/{world.person_id}/reveal",
                          headers={"Origin": world.server.url}, timeout=60)
    assert revealed.status_code == 200
    assert all(value in revealed.text for value in (world.personal[0], world.personal[3], world.personal[4]))
    assert revealed.headers["cache-control"] == "no-store"
    reveals = [a for a in world.ledger().audit_log(world.person_id) if a.action == "reveal"]
    assert [a.actor for a in reveals] == ["admin"]
    # Only that answer: the page shown again is masked.
    assert world.personal[3] not in admin.get(f"{world.admin}/submissions/{world.person_id}", timeout=60).text
    by_script = requests.post(f"{world.admin}/api/submissions/{world.person_id}/reveal",
                              headers=world.bearer("admin"), timeout=60).json()
    assert by_script["case"]["parties"][0]["familyName"] == world.personal[4]
    assert len([a for a in world.ledger().audit_log(world.person_id) if a.action == "reveal"]) == 2


def test_a_cross_site_state_change_is_refused(world: World) -> None:
    admin = world.browser("admin")
    waiting = world.quarantined()
    replay = f"{world.admin}/quarantine/replay"
    for headers in ({"Origin": "http://evil.example"}, {"Referer": "http://evil.example/page"}, {},
                    {"Origin": "null"}):
        refused = admin.post(replay, data={"submission_id": waiting}, headers=headers, allow_redirects=False,
                             timeout=60)
        assert refused.status_code == 403, headers
    assert world.ledger().get(waiting).state == State.QUARANTINED
    reveal = admin.post(f"{world.admin}/submissions/{world.person_id}/reveal",
                        headers={"Origin": "http://evil.example"}, timeout=60)
    assert reveal.status_code == 403 and world.personal[0] not in reveal.text
    before = len(world.ledger().audit_log(world.person_id))
    assert admin.post(f"{world.admin}/quarantine/discard", data={"submission_id": waiting, "reason": "x"},
                      headers={"Origin": "http://evil.example"}, timeout=60).status_code == 403
    assert len(world.ledger().audit_log(world.person_id)) == before
    # The same host and port by another scheme is another site ([api] base_url is set: http://127.0.0.1:<port>).
    other_scheme = world.server.url.replace("http://", "https://")
    assert admin.post(replay, data={"submission_id": waiting}, headers={"Origin": other_scheme},
                      allow_redirects=False, timeout=60).status_code == 403
    # A bearer token does not make another site's request acceptable: with simple_auth_manager_all_admins Airflow
    # puts one on every request, a forged one too.
    for headers in ({"Origin": "http://evil.example"}, {"Referer": "http://evil.example/page"}, {"Origin": "null"},
                    {"Origin": other_scheme}):
        by_token = requests.post(f"{world.admin}/api/quarantine/replay", json={"submission_ids": [waiting]},
                                 headers=world.bearer("admin") | headers, timeout=60)
        assert by_token.status_code == 403, headers
        assert requests.post(f"{world.admin}/submissions/{world.person_id}/reveal", timeout=60,
                             headers=world.bearer("admin") | headers).status_code == 403
    assert world.ledger().get(waiting).state == State.QUARANTINED
    assert len(world.ledger().audit_log(world.person_id)) == before
    # From the page itself it works (a same-site Referer will do when a browser sends no Origin).
    accepted = admin.post(replay, data={"submission_id": waiting}, headers={"Referer": f"{world.admin}/quarantine"},
                          allow_redirects=False, timeout=60)
    assert accepted.status_code == 303 and world.ledger().get(waiting).state == State.LANDED


def test_the_default_pages_and_answers_hold_no_personal_data(world: World) -> None:
    admin = world.browser("admin")  # one who may reveal: still masked until asked
    answers = [admin.get(f"{world.admin}{path}", timeout=60) for path in (
        "/", "/?text=2001", f"/submissions/{world.person_id}", "/quarantine", "/health",
        f"/api/submissions/{world.person_id}", "/api/submissions?text=2001", "/api/quarantine", "/api/health")]
    assert all(answer.status_code == 200 for answer in answers)
    assert world.person_id in answers[1].text and "•••" in answers[2].text
    for answer in answers:
        leaked = [value for value in world.personal if value.lower() in answer.text.lower()]
        assert not leaked, f"{answer.url} shows {len(leaked)} personal value(s)"


def test_a_personnummer_search_is_posted_never_echoed_and_audited(world: World) -> None:
    viewer = world.browser("viewer")
    number = world.personal[1]  # as a resident writes it: 19850314-2385
    searches_before = len(world.person_searches())
    found = viewer.post(f"{world.admin}/search", data={"personnummer": number}, headers={"Origin": world.server.url},
                        timeout=60)
    assert found.status_code == 200 and world.person_id in found.text
    assert not [v for v in world.personal[:3] if v in found.text or v in found.url]
    by_script = requests.post(f"{world.admin}/api/submissions/search", json={"personnummer": number[2:]},
                              headers=world.bearer("viewer"), timeout=60).json()
    assert [row["id"] for row in by_script["submissions"]] == [world.person_id]
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)  # the check digit off by one
    refused = viewer.post(f"{world.admin}/search", data={"personnummer": wrong}, headers={"Origin": world.server.url},
                          timeout=60)
    assert refused.status_code == 400 and "not a valid personnummer" in refused.text and wrong not in refused.text
    # Typed into the free-text search instead, it is neither searched as text nor written back into the page.
    mistyped = viewer.get(f"{world.admin}/", params={"text": number}, timeout=60)
    assert mistyped.status_code == 400 and "use the personnummer field" in mistyped.text
    assert number not in mistyped.text and world.person_id not in mistyped.text
    nobody = requests.post(f"{world.admin}/api/submissions/search", json={"personnummer": "19121212-1212"},
                           headers=world.bearer("viewer"), timeout=60).json()
    assert nobody == {"count": 0, "submissions": []}
    # Each search made by a personnummer is recorded: who, and how many it found; never the number. The one with
    # the wrong check digit searched nothing.
    searches = world.person_searches()[searches_before:]
    assert [(a.actor, a.submission_id) for a in searches] == [("viewer", None)] * 3
    assert [a.detail.split(": ")[-1] for a in searches] == ["1 submission(s) found"] * 2 + ["0 submission(s) found"]
    assert not [v for v in world.personal if any(v in (a.detail or "") for a in searches)]
    assert "every search by personnummer, is recorded" in found.text  # the page says so


def test_the_search_form_is_posted_and_only_checked_text_reaches_a_url(world: World) -> None:
    viewer = world.browser("viewer")
    page = viewer.get(f"{world.admin}/", timeout=60).text
    forms = re.findall(r"<form\b[^>]*>.*?</form>", page, re.DOTALL)
    searching = [f for f in forms if 'name="text"' in f]
    assert searching and all(f.startswith(f'<form method="post" action="{URL_PREFIX}/search"') for f in searching)
    assert any('name="personnummer"' in f for f in searching)
    same_site = {"Origin": world.server.url}
    # A personnummer typed as free text: refused in the answer to the POST, so it is in no URL, log line or history.
    number = world.personal[1]
    mistyped = viewer.post(f"{world.admin}/search", data={"text": number}, headers=same_site, allow_redirects=False,
                           timeout=60)
    assert mistyped.status_code == 400 and "use the personnummer field" in mistyped.text
    assert "location" not in mistyped.headers and number not in mistyped.text
    # Checked text goes on to the results' own address (so a next page or a bookmark is a plain link).
    checked = viewer.post(f"{world.admin}/search", data={"text": "2001", "route": ROUTE}, headers=same_site,
                          allow_redirects=False, timeout=60)
    assert checked.status_code == 303 and checked.headers["location"] == f"{URL_PREFIX}/?text=2001&route={ROUTE}"
    assert world.person_id in viewer.get(world.server.url + checked.headers["location"], timeout=60).text
    log = world.server.log_file.read_text(encoding="utf-8", errors="replace")
    assert not [v for v in world.personal[:3] if v in log]


def test_a_replay_by_filter_names_its_route(world: World) -> None:
    waiting = world.quarantined()
    for body in ({"filter": {}}, {"filter": {"route": ""}}, {"filter": {"step": "translate"}}, {}):
        answer = requests.post(f"{world.admin}/api/quarantine/replay", json=body, headers=world.bearer("op"),
                               timeout=60)
        assert answer.status_code == 422, body
    assert world.ledger().get(waiting).state == State.QUARANTINED
    by_route = requests.post(f"{world.admin}/api/quarantine/replay", headers=world.bearer("op"), timeout=60,
                             json={"filter": {"route": ROUTE, "reason": "NOT WELL-FORMED"}})
    assert by_route.status_code == 200 and waiting in by_route.json()["replayed"]
    assert world.ledger().get(waiting).state == State.LANDED


def test_the_plugin_shows_brygga_in_airflows_menu(world: World) -> None:
    plugins = requests.get(f"{world.server.url}/api/v2/plugins", headers=world.bearer("admin"), timeout=60).json()
    (brygga,) = [p for p in plugins["plugins"] if p["name"] == "brygga"]
    assert {"name": "Brygga admin", "url_prefix": URL_PREFIX} in [
        {"name": a["name"], "url_prefix": a["url_prefix"]} for a in brygga["fastapi_apps"]]
    (view,) = brygga["external_views"]
    assert view["name"] == "Brygga"
    assert (view["href"], view["destination"], view["url_route"]) == (f"{URL_PREFIX}/", "nav", "brygga")
    signed_in = world.browser("viewer").get(world.server.url + view["href"], timeout=60)
    assert signed_in.status_code == 200 and "<h1>Submissions</h1>" in signed_in.text


def test_the_page_tells_the_login_where_to_come_back(world: World) -> None:
    answer = requests.get(f"{world.admin}/quarantine?route={ROUTE}", allow_redirects=False, timeout=60)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/auth/login?next=%2Fbrygga%2Fadmin%2Fquarantine%3Froute%3D{ROUTE}"


class _Roles:
    """An auth manager that can say what SimpleAuthManager cannot (act or reveal without view), and counts what it
    is asked. The token names the user; the cookie is Airflow's."""

    cookie_name = "_token"
    GRANTS: ClassVar = {"viewer": {Permission.VIEW}, "admin": set(Permission),
                        "no-view": {Permission.ACT, Permission.REVEAL}}

    def __init__(self) -> None:
        self.asked: list[Permission] = []

    async def user_from_token(self, token: str) -> str | None:
        return token if token in self.GRANTS else None

    def user_name(self, user: str) -> str:
        return user

    def allows(self, user: str, permission: Permission) -> bool:
        self.asked.append(permission)
        return permission in self.GRANTS[user]

    def login_url(self, next_url: str) -> str:
        return f"/auth/login?next={next_url}"

    def site_origins(self) -> list[str]:
        return []


@pytest.fixture
def own_roles(tmp_path: Path) -> tuple[TestClient, _Roles]:
    settings = Settings.from_env({"BRYGGA_HOME": str(tmp_path)})
    Ledger(settings.database_url)  # an empty ledger: the view never creates one
    roles = _Roles()
    return TestClient(create_app(settings_factory=lambda: settings, authorizer=roles)), roles


def test_acting_and_revealing_need_view_too(own_roles: tuple[TestClient, _Roles]) -> None:
    client, _ = own_roles
    no_view = {"Authorization": "Bearer no-view"}
    assert client.post("/api/quarantine/replay", json={"submission_ids": ["x"]}, headers=no_view).status_code == 403
    assert client.post("/api/quarantine/discard", json={"submission_ids": ["x"], "reason": "r"},
                       headers=no_view).status_code == 403
    assert client.post("/api/submissions/x/reveal", headers=no_view).status_code == 403
    admin = {"Authorization": "Bearer admin"}
    assert client.post("/api/submissions/x/reveal", headers=admin).status_code == 404  # unknown: no audit row
    assert client.post("/api/quarantine/replay", json={"submission_ids": ["x"]}, headers=admin).json()["failed"]


def test_the_auth_manager_is_asked_only_what_the_request_needs(own_roles: tuple[TestClient, _Roles]) -> None:
    client, roles = own_roles
    assert client.get("/api/health", headers={"Authorization": "Bearer admin"}).status_code == 200
    assert roles.asked == [Permission.VIEW]
    roles.asked.clear()
    assert client.post("/api/submissions/x/reveal", headers={"Authorization": "Bearer admin"}).status_code == 404
    assert roles.asked == [Permission.VIEW, Permission.REVEAL]
    roles.asked.clear()
    # A page asks about act and reveal when it decides whether to show their buttons, and once each.
    assert client.get("/quarantine", headers={"Authorization": "Bearer admin"}).status_code == 200
    assert sorted(roles.asked) == sorted([Permission.VIEW, Permission.ACT])


def test_a_bearer_token_from_another_site_is_refused_but_a_script_passes(
        own_roles: tuple[TestClient, _Roles]) -> None:
    client, _ = own_roles
    token = {"Authorization": "Bearer admin"}
    body = {"submission_ids": ["x"]}
    assert client.post("/api/quarantine/replay", json=body, headers=token).status_code == 200  # a script: no Origin
    for foreign in ({"Origin": "http://evil.example"}, {"Referer": "http://evil.example/"}, {"Origin": "null"}):
        assert client.post("/api/quarantine/replay", json=body, headers=token | foreign).status_code == 403
    # The cookie is the browser's: it needs this site's Origin.
    client.cookies.set("_token", "admin")
    assert client.post("/api/quarantine/replay", json=body).status_code == 403
    assert client.post("/api/quarantine/replay", json=body, headers={"Origin": "http://testserver"}).status_code == 200


def test_what_is_typed_is_escaped_in_the_page(own_roles: tuple[TestClient, _Roles]) -> None:
    client, _ = own_roles
    typed = '"><img src=x onerror=alert(1)>'
    page = client.get("/", params={"text": typed}, headers={"Authorization": "Bearer viewer"})
    assert page.status_code == 200 and '&#34;&gt;&lt;img src=x onerror=alert(1)&gt;' in page.text
    assert "<img src=x" not in page.text
