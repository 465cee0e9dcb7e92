"""`brygga docs`: a page per schema in the catalog with every property of the schema, its examples verbatim, the
invalid examples with the errors they produce (messages in Swedish and English from the validator), the schema
files to download, the validation API's OpenAPI document, and text from a schema escaped, never markup."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from lxml import html

from brygga.canonical import CaseTypeRegistry
from brygga.catalog import invalid_examples, schema_catalog, valid_examples
from brygga.catalog.api import create_app
from brygga.catalog.validate import validate_document
from brygga.cli import main
from brygga.schema_docs.render import MARKER, OPENAPI_FILE, DocsFolderInUse, build_docs, page_href, schema_href

DATA_KEYWORDS = {"const", "enum", "examples", "default"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "site"
    build_docs(out)
    return out


def _page(site: Path, name: str) -> Any:
    return html.fromstring((site / name).read_text(encoding="utf-8"))


def _field_paths(page: Any) -> list[str]:
    return [th.text_content() for th in page.xpath("//table[@class='fields']/tbody/tr/th[@scope='row']")]


def _property_names(schema: Any) -> set[str]:
    """Every name under any ``properties`` of a schema, found without the page's own walk."""
    names: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("properties", "$defs") and isinstance(value, dict):  # keys are names, values schemas
                names |= set(value) if key == "properties" else set()
                for subschema in value.values():
                    names |= _property_names(subschema)
            elif key not in DATA_KEYWORDS:
                names |= _property_names(value)
    elif isinstance(schema, list):
        for item in schema:
            names |= _property_names(item)
    return names


def test_the_index_lists_every_schema_with_its_page_version_title_and_file(site: Path) -> None:
    index = _page(site, "index.html")
    rows = index.xpath("//table/tbody/tr")
    catalog = schema_catalog()
    assert len(rows) == len(catalog)
    for row, entry in zip(rows, catalog, strict=True):
        links = row.xpath(".//a/@href")
        assert links == [page_href(entry), schema_href(entry)]
        text = row.text_content()
        assert entry.version in text and entry.title.split(" / ")[-1] in text
        assert ("last release" in text) is (not entry.current)
    assert "brygga validate" in index.text_content() and "/validate?schema=" in index.text_content()


def test_every_entry_has_its_page_and_its_schema_file(site: Path) -> None:
    for entry in schema_catalog():
        page = _page(site, page_href(entry))
        assert entry.id in page.text_content() and entry.version in page.text_content()
        assert page.xpath("//a[@download]/@href") == [schema_href(entry)]
        assert json.loads((site / schema_href(entry)).read_text(encoding="utf-8")) == entry.own_schema()
    assert (site / "style.css").is_file() and (site / MARKER).is_file()


def test_each_page_lists_each_property_of_its_schema(site: Path) -> None:
    for entry in schema_catalog():
        paths = _field_paths(_page(site, page_href(entry)))
        if entry.kind == "case" and entry.current:
            # The core's own fields; each case type is one row under details, its fields are on its own page.
            expected = _property_names(json.loads(entry.source.read_text(encoding="utf-8")))
            assert {f"/details/{name}" for name in entry.registry.names} <= set(paths)
        else:
            expected = _property_names(entry.own_schema())
        shown = {path.rsplit("/", 1)[-1] for path in paths}
        assert expected <= shown, f"{entry.spec}: not on its page: {sorted(expected - shown)}"


def test_a_field_row_shows_type_required_constraints_description_and_examples(site: Path) -> None:
    page = _page(site, "bygglov.html")
    rows = {row.xpath("./th")[0].text_content(): [td.text_content() for td in row.xpath("./td")]
            for row in page.xpath("//table[@class='fields']/tbody/tr")}
    kind, required, constraints, described = rows["/details/bygglov/measure"]
    assert (kind, required) == ("string", "yes")
    assert '"nybyggnad"' in constraints and '"rivning"' in constraints and "enum" in constraints
    assert "Åtgärd / Measure" in described and 'Examples: "nybyggnad"' in described
    assert rows["/details/bygglov/buildingType"][:2] == ["string", "no"]
    assert rows["/details/bygglov/vaConnection/services/*"][0] == "string"
    case = _page(site, "case.html")
    rows = {row.xpath("./th")[0].text_content(): row for row in case.xpath("//table[@class='fields']/tbody/tr")}
    assert "format: personnummer" in rows["/parties/*/personnummer"].text_content()
    assert rows["/details/bygglov"].xpath(".//a/@href") == ["bygglov.html"]


def test_a_case_type_page_says_how_a_case_of_it_looks(site: Path) -> None:
    section = _page(site, "bygglov.html").xpath("//h2[@id='case']/following-sibling::*[position() <= 3]")
    text = " ".join(element.text_content() for element in section)
    assert '"caseType": "bygglov"' in text and "details.bygglov" in text and "must hold it" in text
    assert '"details": {"fardtjanst"' in _page(site, "fardtjanst.html").text_content()
    assert "may leave it out" in _page(site, "fardtjanst.html").text_content()


def test_valid_examples_appear_verbatim_with_anchors(site: Path) -> None:
    for entry in schema_catalog():
        page = _page(site, page_href(entry))
        examples = valid_examples(entry)
        assert entry.current is bool(examples)
        for example in examples:
            (heading,) = page.xpath(f"//h3[@id='example-{example.name}']")
            (pre,) = heading.getparent().xpath(".//pre")
            assert pre.text_content() == json.dumps(example.document, ensure_ascii=False, indent=2)


def test_invalid_examples_show_their_errors_and_the_validators_messages(site: Path) -> None:
    shown = 0
    for entry in schema_catalog():
        if not entry.current:
            continue  # the released schema's page shows none (test below)
        page = _page(site, page_href(entry))
        for example in invalid_examples(entry):
            (heading,) = page.xpath(f"//h3[@id='invalid-{example.name}']")
            section = heading.getparent()
            (pre,) = section.xpath(".//pre")
            assert json.loads(pre.text_content()) == example.document
            rows = section.xpath(".//table[@class='errors']/tbody/tr")
            errors = [(row.xpath("./th")[0].text_content().replace("(the document)", ""),
                       row.xpath("./td")[0].text_content()) for row in rows]
            assert sorted(errors) == sorted(example.errors), example.source
            for lang, column in (("sv", 1), ("en", 2)):
                messages = {problem.message for problem in validate_document(example.document, entry, lang=lang)}
                for row in rows:
                    cell = row.xpath("./td")[column]
                    assert cell.get("lang", "en") == lang
                    assert cell.text_content().strip() and any(m in cell.text_content() for m in messages)
            for part in example.description.split(" / "):
                assert part.strip() in section.text_content()
            shown += 1
    assert shown == len(invalid_examples()) and shown > 0


def test_the_released_case_is_its_own_page_marked_last_release(site: Path) -> None:
    (released,) = [entry for entry in schema_catalog() if not entry.current]
    page = _page(site, page_href(released))
    assert page_href(released) == f"case-{released.version}.html"
    notice = page.xpath("//p[contains(@class, 'notice')]")[0].text_content()
    assert "Last release" in notice and "case.html" in page.xpath("//p[contains(@class, 'notice')]//a/@href")
    assert not page.xpath("//h2[@id='invalid']")  # the invalid examples are written against the current schemas


def test_the_validation_apis_openapi_document_is_copied_and_linked(site: Path) -> None:
    assert json.loads((site / OPENAPI_FILE).read_text(encoding="utf-8")) == create_app().openapi()
    assert OPENAPI_FILE in _page(site, "index.html").xpath("//a/@href")


def test_pages_are_structured_for_every_reader(site: Path) -> None:
    for name in ["index.html", *(page_href(entry) for entry in schema_catalog())]:
        page = _page(site, name)
        assert page.get("lang") == "en"
        assert page.xpath("//body/a[1]/@href") == ["#main"] and page.xpath("//main[@id='main']")
        levels = [int(h.tag[1]) for h in page.iter("h1", "h2", "h3", "h4")]
        assert levels[0] == 1 and levels.count(1) == 1, name
        assert all(b - a <= 1 for a, b in pairwise(levels)), f"{name}: headings skip a level"
        assert all(th.get("scope") in ("col", "row") for th in page.iter("th")), name
        assert not page.xpath("//script") and not page.xpath("//link[starts-with(@href, 'http')]"), name


def _registry_with_markup(folder: Path) -> CaseTypeRegistry:
    folder.mkdir()
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://schemas.brygga.se/canonical/types/eldstad/1.0.0/eldstad.schema.json",
        "title": "Eldstad <script>alert(1)</script> / Fireplace, v1",
        "description": "Eldstadsuppgifter / Fireplace details: <script>alert(2)</script>",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "kind": {"description": "Typ / Kind: <img src=x onerror=alert(3)>", "type": "string",
                     "examples": ["</pre><script>alert(4)</script>"]},
        },
        "examples": [{"kind": "<b>kamin</b>"}],
    }
    (folder / "eldstad.v1.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    return CaseTypeRegistry.load([folder])


def test_text_from_a_schema_is_escaped(tmp_path: Path) -> None:
    registry = _registry_with_markup(tmp_path / "types")
    build_docs(tmp_path / "site", schema_catalog(registry))
    text = (tmp_path / "site" / "eldstad.html").read_text(encoding="utf-8")
    page = html.fromstring(text)
    assert not page.xpath("//script | //img | //b")
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in text and "&lt;img src=x onerror=alert(3)&gt;" in text
    assert "alert(1)" in page.xpath("//h1")[0].text_content()
    (pre,) = page.xpath("//h3[@id='example-eldstad-details-1']/following-sibling::pre")
    assert json.loads(pre.text_content()) == {"kind": "<b>kamin</b>"}
    assert "eldstad" in [a.text_content() for a in html.fromstring(
        (tmp_path / "site" / "index.html").read_text(encoding="utf-8")).xpath("//table/tbody/tr/th/a")]


def test_a_rerun_replaces_its_own_site_but_never_a_folder_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_docs(out)
    (out / "stale.html").write_text("from an earlier run", encoding="utf-8")
    build_docs(out)
    assert not (out / "stale.html").exists() and (out / "index.html").is_file()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(DocsFolderInUse, match="did not write"):
        build_docs(foreign)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]


def test_brygga_docs_writes_the_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "site"
    assert main(["docs", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{len(schema_catalog())} schema pages" in printed and str(out / "index.html") in printed
    assert (out / "bygglov.html").is_file()
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    assert main(["docs", "--out", str(foreign)]) == 2
    assert str(foreign) in capsys.readouterr().err
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "keep me"
