"""A vendor reads the conformance kit's HTML report in a real browser (Debian's chromium, driven by Playwright; no
browser download): the report of a real run of byggr-soap against a ByggR simulator with two flaws, so it holds
passed and failed checks, long findings and notes. At 1200 px every column header is whole and the page needs no
sideways scrolling; on a phone's width each result is a block of labelled lines, still without sideways scrolling.
axe-core finds no violation at either width. Screenshots are kept in var/test-artifacts/conformance-report/ (the
folder is printed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import assert_accessible, kept_artifacts, launch, require_chromium

from brygga_adapters.soap import clear_soap_cache
from brygga_conformance.endpoint import Endpoint
from brygga_conformance.report import write_html
from brygga_conformance.runner import run_profile
from brygga_simulators import start_simulator

TIMEOUT_MS = 60_000
COLUMNS = ["Sample", "Outcome", "Findings", "What was done", "Seconds"]
WIDE, NARROW = {"width": 1200, "height": 900}, {"width": 390, "height": 844}

# Every column header whose text does not fit its cell on one line: cut off, or broken into pieces.
CUT_HEADERS = """() => [...document.querySelectorAll('th')].filter(th => {
    const text = document.createRange();
    text.selectNodeContents(th);
    return th.scrollWidth > th.clientWidth || text.getClientRects().length > 1;
}).map(th => th.textContent)"""
SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
# The label a narrow screen shows before each cell of the first failed result.
LABELS = "() => [...document.querySelector('#documents-intact tbody tr').children]" \
         ".filter(td => getComputedStyle(td).display !== 'none')" \
         ".map(td => getComputedStyle(td, '::before').content)"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_chromium()
    tmp = tmp_path_factory.mktemp("conformance-report")
    clear_soap_cache()
    with start_simulator("byggr", flaws=["truncates-documents", "renames-reply-element"]) as sim:
        run = run_profile("byggr-soap", Endpoint(sim.url), workdir=tmp / "work",
                          samples=["bygglov-person", "bygglov-organisation"], run_id="browser")
    clear_soap_cache()
    assert {r.outcome for r in run.results} == {"passed", "failed"}
    path = tmp / "report.html"
    write_html(run, path)
    return path


@pytest.fixture
def artifacts() -> Iterator[Path]:
    with kept_artifacts("conformance-report", "the conformance report") as folder:
        yield folder


def test_the_report_reads_at_1200_px_and_on_a_phone(report: Path, artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport=WIDE)
            page.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)
            page.goto(report.as_uri())
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Conformance report: ByggR ArendeExportWS (SOAP)")

            # 1200 px: a table per check, its headers whole, nothing to scroll sideways.
            documents = page.get_by_role("table", name="The documents arrive intact (sha256) documents-intact")
            expect(documents.get_by_role("columnheader")).to_have_text(COLUMNS)
            failed = documents.get_by_role("row").filter(has_text="bygglov-person")
            expect(failed.get_by_role("cell").nth(1)).to_have_text("failed")
            expect(failed).to_contain_text("came back changed: GetDocument of dokId")
            assert page.evaluate(CUT_HEADERS) == []
            assert page.evaluate(SIDEWAYS) == 0
            page.screenshot(path=str(artifacts / "1-report-1200px.png"), full_page=True)
            assert_accessible(page, artifacts / "axe-1200px.txt")

            # A phone: each result a block of labelled lines (an empty cell left out), nothing to scroll sideways.
            page.set_viewport_size(NARROW)
            assert page.evaluate(SIDEWAYS) == 0
            assert page.evaluate(LABELS) == ['"Sample"', '"Outcome"', '"Findings"', '"What was done"', '"Seconds"']
            expect(page.get_by_text("came back changed: GetDocument of dokId").first).to_be_visible()
            page.locator("#documents-intact").screenshot(path=str(artifacts / "2-documents-intact-390px.png"))
            page.screenshot(path=str(artifacts / "3-report-390px.png"), full_page=True)
            assert_accessible(page, artifacts / "axe-390px.txt")
        finally:
            browser.close()
