"""A vendor reads the schema reference pages in a real browser (Debian's chromium, driven by Playwright; no browser
download): the site `brygga docs` writes, served over HTTP by a local server, with JavaScript off and every request
that leaves the server refused and noted. From the index to the bygglov page, to its examples, to one example by
its link; the schema file downloads; axe-core finds no violation on any page. Screenshots are kept in
var/test-artifacts/schema-docs/ (the folder is printed).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from browser import assert_accessible, kept_artifacts, launch, require_chromium

from brygga.catalog import invalid_examples, resolve_schema, schema_catalog, valid_examples
from brygga.schema_docs.render import build_docs, page_href

TIMEOUT_MS = 60_000


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # the test's output is the browser's findings
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The generated site over HTTP on a free local port; its base URL."""
    require_chromium()
    site = tmp_path_factory.mktemp("schema-docs") / "site"
    build_docs(site)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture
def artifacts() -> Iterator[Path]:
    with kept_artifacts("schema-docs", "the schema docs") as folder:
        yield folder


def test_a_vendor_finds_the_bygglov_examples(served: str, artifacts: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    bygglov = resolve_schema("bygglov")
    whole_case = next(example for example in valid_examples(bygglov) if example.part == "document")
    (first_invalid, *_) = invalid_examples(bygglov)
    left_the_server: list[str] = []

    def only_the_site(route: Any) -> None:
        if route.request.url.startswith(served):
            route.continue_()
        else:
            left_the_server.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
            context.route("**/*", only_the_site)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)

            # 1. The index lists every schema.
            page.goto(f"{served}/index.html")
            expect(page.get_by_role("heading", level=1)).to_have_text("Brygga's canonical schemas")
            schemas = page.get_by_role("table", name="Every published schema, with its version")
            expect(schemas.get_by_role("row")).to_have_count(len(schema_catalog()) + 1)
            page.screenshot(path=str(artifacts / "1-index.png"), full_page=True)

            # 2. Its link to the bygglov page.
            schemas.get_by_role("link", name="bygglov", exact=True).click()
            expect(page).to_have_url(f"{served}/bygglov.html")
            expect(page.get_by_role("heading", level=1)).to_contain_text("Building permit")
            expect(page.get_by_text(bygglov.id, exact=True)).to_be_visible()

            # 3. Its examples: a whole case, as it is in the example file.
            expect(page.get_by_role("heading", name="Valid examples", level=2, exact=True)).to_be_visible()
            example = page.get_by_role("region", name=whole_case.name, exact=True)
            assert json.loads(example.locator("pre").inner_text()) == whole_case.document
            expect(example).to_contain_text(whole_case.document["details"]["bygglov"]["description"])

            # 4. The same example by its link from "how a case of this type looks".
            page.get_by_role("link", name=whole_case.name, exact=True).click()
            expect(page).to_have_url(f"{served}/bygglov.html#example-{whole_case.name}")
            expect(example.get_by_role("heading", level=3)).to_be_in_viewport()
            page.screenshot(path=str(artifacts / "2-bygglov-example.png"))

            # 5. An invalid example (by its anchor) with the errors it produces, in Swedish and English.
            page.goto(f"{served}/bygglov.html#invalid-{first_invalid.name}")
            invalid = page.get_by_role("region", name=first_invalid.name, exact=True)
            expect(invalid.get_by_role("heading", level=3)).to_be_in_viewport()
            errors = invalid.get_by_role("table", name=f"Errors {first_invalid.name} produces")
            for path, rule in first_invalid.errors:
                header = page.get_by_role("rowheader", name=path or "(the document)", exact=True)
                expect(errors.get_by_role("row").filter(has=header)).to_contain_text(rule)
            page.screenshot(path=str(artifacts / "3-bygglov-invalid-example.png"))
            page.screenshot(path=str(artifacts / "4-bygglov-page.png"), full_page=True)

            # 6. The schema file downloads and is the schema.
            href = page.get_by_role("link", name=f"bygglov-{bygglov.version}.schema.json").get_attribute("href")
            fetched = page.request.get(f"{served}/{href}")
            assert fetched.ok and fetched.json() == bygglov.own_schema()
            assert left_the_server == [], "the pages asked for something beyond the site"
            context.close()

            # 7. axe-core on every page (axe itself needs JavaScript; the pages do not).
            checked = browser.new_page()
            checked.set_default_timeout(TIMEOUT_MS)
            for name in ["index.html", *(page_href(entry) for entry in schema_catalog())]:
                checked.goto(f"{served}/{name}")
                assert_accessible(checked, artifacts / f"axe-{name}.txt")
        finally:
            browser.close()
