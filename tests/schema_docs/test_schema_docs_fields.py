"""The field table of a schema: every property by its JSON path, through local $refs, $defs, items, other keys, and
an embedded resource referred to by its $id, with its type, required flag and constraints; rules listed apart."""

from __future__ import annotations

from brygga.schema_docs.fields import Constraint, schema_table

SCHEMA = {
    "$id": "https://example.test/root/1.0.0/root.schema.json",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "items"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 10, "description": "Namn / Name", "examples": ["a"]},
        "items": {"type": "array", "maxItems": 3, "items": {"$ref": "#/$defs/item"}},
        "tags": {"type": "object", "additionalProperties": {"type": "string", "pattern": "^[a-z]+$"}},
        "a/b": {"type": "integer", "minimum": 0},
        "node": {"$ref": "#/$defs/node"},
        "nested": {"$ref": "https://example.test/nested/1.0.0/nested.schema.json"},
        "elsewhere": {"$ref": "https://example.test/other/1.0.0/other.schema.json"},
        "dangling": {"$ref": "#/$defs/missing"},
    },
    "$defs": {
        "item": {
            "description": "Sak / Item",
            "type": "object",
            "required": ["kind"],
            "properties": {"kind": {"enum": ["x", "y"]}, "size": {"type": ["integer", "null"]}},
            "if": {"properties": {"kind": {"const": "x"}}},
            "then": {"required": ["size"]},
        },
        "node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"}}},
        "nested": {
            "$id": "https://example.test/nested/1.0.0/nested.schema.json",
            "type": "object",
            "properties": {"inner": {"$ref": "#/$defs/inner"}},  # resolves inside the nested resource
            "$defs": {"inner": {"type": "boolean", "description": "the nested one"}},
        },
        "other": {
            "$id": "https://example.test/other/1.0.0/other.schema.json",
            "description": "documented on its own page",
            "type": "object",
            "properties": {"hidden": {"type": "string"}},
        },
        "inner": {"type": "string", "description": "the root's, not the one meant"},
    },
    "allOf": [{"description": "En regel / A rule", "not": {"required": ["tags", "node"]}}],
}


def _by_path():
    table = schema_table(SCHEMA, documented_elsewhere={"https://example.test/other/1.0.0/other.schema.json"})
    return {field.path: field for field in table.fields}, table.rules


def test_every_property_by_its_path_in_order():
    fields, _ = _by_path()
    assert list(fields) == ["/name", "/items", "/items/*", "/items/*/kind", "/items/*/size", "/tags", "/tags/*",
                            "/a~1b", "/node", "/node/child", "/nested", "/nested/inner", "/elsewhere", "/dangling"]


def test_type_required_constraints_description_examples():
    fields, _ = _by_path()
    name = fields["/name"]
    assert (name.type, name.required, name.description, name.examples) == ("string", True, "Namn / Name", ('"a"',))
    assert name.constraints == (Constraint("minLength", "1"), Constraint("maxLength", "10"))
    assert fields["/items"].required is True and fields["/items"].type == "array"
    assert fields["/items/*"].required is None  # an item is not a named property
    assert fields["/items/*"].description == "Sak / Item"
    assert fields["/items/*/kind"].type == "enum" and fields["/items/*/kind"].required is True
    assert fields["/items/*/kind"].constraints == (Constraint("enum", '"x", "y"'),)
    assert fields["/items/*/size"].type == "integer or null" and fields["/items/*/size"].required is False
    assert fields["/tags/*"].constraints == (Constraint("pattern", "^[a-z]+$"),)
    assert fields["/a~1b"].constraints == (Constraint("minimum", "0"),)


def test_recursion_stops_and_a_dangling_ref_shows_as_written():
    fields, _ = _by_path()
    assert fields["/node/child"].type == "object"
    assert "/node/child/child" not in fields
    assert Constraint("$ref", "#/$defs/missing") in fields["/dangling"].constraints


def test_an_embedded_resource_resolves_its_own_refs_or_points_to_its_page():
    fields, _ = _by_path()
    assert fields["/nested/inner"].description == "the nested one"
    elsewhere = fields["/elsewhere"]
    assert elsewhere.see == "https://example.test/other/1.0.0/other.schema.json"
    assert elsewhere.description == "documented on its own page"
    assert "/elsewhere/hidden" not in fields


def test_rules_are_listed_with_their_description_or_as_json():
    _, rules = _by_path()
    assert [(rule.path, rule.text) for rule in rules] == [
        ("/", "En regel / A rule"),
        ("/items/*", '{"if": {"properties": {"kind": {"const": "x"}}}, "then": {"required": ["size"]}}'),
    ]


def test_a_prefix_places_a_case_types_file_under_details():
    table = schema_table({"type": "object", "properties": {"measure": {"type": "string"}}}, prefix="/details/bygglov")
    assert [field.path for field in table.fields] == ["/details/bygglov/measure"]
