"""The simulator's own OpenAPI 3.1 document, built from its settings so it always describes what it serves.

Served at ``{root}/openapi.json``. Its ``Fastighet`` schema is also what tests check the answers against.
"""

from __future__ import annotations

from typing import Any

from brygga_simulators.property_register.records import CURRENT, DEREGISTERED

FASTIGHET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["beteckning", "fnr", "objektidentitet", "kommunkod", "status"],
    "properties": {
        "beteckning": {"type": "string", "description": "Fastighetsbeteckning, e.g. KUMLA STENEN 1:23."},
        "fnr": {"type": "integer", "minimum": 1, "description": "Fastighetsnyckel, the register's key."},
        "objektidentitet": {
            "type": ["string", "null"],
            "format": "uuid",
            "description": "Lantmäteriet's object identity; null when the register lacks it.",
        },
        "kommunkod": {"type": "string", "pattern": "^[0-9]{4}$"},
        "kommun": {"type": "string"},
        "trakt": {"type": "string"},
        "blockenhet": {"type": "string", "description": "Block and unit, e.g. 1:23; S:3; 12 (kvarter form)."},
        "status": {"enum": [CURRENT, DEREGISTERED]},
    },
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["status", "title"],
    "properties": {"status": {"type": "integer"}, "title": {"type": "string"}, "detail": {"type": "string"}},
}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def openapi_document(root: str, resource: str, query_parameter: str, not_found: str) -> dict[str, Any]:
    not_found_text = (
        "No unit matches (this register answers 404 instead of an empty list)."
        if not_found == "404"
        else "The resource path is wrong (an unknown designation gives an empty list)."
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Fastighetsregister (Brygga simulator)",
            "version": "1.0.0",
            "description": "A municipal property register's search: fastighetsbeteckning to fastighetsnyckel (FNR) "
            "and Lantmäteriet's object identity. Written for Brygga's simulator.",
        },
        "servers": [{"url": root}],
        "security": [{"basic": []}, {"bearer": []}],
        "paths": {
            resource: {
                "get": {
                    "operationId": "searchFastigheter",
                    "summary": "Units whose designation starts with the given one (case and spacing ignored).",
                    "parameters": [
                        {"name": query_parameter, "in": "query", "required": True, "schema": {"type": "string"}},
                        {"name": "kommunkod", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}$"}},
                        {"name": "status", "in": "query", "schema": {"enum": [CURRENT, DEREGISTERED]}},
                    ],
                    "responses": {
                        "200": {
                            "description": "Matching units, possibly none.",
                            "content": {
                                "application/json": {
                                    "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Fastighet"}}
                                }
                            },
                        },
                        "400": _problem("A required parameter is missing or empty, or an unknown one was given."),
                        "401": _problem("Credentials are missing or wrong."),
                        "404": _problem(not_found_text),
                    },
                }
            }
        },
        "components": {
            "schemas": {"Fastighet": FASTIGHET_SCHEMA, "Problem": PROBLEM_SCHEMA},
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }
