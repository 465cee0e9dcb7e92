"""GET /schemas, /schemas/{name} and /schemas/{name}/examples: every published schema listed with links that lead to
it, the schema a vendor validates against, its examples verbatim; unknown names and bad versions refused with a
problem that lists what there is and never repeats what the URL held."""

from __future__ import annotations

import json

from validation_api_client import Api, assert_problem

from brygga.catalog import invalid_examples, resolve_schema, schema_catalog, valid_examples

PERSONNUMMER = "198503142385"  # of the test number series; stands for anything personal a caller might put in a URL


def test_every_catalog_entry_is_listed_and_its_links_lead_to_it(api: Api):
    answer = api.get("/schemas")
    assert answer.status == 200 and answer.headers["content-type"] == "application/json"
    listed = answer.json()["schemas"]
    catalog = schema_catalog()
    assert [item["spec"] for item in listed] == [entry.spec for entry in catalog]
    for item, entry in zip(listed, catalog, strict=True):
        assert (item["name"], item["kind"], item["version"], item["id"], item["current"]) == \
            (entry.name, entry.kind, entry.version, entry.id, entry.current)
        assert item["title"] == entry.title and " / " in item["title"] and item["description"] == entry.description
        fetched = api.get(item["schema_url"])
        assert fetched.status == 200 and fetched.headers["content-type"] == "application/schema+json"
        assert fetched.json() == entry.own_schema() and fetched.json()["$id"] == entry.id
        if entry.current:
            examples = api.get(item["examples_url"])
            assert examples.status == 200 and examples.json()["schema"] == entry.spec
        else:
            assert item["examples_url"] is None


def test_a_schema_is_the_current_one_unless_a_version_or_prefix_asks_for_another(api: Api):
    current = api.get("/schemas/case").json()
    assert current["$id"] == resolve_schema("case").id and "/1.1.0/" in current["$id"]
    for version in ("1.0", "1.0.0"):
        assert api.get("/schemas/case", version=version).json()["$id"] == resolve_schema("case@1.0.0").id
    # A case type's own file (its details), not the composed case: that is what `schema=bygglov` validates against.
    bygglov = api.get("/schemas/bygglov", version="1").json()
    assert bygglov == json.loads(resolve_schema("bygglov").source.read_text(encoding="utf-8"))
    assert api.get("/schemas/status-event").json()["$id"] == resolve_schema("status-event").id


def test_an_unknown_schema_or_version_is_404_listing_what_there_is(api: Api):
    names = ", ".join(dict.fromkeys(entry.name for entry in schema_catalog()))
    assert_problem(api.get("/schemas/eldstad"), 404, "no schema named 'eldstad'", f"known: {names}")
    assert_problem(api.get("/schemas/case", version="9"), 404, "has no version 9", "available: 1.0.0, 1.1.0")
    assert_problem(api.get("/schemas/eldstad/examples"), 404, "no schema named 'eldstad'")


def test_what_is_not_a_schema_name_is_not_repeated_back(api: Api):
    for path in (f"/schemas/{PERSONNUMMER}", "/schemas/Anna%20Andersson/examples"):
        problem = assert_problem(api.get(path), 404, "not a schema name", "known: case")
        assert PERSONNUMMER not in problem["detail"] and "Anna" not in problem["detail"]


def test_a_version_that_is_not_one_is_422_naming_the_parameter_not_the_value(api: Api):
    problem = assert_problem(api.get("/schemas/case", version=PERSONNUMMER[:8] + "-x"), 422, "query.version",
                             "should match pattern")
    assert PERSONNUMMER[:8] not in problem["detail"].split("pattern")[0]


def test_the_examples_are_the_catalogs_verbatim_with_their_expected_errors(api: Api):
    for name in ("case", "bygglov", "status-event"):
        entry = resolve_schema(name)
        answer = api.get(f"/schemas/{name}/examples").json()
        assert answer["valid"] == [{"name": e.name, "part": e.part, "document": e.document}
                                   for e in valid_examples(entry)]
        assert answer["invalid"] == [{"name": e.name, "description": e.description, "document": e.document,
                                      "errors": [{"path": p, "rule": r} for p, r in e.errors]}
                                     for e in invalid_examples(entry)]
    status = api.get("/schemas/status-event/examples").json()
    assert len(status["valid"]) >= 1 and len(status["invalid"]) >= 2
    assert {"path": "/documents/0/id", "rule": "required"} in \
        next(e for e in status["invalid"] if e["name"] == "document-without-id")["errors"]


def test_other_paths_and_methods_answer_with_a_problem(api: Api):
    assert_problem(api.get("/nothing-here"), 404, "no such endpoint", "/openapi.json")
    answer = api.get("/validate")
    assert_problem(answer, 405, "does not take that method")
    assert answer.headers["allow"] == "POST"
    assert_problem(api.request("DELETE", "/schemas/case"), 405)
