"""The administrator's round in a real browser (Debian's chromium, driven by Playwright; no browser download) against
a real `airflow api-server` with Brygga's plugin: log in through Airflow's login page, find a submission by its
FlowInstanceID, open its trace, find a quarantined one, fix its mapping, replay it, and see it delivered. On the way:
a personnummer typed into the free-text search reaches no URL, and Enter in the reason for discarding replays
nothing.

The ledger is real: the bundled kumla-bygglov route run in this process on simulators, with a copy of the mappings
in which the attefall mapping lacks the answer the sample gives (a form's new option: the fixable kind of fault).
Each step is kept as a screenshot (the folder is printed); axe-core checks the search, trace, quarantine and
health pages.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from airflow_api_server import ApiServer, User, airflow_api_server
from browser import assert_accessible, kept_artifacts, launch, require_chromium
from simulated_route import LocalRoute, simulated_connections

from brygga.ledger import Ledger, State
from brygga.settings import REPO_ROOT, Settings
from brygga_airflow.admin_view import URL_PREFIX

pytestmark = pytest.mark.airflow

ROUTE = "kumla-bygglov"
ADMIN = User("admin", "admin", "brygga-admin-password")
ATTEFALL = Path("open-eplatform") / "attefall.yaml"
# The answer the attefall sample gives; without its line in the value map the mapping refuses the form.
MEASURE_LINE = "      Komplementbostadshus: komplementbostadshus\n"
TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Site:
    server: ApiServer
    route: LocalRoute
    mappings: Path
    person_id: str
    personnummer: str  # the resident's of person_id, as the case holds it (12 digits)
    quarantined_id: str

    @property
    def admin(self) -> str:
        return f"{self.server.url}{URL_PREFIX}"

    def fix_the_mapping(self) -> None:
        shutil.copyfile(REPO_ROOT / "mappings" / ATTEFALL, self.mappings / ATTEFALL)

    def state(self, submission_id: str) -> str:
        return Ledger(Settings.from_env().database_url).get(submission_id).state


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("admin-page")
    mappings = tmp / "mappings"
    shutil.copytree(REPO_ROOT / "mappings", mappings)
    broken = (mappings / ATTEFALL).read_text(encoding="utf-8")
    assert MEASURE_LINE in broken
    (mappings / ATTEFALL).write_text(broken.replace(MEASURE_LINE, ""), encoding="utf-8")
    with pytest.MonkeyPatch.context() as env:
        for name in [n for n in os.environ if n.startswith(("BRYGGA", "AIRFLOW"))]:
            env.delenv(name)
        env.setenv("BRYGGA_HOME", str(tmp / "brygga"))
        env.setenv("BRYGGA_MAPPINGS", str(mappings))
        route = LocalRoute(ROUTE)
        with simulated_connections(ROUTE, tmp / "simulated") as connections:
            for name, uri in connections.items():
                env.setenv(name, uri)
            person, attefall = route.drop("bygglov-person.xml"), route.drop("attefall-utf8.xml")
            route.run()
            delivered, waiting = route.submission(person), route.submission(attefall)
            assert (delivered.state, waiting.state) == (State.COMPLETED, State.QUARANTINED)
            (party,) = json.loads(delivered.canonical_json or "{}")["parties"]
            with airflow_api_server(tmp / "airflow", [ADMIN], {"BRYGGA_HOME": str(tmp / "brygga")}) as server:
                yield Site(server, route, mappings, delivered.id, party["personnummer"], waiting.id)


@pytest.fixture
def artifacts() -> Iterator[Path]:
    with kept_artifacts("admin-page", "the admin round") as folder:
        yield folder


@pytest.fixture
def shots(artifacts: Path) -> Callable[[object, str], None]:
    def shot(page: object, name: str) -> None:
        page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]

    return shot


def test_the_admin_round_in_a_browser(site: Site, shots: Callable[[object, str], None], artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)

            # 1. Log in: the view sends the browser to Airflow's login page, which sends it back.
            page.goto(f"{site.admin}/")
            expect(page).to_have_url(re.compile(r"/auth/login\?next="))
            shots(page, "1a-airflow-login")
            page.get_by_label(re.compile("username", re.I)).fill(ADMIN.name)
            page.get_by_label(re.compile("password", re.I)).fill(ADMIN.password)
            page.get_by_role("button", name=re.compile("sign in|log in|login", re.I)).click()
            page.wait_for_url(f"{site.admin}/")
            expect(page.get_by_role("heading", level=1)).to_have_text("Submissions")
            expect(page.get_by_text(f"Signed in to Airflow as {ADMIN.name}")).to_be_visible()
            shots(page, "1b-signed-in")
            # The same view inside Airflow's UI, from its "Brygga" menu entry.
            page.goto(f"{site.server.url}/plugin/brygga")
            framed = page.frame_locator(f"iframe[src*='{URL_PREFIX}']")
            expect(framed.get_by_role("heading", level=1)).to_have_text("Submissions")
            shots(page, "1c-inside-airflow")

            # 2. Search by the FlowInstanceID the resident's receipt shows.
            page.goto(f"{site.admin}/")
            page.get_by_label("Id, FlowInstanceID, file name, sha256 or diarienummer").fill("2001")
            page.get_by_role("button", name="Search", exact=True).click()
            expect(page.get_by_text("1 submission found.")).to_be_visible()
            found = page.get_by_role("link", name=site.person_id)
            expect(found).to_be_visible()
            shots(page, "2-search-by-flowinstanceid")
            assert_accessible(page, artifacts / "axe-search.txt")
            # A personnummer typed into the free text instead: posted, refused, and in no address the browser keeps.
            number = f"{site.personnummer[:8]}-{site.personnummer[8:]}"
            page.get_by_label("Id, FlowInstanceID, file name, sha256 or diarienummer").fill(number)
            with page.expect_request(lambda request: request.url.endswith(f"{URL_PREFIX}/search")) as sent:
                page.get_by_role("button", name="Search", exact=True).click()
            assert sent.value.method == "POST" and number not in sent.value.url
            expect(page.get_by_role("alert")).to_contain_text("use the personnummer field")
            assert not [n for n in (number, site.personnummer) if n in page.url or n in page.content()]
            page.go_back()  # back to the FlowInstanceID's results, by their own address
            expect(found).to_be_visible()

            # 3. Its trace: every step, the delivery to ByggR with its diarienummer, the archive package.
            found.click()
            expect(page.get_by_role("heading", level=1)).to_contain_text(site.person_id)
            expect(page.locator("dl.summary")).to_contain_text("completed")
            expect(page.get_by_role("table", name=re.compile("Every call to a target"))).to_contain_text("delivered")
            expect(page.get_by_role("button", name="Show personal data")).to_be_visible()
            shots(page, "3-trace")
            assert_accessible(page, artifacts / "axe-trace.txt")

            # 4. The quarantine, grouped by reason: the attefall form the mapping could not read.
            page.get_by_role("navigation", name="Brygga").get_by_role("link", name="Quarantine").click()
            group = page.locator("fieldset.group", has_text=site.quarantined_id)
            expect(group.locator("legend")).to_contain_text(f"{ROUTE} · translate · 1 submission")
            shots(page, "4-quarantine")
            assert_accessible(page, artifacts / "axe-quarantine.txt")
            # Enter in the reason for discarding submits nothing: neither a discard nor (the first button) a replay.
            # A probe notes every form submission the page makes, and stops it.
            page.evaluate("""() => {
                window.bryggaSubmits = [];
                window.bryggaProbe = (event) => {
                    window.bryggaSubmits.push(event.submitter ? event.submitter.textContent : "(no button)");
                    event.preventDefault();
                };
                document.addEventListener("submit", window.bryggaProbe, true);
            }""")
            page.get_by_label(f"Select {site.quarantined_id}").check()
            reason = page.get_by_label(re.compile("Reason for discarding"))
            reason.fill("a test file")
            reason.press("Enter")
            assert page.evaluate("() => window.bryggaSubmits") == []
            page.evaluate('() => document.removeEventListener("submit", window.bryggaProbe, true)')
            reason.fill("")
            assert site.state(site.quarantined_id) == State.QUARANTINED

            # 5. Fix the mapping, replay from the page, and let the route run again.
            site.fix_the_mapping()
            group.get_by_label(re.compile("Select all 1 in this group")).check()
            expect(page.get_by_label(f"Select {site.quarantined_id}")).to_be_checked()
            page.get_by_role("button", name="Replay selected").click()
            expect(page.get_by_role("status").filter(has_text="Replayed 1 submission.")).to_be_visible()
            shots(page, "5a-replayed")
            site.route.run()

            # 6. Its trace again: delivered, and the quarantine it came from is still there, with who replayed it.
            page.goto(f"{site.admin}/submissions/{site.quarantined_id}")
            page.reload()
            expect(page.locator("dl.summary")).to_contain_text("completed")
            deliveries = page.get_by_role("table", name=re.compile("Every call to a target"))
            expect(deliveries.get_by_role("row", name=re.compile(r"^byggr delivered"))).to_be_visible()
            history = page.get_by_role("table", name=re.compile("Every quarantine of this submission"))
            expect(history).to_contain_text("replayed")
            expect(history).to_contain_text(ADMIN.name)
            shots(page, "6-delivered")

            # And the route's health: both submissions completed, ByggR delivered twice.
            page.get_by_role("navigation", name="Brygga").get_by_role("link", name="Health").click()
            targets = page.get_by_role("table", name=f"Targets and call sites of {ROUTE}")
            expect(targets.get_by_role("row", name=re.compile(r"^byggr 2 0 2 0 %"))).to_be_visible()
            shots(page, "7-health")
            assert_accessible(page, artifacts / "axe-health.txt")
        finally:
            browser.close()
