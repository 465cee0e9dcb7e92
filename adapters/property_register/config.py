"""The adapter's route config: the register's request and answer shape, declared so no Python is needed.

Checked before anything runs (``brygga.plugins.configure``). Secrets never live here: credentials come from the
connection.
"""

from __future__ import annotations

from typing import Any

from brygga.errors import ConfigError

_NAME = "^[A-Za-z0-9_.-]{1,64}$"
_FIELD_PATH = "^[A-Za-z0-9_-]{1,64}(\\.[A-Za-z0-9_-]{1,64}){0,7}$"

CONFIG_SPEC: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Property register lookup (REST/JSON)",
    "description": "Resolves a fastighetsbeteckning to its fastighetsnyckel (FNR) and Lantmäteriet object identity "
    "with GET {connection URL}{path}?{query_parameter}=<designation>.",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "path": {
            "type": "string",
            # Appended to the connection's URL: no query, fragment, host or parent steps can sneak in.
            "pattern": "^(?!.*\\.\\.)/[A-Za-z0-9._~%/-]*$",
            "default": "/fastigheter",
            "description": "The search resource, relative to the connection's URL.",
        },
        "query_parameter": {
            "type": "string",
            "pattern": _NAME,
            "default": "beteckning",
            "description": "Query parameter that carries the designation.",
        },
        "fixed_query": {
            "type": "object",
            "propertyNames": {"pattern": _NAME},
            "additionalProperties": {"type": "string", "maxLength": 200},
            "default": {},
            "description": "Query parameters sent with every search, e.g. {kommunkod: '1881', status: 'gällande'}.",
        },
        "results_field": {
            "type": ["string", "null"],
            "pattern": _FIELD_PATH,
            "default": None,
            "description": "Dotted path to the list of hits when the answer wraps it (e.g. 'data.fastigheter'); "
            "null when the answer is the list itself (or one object).",
        },
        "designation_field": {
            "type": "string",
            "pattern": _FIELD_PATH,
            "default": "beteckning",
            "description": "Field of a hit holding its fastighetsbeteckning (dotted path).",
        },
        "fastighetsnyckel_field": {
            "type": "string",
            "pattern": _FIELD_PATH,
            "default": "fnr",
            "description": "Field of a hit holding the fastighetsnyckel (FNR), an integer (dotted path).",
        },
        "object_identity_field": {
            "type": "string",
            "pattern": _FIELD_PATH,
            "default": "objektidentitet",
            "description": "Field of a hit holding Lantmäteriet's object identity, a UUID (dotted path).",
        },
        "cache_seconds": {
            "type": "integer",
            "minimum": 0,
            "maximum": 86400,
            "default": 3600,
            "description": "How long answers (not-found included) are kept in process; 0 turns the cache off.",
        },
    },
}


def check_config(config: dict[str, Any]) -> None:
    """Rules JSON Schema cannot say: the designation parameter must not also be a fixed one."""
    if config["query_parameter"] in config["fixed_query"]:
        raise ConfigError(
            "property-register config/fixed_query: must not set the query_parameter too "
            "(rule: the designation parameter is set per lookup)"
        )
