"""The schema catalog: what `--schema NAME[@VERSION]` may name, and what each entry validates against."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from brygga.canonical import CaseTypeRegistry, composed_schema
from brygga.catalog import UnknownSchema, resolve_schema, schema_catalog, valid_examples
from brygga.resources import resource

BUNDLED = CaseTypeRegistry.load()


def test_the_catalog_holds_the_case_every_bundled_case_type_the_status_event_and_the_released_case() -> None:
    specs = [entry.spec for entry in schema_catalog(BUNDLED)]
    types = [f"{name}@{BUNDLED.get(name).id.split('/')[-2]}" for name in BUNDLED.names]
    assert specs == ["case@1.1.0", *types, "status-event@1.0.0", "case@1.0.0"]


@pytest.mark.parametrize(("spec", "expected"), [
    ("case", "case@1.1.0"), ("case@1", "case@1.1.0"), ("case@1.1", "case@1.1.0"), ("case@1.0", "case@1.0.0"),
    ("case@1.0.0", "case@1.0.0"), ("bygglov", "bygglov@1.1.0"), ("status-event@1", "status-event@1.0.0"),
])
def test_a_version_is_whole_or_a_prefix_and_the_newest_match_wins(spec: str, expected: str) -> None:
    assert resolve_schema(spec, BUNDLED).spec == expected


@pytest.mark.parametrize(("spec", "says"), [
    ("eldstad", "no schema named 'eldstad'; known: case, attefall, bygglov"),
    ("bygglov@2", "schema bygglov has no version 2; available: 1.1.0"),
    ("case@1.9.0", "available: 1.0.0, 1.1.0"),
    ("Case!", "is not NAME or NAME@VERSION"),
])
def test_an_unknown_name_or_version_is_refused_listing_what_there_is(spec: str, says: str) -> None:
    with pytest.raises(UnknownSchema) as caught:
        resolve_schema(spec, BUNDLED)
    assert says in str(caught.value)


def test_a_case_type_entry_validates_a_whole_case_of_that_type_only() -> None:
    bygglov = resolve_schema("bygglov", BUNDLED)
    validator = jsonschema.Draft202012Validator(bygglov.document_schema())
    case = json.loads(resource("schemas", "canonical", "examples", "bygglov-person.json").read_text("utf-8"))
    assert validator.is_valid(case)
    felanmalan = json.loads(resource("schemas", "canonical", "examples", "felanmalan.json").read_text("utf-8"))
    assert jsonschema.Draft202012Validator(composed_schema(BUNDLED)).is_valid(felanmalan)
    assert [e.validator for e in validator.iter_errors(felanmalan)] == ["const"]


def test_own_schemas_are_self_contained_files_a_vendor_can_fetch() -> None:
    for entry in schema_catalog(BUNDLED):
        schema = entry.own_schema()
        assert schema["$id"] == entry.id
        jsonschema.Draft202012Validator.check_schema(schema)
    assert resolve_schema("case", BUNDLED).own_schema() == composed_schema(BUNDLED)
    assert resolve_schema("bygglov", BUNDLED).own_schema() == json.loads(BUNDLED.path("bygglov").read_text("utf-8"))


def test_a_kommuns_own_case_type_is_in_the_catalog(tmp_path: Path) -> None:
    schema = BUNDLED.schema("felanmalan")
    schema["$id"] = schema["$id"].replace("felanmalan", "eldstad")
    (tmp_path / "eldstad.v1.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    registry = CaseTypeRegistry.load([tmp_path])
    assert resolve_schema("eldstad", registry).source == tmp_path / "eldstad.v1.schema.json"


def test_a_case_types_examples_are_its_cases_and_its_own_details() -> None:
    examples = valid_examples(resolve_schema("bygglov", BUNDLED))
    documents = [e for e in examples if e.part == "document"]
    assert documents and all(e.document["caseType"] == "bygglov" for e in documents)
    assert [e.document for e in examples if e.part == "details"] == BUNDLED.schema("bygglov")["examples"]
    assert valid_examples(resolve_schema("case@1.0.0", BUNDLED)) == []
