"""After a full demo run, no personnummer, name or address of the demo's residents is in the admin view's default
pages and answers, in Airflow's task logs or in the XComs of the demo's Airflow metadata database; revealing one
submission shows them, to someone allowed, and writes an audit row.

The values searched for are the residents' own: every person party of every canonical case the demo's mappings made
of its samples (the ledger keeps them), and the person fields of the samples that never translated (a FlowInstance
cut short, one with a wrong check digit). An organisation's name and address are not personal data; given names of
fewer than four letters ("Per") are left out as too common a word to search for, their family names are not.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from brygga.ledger import Ledger, Submission
from brygga.settings import Settings
from brygga_airflow.admin_view import create_app
from brygga_airflow.admin_view.access import Permission

if TYPE_CHECKING:  # the shared demo run's fixture (tests/airflow/conftest.py)
    from conftest import DemoRun

pytestmark = pytest.mark.airflow

MIN_GIVEN_NAME = 4
# The person fields of an Open ePlatform FlowInstance's answers (<Values>), where the untranslated samples hold them.
_OEP_PERSON_FIELD = re.compile(
    r"<(SocialSecurityNumber|Firstname|Lastname|Address|Email|Phone|MobilePhone)>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</")


def _number_forms(number: str) -> set[str]:
    digits = re.sub(r"\D", "", number)
    if len(digits) == 12:
        return {digits, digits[2:], f"{digits[:8]}-{digits[8:]}", f"{digits[2:8]}-{digits[8:]}"}
    if len(digits) == 10:
        return {digits, f"{digits[:6]}-{digits[6:]}"}
    return {number}


def _phone_forms(phone: str) -> set[str]:
    return {phone, re.sub(r"\D", "", phone)}


def _given(name: str | None) -> set[str]:
    return {name} if name and len(name) >= MIN_GIVEN_NAME else set()


def _party_values(party: dict[str, Any]) -> set[str]:
    if party.get("kind") == "organisation":
        return set()
    given, family = party.get("givenName"), party.get("familyName")
    values = _given(given) | ({family} if family else set()) | ({f"{given} {family}"} if given and family else set())
    if party.get("personnummer"):
        values |= _number_forms(str(party["personnummer"]))
    address = party.get("address")
    if isinstance(address, dict) and address.get("street"):
        values.add(address["street"])
    if party.get("email"):
        values.add(party["email"])
    if party.get("phone"):
        values |= _phone_forms(str(party["phone"]))
    return values


def _case_values(case: dict[str, Any]) -> set[str]:
    values = {v for party in case.get("parties") or [] for v in _party_values(party)}
    return values | {p["address"] for p in case.get("properties") or [] if p.get("address")}


def _sample_values(raw: str) -> set[str]:
    """The person fields among a FlowInstance's answers, read as text: the file may not even be well-formed."""
    answers = raw.partition("<Values>")[2]
    values: set[str] = set()
    for field, value in _OEP_PERSON_FIELD.findall(answers):
        if field == "SocialSecurityNumber":
            values |= _number_forms(value)
        elif field in ("Phone", "MobilePhone"):
            values |= _phone_forms(value)
        elif field == "Firstname":
            values |= _given(value)
        elif value.strip():
            values.add(value.strip())
    return values


def _persons(submission: Submission) -> list[dict[str, Any]]:
    """The case's person parties with a personnummer and an address."""
    case = json.loads(submission.canonical_json or "{}")
    return [p for p in case.get("parties") or [] if p.get("kind") == "person" and p.get("personnummer")
            and isinstance(p.get("address"), dict) and p["address"].get("street")]


def _ledger(demo_run: DemoRun) -> Ledger:
    return Ledger(f"sqlite:///{demo_run.brygga_home / 'ledger.sqlite'}")


@pytest.fixture(scope="module")
def personal(demo_run: DemoRun) -> set[str]:
    with _ledger(demo_run).session() as s:
        cases = [json.loads(c) for c in s.scalars(select(Submission.canonical_json)
                                                  .where(Submission.canonical_json.is_not(None)))]
    values = {v for case in cases for v in _case_values(case)}
    samples = {f["file"] for run in demo_run.report["runs"] for f in run["files"]}
    for sample in samples:
        if sample.endswith(".xml"):
            values |= _sample_values(Path(sample).read_text(encoding="utf-8", errors="replace"))
    # The tour has residents with personnummer, names and addresses, among them the one with a wrong check digit.
    assert len(cases) >= 5 and "198503142386" in values and "Berglund" in values
    return values


def _leaks(text: str, values: Iterable[str]) -> list[str]:
    return sorted(v for v in values if re.search(rf"(?<!\w){re.escape(v)}(?!\w)", text, re.IGNORECASE))


class _DemoAuthorizer:
    """Airflow's login stands aside here: the token names the role, and the roles' permissions are the view's own
    SimpleAuthManager floors (viewer: view; admin: everything). tests/airflow/test_admin_view.py covers the real
    auth manager."""

    cookie_name = "_token"
    ROLES: ClassVar = {"viewer-token": ("demo-viewer", {Permission.VIEW}),
                       "admin-token": ("demo-admin", set(Permission))}

    async def user_from_token(self, token: str) -> str | None:
        return token if token in self.ROLES else None

    def user_name(self, user: str) -> str:
        return self.ROLES[user][0]

    def allows(self, user: str, permission: Permission) -> bool:
        return permission in self.ROLES[user][1]

    def login_url(self, next_url: str) -> str:
        return f"/auth/login?next={next_url}"

    def site_origins(self) -> list[str]:
        return []


@pytest.fixture(scope="module")
def view(demo_run: DemoRun) -> TestClient:
    home = str(demo_run.brygga_home)
    return TestClient(create_app(settings_factory=lambda: Settings.from_env({"BRYGGA_HOME": home}),
                                 authorizer=_DemoAuthorizer()))


def test_the_admin_views_default_pages_show_no_personal_data(demo_run: DemoRun, personal: set[str],
                                                             view: TestClient) -> None:
    with _ledger(demo_run).session() as s:
        ids = list(s.scalars(select(Submission.id)))
    assert len(ids) >= 10
    paths = ["/", "/quarantine", "/health", "/api/submissions?limit=1000", "/api/quarantine", "/api/health"]
    paths += [p for i in ids for p in (f"/?text={i}", f"/submissions/{i}", f"/api/submissions/{i}")]
    viewer = {"Authorization": "Bearer viewer-token"}
    for path in paths:
        answer = view.get(path, headers=viewer)
        assert answer.status_code == 200, path
        assert not _leaks(answer.text, personal), f"{path} shows {_leaks(answer.text, personal)}"


def test_airflows_task_logs_hold_no_personal_data(demo_run: DemoRun, personal: set[str]) -> None:
    # dag.test() runs the tasks in the demo's process, which writes their log to the home's airflow-run.log;
    # anything Airflow wrote under its own logs folder is searched too.
    logs = [demo_run.brygga_home / "airflow-run.log", *(p for p in (demo_run.airflow_home / "logs").rglob("*")
                                                      if p.is_file())]
    texts = {str(path): path.read_text(encoding="utf-8", errors="replace") for path in logs}
    with _ledger(demo_run).session() as s:
        ids = set(s.scalars(select(Submission.id)))
    run_log = texts[str(demo_run.brygga_home / "airflow-run.log")]
    assert "quarantined at translate" in run_log and any(i in run_log for i in ids)  # the tasks' own lines
    for path, text in texts.items():
        assert not _leaks(text, personal), f"{path} holds {_leaks(text, personal)}"


def test_the_xcoms_hold_no_personal_data(demo_run: DemoRun, personal: set[str]) -> None:
    with sqlite3.connect(demo_run.airflow_home / "airflow.db") as db:
        xcoms = [(f"{dag}.{task}.{key}", str(value))
                 for dag, task, key, value in db.execute("SELECT dag_id, task_id, key, value FROM xcom")]
    assert len(xcoms) >= 6
    for where, value in xcoms:
        assert not _leaks(value, personal), f"XCom {where} holds {_leaks(value, personal)}"


def test_revealing_a_submission_shows_its_parties_and_is_audited(demo_run: DemoRun, personal: set[str],
                                                                 view: TestClient) -> None:
    ledger = _ledger(demo_run)
    with ledger.session() as s:
        translated = list(s.scalars(select(Submission).where(Submission.route_id == "kumla-bygglov",
                                                             Submission.canonical_json.is_not(None))))
    chosen = next(sub for sub in translated if _persons(sub))
    person = _persons(chosen)[0]
    before = [a.id for a in ledger.audit_log(chosen.id) if a.action == "reveal"]

    same_site = {"Origin": "http://testserver"}
    refused = view.post(f"/submissions/{chosen.id}/reveal", headers={"Authorization": "Bearer viewer-token",
                                                                    **same_site})
    assert refused.status_code == 403 and not _leaks(refused.text, personal)
    revealed = view.post(f"/submissions/{chosen.id}/reveal", headers={"Authorization": "Bearer admin-token",
                                                                     **same_site})
    assert revealed.status_code == 200
    assert {person["personnummer"], person["familyName"], person["address"]["street"]} <= set(
        _leaks(revealed.text, personal))  # in clear, for this answer only
    reveals = [a for a in ledger.audit_log(chosen.id) if a.action == "reveal" and a.id not in before]
    assert [(a.actor, a.submission_id) for a in reveals] == [("demo-admin", chosen.id)]
    assert not _leaks(view.get(f"/submissions/{chosen.id}", headers={"Authorization": "Bearer admin-token"}).text,
                      personal)
